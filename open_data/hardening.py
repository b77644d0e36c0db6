"""HTTP hardening for the public open-data portal and API (pure ASGI, no framework coupling).

:class:`Hardening` wraps an ASGI app and, for every HTTP request:

* refuses a query string over :data:`MAX_QUERY_BYTES` (414) and a body over ``max_body`` bytes
  (413, checked against ``Content-Length`` and again while the body streams in);
* limits each client to ``rate`` requests per second with bursts of ``burst`` (token bucket per
  client address; 429 with ``Retry-After``); the table of clients is bounded, so many addresses
  cannot exhaust memory;
* adds security headers to every response (``nosniff``, no framing, no referrer, a content
  security policy) and CORS for anonymous reads (``*`` origin, GET/POST/OPTIONS, no credentials);
* answers errors as JSON in CKAN's shape without a stack trace.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_QUERY_BYTES = 8 * 1024
MAX_BODY_BYTES = 64 * 1024
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
# the portal's pages carry one inline <style>; nothing else is ever loaded or run
CSP_HTML = b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
CSP_OTHER = b"default-src 'none'; frame-ancestors 'none'"
CORS_HEADERS = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type"),
    (b"access-control-max-age", b"600"),
)


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets per client key: ``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(
        self, rate: float, burst: int, *, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate, self.burst, self.max_clients, self.clock = rate, burst, max_clients, clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0.0 when the request may go ahead, else the seconds until it would."""
        now = self.clock()
        with self._lock:
            b = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
            b.tokens = min(float(self.burst), b.tokens + (now - b.at) * self.rate)
            b.at = now
            wait = 0.0
            if b.tokens >= 1.0:
                b.tokens -= 1.0
            else:
                wait = (1.0 - b.tokens) / self.rate
            self._buckets[key] = b  # most recent last
            while len(self._buckets) > self.max_clients:  # forget the longest idle client (it had a full bucket)
                self._buckets.popitem(last=False)
            return wait


def error_body(kind: str, message: str) -> bytes:
    return json.dumps({"success": False, "error": {"__type": kind, "message": f"{kind}: {message}"}}).encode()


class RequestTooLarge(Exception):
    """Kept for callers that stream bodies themselves; the middleware answers 413 before the app runs."""


class Hardening:
    """Wrap ``app`` (see the module docstring). ``trust_forwarded_for``: take the client address from the
    first ``X-Forwarded-For`` entry (only behind a proxy that sets it; otherwise clients could pick their key)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float = 20.0,
        burst: int = 60,
        max_body: int = MAX_BODY_BYTES,
        max_query: int = MAX_QUERY_BYTES,
        trust_forwarded_for: bool = False,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.app = app
        self.limiter = limiter or RateLimiter(rate, burst)
        self.max_body, self.max_query = max_body, max_query
        self.trust_forwarded_for = trust_forwarded_for

    @property
    def state(self) -> Any:
        """The wrapped application's ``state`` (Starlette), so callers reach it through the wrapper."""
        return getattr(self.app, "state", None)

    def client_key(self, scope: Scope) -> str:
        if self.trust_forwarded_for:
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-for":
                    return value.decode("latin-1").split(",")[0].strip()[:64]
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    async def _reply(self, send: Send, status: int, kind: str, message: str, extra: tuple[Any, ...] = ()) -> None:
        body = error_body(kind, message)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
            *SECURITY_HEADERS,
            (b"content-security-policy", CSP_OTHER),
            *CORS_HEADERS,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query:
            await self._reply(send, 414, "Request Too Large", f"the query string is limited to {self.max_query} bytes")
            return
        wait = self.limiter.take(self.client_key(scope))
        if wait > 0:
            retry = str(max(1, int(wait + 0.999))).encode()
            await self._reply(
                send, 429, "Rate Limit", "too many requests from this client; retry later", ((b"retry-after", retry),)
            )
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body
            except ValueError:
                await self._reply(send, 400, "Bad request", "bad Content-Length header")
                return
            if too_big:
                await self._reply(
                    send, 413, "Request Too Large", f"the request body is limited to {self.max_body} bytes"
                )
                return
        if scope.get("method") == "OPTIONS":  # CORS preflight: nothing to run
            await send({"type": "http.response.start", "status": 204, "headers": [*CORS_HEADERS, *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": b""})
            return

        # read the (small, bounded) body first: a chunked body without Content-Length is counted
        # here, before any application code runs, then replayed to the app
        chunks: list[bytes] = []
        received = 0
        more = scope.get("method") in ("POST", "PUT", "PATCH", "DELETE")
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.max_body:
                await self._reply(
                    send, 413, "Request Too Large", f"the request body is limited to {self.max_body} bytes"
                )
                return
            more = bool(message.get("more_body"))
        replay: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def limited_receive() -> Message:
            if replay:
                return replay.pop()
            return await receive()

        started = False

        async def secured_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {n.lower() for n, _ in message.get("headers", [])}
                html = any(n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in message["headers"])
                add = [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                add.append((b"content-security-policy", CSP_HTML if html else CSP_OTHER))
                add += [(n, v) for n, v in CORS_HEADERS if n not in names]
                message = {**message, "headers": [*message.get("headers", []), *add]}
            await send(message)

        try:
            await self.app(scope, limited_receive, secured_send)
        except RequestTooLarge:
            if not started:
                await self._reply(
                    send, 413, "Request Too Large", f"the request body is limited to {self.max_body} bytes"
                )
        except Exception:  # the app's own handlers answer errors; this is the last line: no trace to the client
            import logging

            logging.getLogger(__name__).exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await self._reply(send, 500, "Internal Error", "internal error")

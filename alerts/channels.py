"""Delivery channels: webhook (signed), email (SMTP, CAP attached), MQTT, Apprise and a local outbox.

Every channel takes an :class:`OutboundMessage` and a target and either returns or raises
:class:`DeliveryError` (``permanent=True`` for errors a retry cannot fix, e.g. a refused target).
Receivers de-duplicate by the idempotency key carried by every channel.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import os
import smtplib
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Pantau-Signature"
TIMESTAMP_HEADER = "X-Pantau-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
CHANNELS = ("webhook", "email", "mqtt", "apprise", "outbox")


def redact_url_credentials(text: str) -> str:
    """``scheme://user:password@host`` -> ``scheme://user:[redacted]@host`` anywhere in ``text``."""
    from access.audit import redact

    return str(redact(text))


class DeliveryError(RuntimeError):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutboundMessage:
    idempotency_key: str
    delivery_id: str
    alert: Mapping[str, Any]  # JSON-able alert snapshot (alert_id, version, hazard, level, status, ...)
    cap_xml: bytes
    subject: str
    text: str
    topic_parts: tuple[str, ...]  # hazard, kota, kecamatan, kelurahan

    def json_body(self) -> bytes:
        payload = {**self.alert, "idempotency_key": self.idempotency_key, "delivery_id": self.delivery_id}
        return json.dumps(payload, sort_keys=True, default=str).encode()


class Channel(Protocol):
    name: str

    def send(self, msg: OutboundMessage, target: str, *, fmt: str = "json", secret: str | None = None) -> None: ...


# -- webhook -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookPolicy:
    """Which webhook targets are acceptable.

    Targets must resolve to public addresses only. The one way to a private, loopback or link-local
    target is the admin allow-list (``alerts.allowlist``: networks such as ``10.20.0.0/16`` or host
    names, each added by an administrator with a reason and audited). ``allowlist_source`` reads that
    list when a target is checked, so an entry removed stops deliveries at once; ``allowlist`` holds
    entries fixed in code (the pure tests of this module).
    """

    allowed_schemes: tuple[str, ...] = ("https",)
    timeout_s: float = 10.0
    replay_window_s: int = 300
    allowlist: tuple[str, ...] = ()
    allowlist_source: Callable[[], Sequence[str]] | None = field(default=None, compare=False, repr=False)

    def entries(self) -> tuple[str, ...]:
        """The allow-list now: the fixed entries and, when there is a source, what it holds."""
        live = tuple(self.allowlist_source()) if self.allowlist_source is not None else ()
        return tuple(self.allowlist) + live

    def allows(
        self,
        host: str,
        addr: ipaddress.IPv4Address | ipaddress.IPv6Address,
        entries: Sequence[str] | None = None,
    ) -> bool:
        """True when ``addr`` (resolved from ``host``) may be connected to."""
        if is_public(addr):
            return True
        for entry in self.entries() if entries is None else entries:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                if addr in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                if host.lower().rstrip(".") == entry.rstrip("."):
                    return True
        return False


def is_public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or addr in _SHARED  # carrier-grade NAT 100.64.0.0/10: not reachable from the internet either
    )


_SHARED = ipaddress.ip_network("100.64.0.0/10")


@dataclass(frozen=True)
class WebhookTarget:
    """A checked webhook URL: the address it resolved to is the one the delivery connects to."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    addr: str


def resolve_webhook(url: str, policy: WebhookPolicy = WebhookPolicy()) -> WebhookTarget:
    """Check ``url`` and resolve its host once; raise ``ValueError`` when it may not be delivered to.

    Every address the name resolves to must be allowed (one private answer among public ones is a
    rebinding attempt and refuses the target); the delivery then connects to the first of them, so a
    DNS answer that changes between the check and the connection cannot redirect it.
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme not in policy.allowed_schemes:
        raise ValueError(f"webhook scheme {parsed.scheme!r} not allowed (allowed: {', '.join(policy.allowed_schemes)})")
    host = parsed.hostname
    if not host:
        raise ValueError("webhook URL has no host")
    if parsed.username or parsed.password:
        raise ValueError("webhook URL must not carry credentials")
    try:
        port = parsed.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise ValueError("webhook URL has a bad port") from exc
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValueError(f"webhook host {host!r} does not resolve: {exc.__class__.__name__}") from exc
    addrs = []
    entries = policy.entries()  # read once per check (the admin allow-list may live in the ops DB)
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not policy.allows(host, addr, entries):
            raise ValueError(
                f"webhook host {host!r} resolves to non-public address {addr}"
                " (an administrator may allow a private network: pantau webhooks allow)"
            )
        addrs.append(str(addr))
    if not addrs:
        raise ValueError(f"webhook host {host!r} does not resolve")
    path = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
    return WebhookTarget(scheme, host, port, path, addrs[0])


def validate_webhook_url(url: str, policy: WebhookPolicy = WebhookPolicy()) -> None:
    """Raise ``ValueError`` unless ``url`` uses an allowed scheme and resolves only to allowed addresses."""
    resolve_webhook(url, policy)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to ``addr`` that says ``Host: host`` (the address checked, not a second lookup)."""

    def __init__(self, host: str, port: int, addr: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addr = addr

    def connect(self) -> None:
        self.sock = socket.create_connection((self._addr, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to ``addr`` with the certificate checked against ``host`` (SNI and hostname verification)."""

    def __init__(self, host: str, port: int, addr: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._addr = addr
        self._ctx = context

    def connect(self) -> None:
        sock = socket.create_connection((self._addr, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


def post_pinned(
    target: WebhookTarget,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    context: ssl.SSLContext | None = None,
) -> int:
    """POST ``body`` to the checked address of ``target``; returns the status. Redirects are never followed."""
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(
            target.host, target.port, target.addr, timeout, context or ssl.create_default_context()
        )
    else:
        conn = _PinnedHTTPConnection(target.host, target.port, target.addr, timeout)
    try:
        conn.request("POST", target.path, body=body, headers=dict(headers))
        resp = conn.getresponse()
        resp.read(64 * 1024)  # a receiver's answer is not used; do not read an unbounded one
        return int(resp.status)
    finally:
        conn.close()


def sign_webhook(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookVerificationError(ValueError):
    pass


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: float,
    *,
    window_s: int = 300,
    seen: set[str] | None = None,
) -> str:
    """Check a Pantau webhook request; returns its idempotency key or raises WebhookVerificationError.

    Rejects a bad or missing signature (tampered body), a timestamp outside ``window_s``
    (replay of an old request) and, when ``seen`` is given, a signature already accepted
    (replay inside the window); accepted signatures are added to ``seen``.
    """
    h = {k.lower(): v for k, v in headers.items()}
    sig = h.get(SIGNATURE_HEADER.lower())
    ts_raw = h.get(TIMESTAMP_HEADER.lower())
    if not sig or not ts_raw:
        raise WebhookVerificationError("missing signature or timestamp header")
    try:
        ts = int(ts_raw)
    except ValueError as exc:
        raise WebhookVerificationError("bad timestamp header") from exc
    expected = sign_webhook(body, secret, ts)
    if not hmac.compare_digest(expected, sig):
        raise WebhookVerificationError("signature mismatch")
    if abs(now - ts) > window_s:
        raise WebhookVerificationError(f"timestamp outside the {window_s} s window (replay?)")
    if seen is not None:
        if sig in seen:
            raise WebhookVerificationError("request already seen (replay)")
        seen.add(sig)
    return h.get(IDEMPOTENCY_HEADER.lower(), "")


class WebhookChannel:
    """Signed JSON or CAP over HTTPS. Each delivery resolves and checks the target again (a DNS
    change since the subscription was made is caught), connects to the address it checked, and does
    not follow redirects (a 3xx fails the delivery). Errors name the host, never the path or query
    (tokens), the secret or the body."""

    name = "webhook"

    def __init__(self, policy: WebhookPolicy = WebhookPolicy(), tls_context: ssl.SSLContext | None = None) -> None:
        self.policy = policy
        self.tls_context = tls_context

    def send(self, msg: OutboundMessage, target: str, *, fmt: str = "json", secret: str | None = None) -> None:
        try:
            checked = resolve_webhook(target, self.policy)  # again for every delivery: DNS may have changed
        except ValueError as exc:
            raise DeliveryError(str(exc), permanent=True) from None
        if fmt == "cap":
            body, ctype = msg.cap_xml, "application/cap+xml"
        else:
            body, ctype = msg.json_body(), "application/json"
        ts = int(time.time())
        headers = {
            "Content-Type": ctype,
            IDEMPOTENCY_HEADER: msg.idempotency_key,
            TIMESTAMP_HEADER: str(ts),
            "User-Agent": "pantau-alerts/1",
        }
        if secret:
            headers[SIGNATURE_HEADER] = sign_webhook(body, secret, ts)
        try:
            status = post_pinned(checked, body, headers, self.policy.timeout_s, self.tls_context)
        except (OSError, http.client.HTTPException) as exc:
            raise DeliveryError(f"webhook {checked.host} unreachable: {exc.__class__.__name__}") from None
        if 300 <= status < 400:
            raise DeliveryError(
                f"webhook {checked.host} answered a redirect (HTTP {status}); redirects are not followed",
                permanent=True,
            )
        if status >= 300:
            permanent = status in (400, 401, 403, 404, 410, 413, 422)
            raise DeliveryError(f"webhook {checked.host} answered HTTP {status}", permanent=permanent)


# -- email ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "pantau-alerts@jakarta.go.id"
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line or an error
    timeout_s: float = 15.0


class EmailChannel:
    name = "email"

    def __init__(self, config: SmtpConfig = SmtpConfig()) -> None:
        self.config = config

    def send(self, msg: OutboundMessage, target: str, *, fmt: str = "json", secret: str | None = None) -> None:
        to = target.removeprefix("mailto:")
        if "@" not in to:
            raise DeliveryError(f"not an e-mail address: {target!r}", permanent=True)
        em = EmailMessage()
        em["From"] = self.config.sender
        em["To"] = to
        em["Subject"] = msg.subject
        em["Message-ID"] = f"<{msg.idempotency_key}@pantau>"
        em["X-Pantau-Idempotency-Key"] = msg.idempotency_key
        em.set_content(msg.text)
        em.add_attachment(
            msg.cap_xml,
            maintype="application",
            subtype="cap+xml",
            filename=f"{msg.alert.get('cap_identifier', 'alert')}.xml",
        )
        c = self.config
        try:
            with smtplib.SMTP(c.host, c.port, timeout=c.timeout_s) as smtp:
                if c.starttls:
                    smtp.starttls()
                if c.username:
                    smtp.login(c.username, c.password or "")
                smtp.send_message(em)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc}", permanent=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp: {exc.__class__.__name__}: {redact_url_credentials(str(exc))}") from None


# -- MQTT ----------------------------------------------------------------------------------


def mqtt_topic(parts: tuple[str, ...], prefix: str = "pantau/alerts") -> str:
    clean = [("".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in (p or "unknown"))) for p in parts]
    return "/".join([prefix.rstrip("/"), *clean])


class MqttChannel:
    """Publishes JSON with QoS 1 to ``pantau/alerts/<hazard>/<kota>/<kecamatan>/<kelurahan>``.

    Target: ``mqtt://host:port`` (empty = the configured default broker).
    """

    name = "mqtt"

    def __init__(
        self,
        default_broker: str = "mqtt://127.0.0.1:1883",
        topic_prefix: str = "pantau/alerts",
        timeout_s: float = 10.0,
    ) -> None:
        self.default_broker = default_broker
        self.topic_prefix = topic_prefix
        self.timeout_s = timeout_s
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, broker: str) -> Any:
        import paho.mqtt.client as mqtt

        with self._lock:
            client = self._clients.get(broker)
            if client is not None and client.is_connected():
                return client
            u = urlparse(broker)
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=f"pantau-alerts-{uuid.uuid4().hex[:8]}",
                protocol=mqtt.MQTTv311,
            )
            if u.username:
                client.username_pw_set(u.username, u.password)
            client.connect(u.hostname or "127.0.0.1", u.port or 1883, keepalive=30)
            client.loop_start()
            deadline = time.monotonic() + self.timeout_s
            while not client.is_connected() and time.monotonic() < deadline:
                time.sleep(0.01)
            if not client.is_connected():
                client.loop_stop()
                raise OSError(f"cannot connect to MQTT broker {u.hostname}:{u.port or 1883}")  # no credentials
            self._clients[broker] = client
            return client

    def send(self, msg: OutboundMessage, target: str, *, fmt: str = "json", secret: str | None = None) -> None:
        broker = target if target.startswith(("mqtt://", "tcp://")) else self.default_broker
        topic = mqtt_topic(msg.topic_parts, self.topic_prefix)
        body = msg.cap_xml if fmt == "cap" else msg.json_body()
        try:
            info = self._client(broker).publish(topic, body, qos=1)
            info.wait_for_publish(timeout=self.timeout_s)
            if not info.is_published():
                raise DeliveryError(f"mqtt publish to {topic} not acknowledged")
        except (OSError, ValueError, RuntimeError) as exc:
            if isinstance(exc, DeliveryError):
                raise
            raise DeliveryError(f"mqtt: {exc.__class__.__name__}: {redact_url_credentials(str(exc))}") from None

    def close(self) -> None:
        with self._lock:
            for c in self._clients.values():
                c.disconnect()
                c.loop_stop()
            self._clients.clear()


# -- Apprise -------------------------------------------------------------------------------


class AppriseChannel:
    """Any service Apprise knows (Telegram, Slack, ntfy, Discord, ...): target is an Apprise URL."""

    name = "apprise"

    def send(self, msg: OutboundMessage, target: str, *, fmt: str = "json", secret: str | None = None) -> None:
        import apprise

        ap = apprise.Apprise()
        if not ap.add(target):
            raise DeliveryError("not a valid Apprise URL", permanent=True)
        body = f"{msg.text}\n\n[{msg.idempotency_key}]"
        if not ap.notify(title=msg.subject, body=body):
            raise DeliveryError("apprise notification failed")


# -- local outbox folder ---------------------------------------------------------------------


class OutboxFolderChannel:
    """Writes ``<key>.json`` and ``<key>.cap.xml`` into a folder (embedded demo, air-gapped sites).

    Files are named by idempotency key and written atomically, so a redelivery overwrites itself.
    """

    name = "outbox"

    def __init__(self, default_dir: str | os.PathLike[str] = "pantau-data/outbox") -> None:
        self.default_dir = Path(default_dir)

    def send(self, msg: OutboundMessage, target: str, *, fmt: str = "json", secret: str | None = None) -> None:
        folder = Path(target.removeprefix("file://")) if target else self.default_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for suffix, data in ((".json", msg.json_body()), (".cap.xml", msg.cap_xml)):
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, folder / f"{msg.idempotency_key}{suffix}")
        except OSError as exc:
            raise DeliveryError(f"outbox folder: {exc}") from exc


@dataclass
class ChannelRegistry:
    channels: dict[str, Channel] = field(default_factory=dict)

    @classmethod
    def default(
        cls,
        *,
        webhook_policy: WebhookPolicy = WebhookPolicy(),
        smtp: SmtpConfig = SmtpConfig(),
        mqtt_broker: str = "mqtt://127.0.0.1:1883",
        outbox_dir: str | os.PathLike[str] = "pantau-data/outbox",
    ) -> ChannelRegistry:
        return cls(
            {
                "webhook": WebhookChannel(webhook_policy),
                "email": EmailChannel(smtp),
                "mqtt": MqttChannel(mqtt_broker),
                "apprise": AppriseChannel(),
                "outbox": OutboxFolderChannel(outbox_dir),
            }
        )

    def get(self, name: str) -> Channel:
        try:
            return self.channels[name]
        except KeyError as exc:
            raise DeliveryError(f"no channel {name!r}", permanent=True) from exc

    def close(self) -> None:
        for ch in self.channels.values():
            close = getattr(ch, "close", None)
            if close is not None:
                close()

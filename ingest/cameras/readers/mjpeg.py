"""MJPEG over HTTP (``multipart/x-mixed-replace``): one long GET, multipart parsed by hand."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import requests

from ingest.cameras.readers.base import MAX_JPEG_BYTES, StreamError
from ingest.cameras.readers.http import HttpBody, HttpReader, http_get


class MjpegReader(HttpReader):
    """MJPEG over HTTP (``multipart/x-mixed-replace``): one long GET, one JPEG part per ``read()``."""

    kind = "mjpeg"
    MAX_HEADER_BYTES = 16 * 1024

    #: a server pushes frames faster than a sampler reads them (10 fps vs one read per second or ten), so any
    #: pause longer than this means the socket holds stale frames: reconnect to the live edge instead.
    DEFAULT_MAX_IDLE_S = 0.5

    def __init__(self, url: str, **kw: Any) -> None:
        kw.setdefault("max_idle_s", self.DEFAULT_MAX_IDLE_S)
        super().__init__(url, **kw)
        self._resp: requests.Response | None = None
        self._body: HttpBody | None = None
        self._boundary = b""

    def _disconnect(self) -> None:
        if self._resp is not None:
            try:
                self._resp.close()
            except Exception:  # pragma: no cover - best effort
                pass
        self._resp = None
        self._body = None

    def close(self) -> None:
        self._disconnect()
        super().close()

    def _connect(self) -> None:
        resp = http_get(self.session, self.url, self.connect_timeout_s, self.read_timeout_s)
        ctype = resp.headers.get("Content-Type", "")
        boundary = ""
        for piece in ctype.split(";"):
            key, _, value = piece.strip().partition("=")
            if key.lower() == "boundary":
                boundary = value.strip().strip('"')
        if "multipart" not in ctype.lower() or not boundary:
            resp.close()
            raise StreamError("decode_error", f"not an MJPEG stream (Content-Type {ctype!r})", url=self.url)
        if boundary.startswith("--"):
            boundary = boundary[2:]
        self._boundary = b"--" + boundary.encode("latin-1")
        self._resp = resp
        self._body = HttpBody(resp, self.url)

    def _next_part(self, deadline: float) -> bytes:
        body = self._body
        assert body is not None
        marker = self._boundary
        while (i := body.buf.find(marker)) < 0:
            if len(body.buf) > MAX_JPEG_BYTES:
                raise StreamError("decode_error", "no multipart boundary found", url=self.url)
            body.fill(deadline, "multipart boundary")
        del body.buf[:i]
        while (j := body.buf.find(b"\r\n\r\n")) < 0:
            if body.buf.startswith(marker + b"--"):
                raise StreamError("eof", "multipart stream closed by the server", url=self.url)
            if len(body.buf) > self.MAX_HEADER_BYTES:
                raise StreamError("decode_error", "multipart part header too long", url=self.url)
            body.fill(deadline, "part header")
        header = bytes(body.buf[len(marker) : j]).decode("latin-1", "replace")
        del body.buf[: j + 4]
        length = None
        for line in header.splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise StreamError("decode_error", f"bad Content-Length {value!r}", url=self.url) from None
        if length is not None:
            if not 0 <= length <= MAX_JPEG_BYTES:
                raise StreamError("decode_error", f"part length {length} out of range", url=self.url)
            while len(body.buf) < length:
                body.fill(deadline, "part body")
            data = bytes(body.buf[:length])
            del body.buf[:length]
            return data
        end_marker = b"\r\n" + marker
        while (k := body.buf.find(end_marker)) < 0:
            if len(body.buf) > MAX_JPEG_BYTES:
                raise StreamError("decode_error", "multipart part too large", url=self.url)
            body.fill(deadline, "part body")
        data = bytes(body.buf[:k])
        del body.buf[:k]
        return data

    def read(self) -> np.ndarray:
        self._check_open()
        t0 = time.monotonic()
        deadline = t0 + self.read_timeout_s
        if self._resp is not None and self.max_idle_s is not None and t0 - self._last_ok > self.max_idle_s:
            self._disconnect()  # stale buffered frames: resync to the live edge
        try:
            if self._resp is None:
                self._connect()
            data = self._next_part(deadline)
            t1 = time.monotonic()
            img = self._decode(data)
        except StreamError as exc:
            if exc.reason != "decode_error" or self._resp is None:
                self._disconnect()
            raise
        now = time.monotonic()
        self.last_fetch_ms = (t1 - t0) * 1000.0
        self.last_decode_ms = (now - t1) * 1000.0
        self._last_ok = now
        self.frames_read += 1
        return img

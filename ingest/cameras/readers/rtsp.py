"""RTSP: a bounded DESCRIBE probe, then ``cv2.VideoCapture`` in a background thread keeping the newest frame."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ingest.cameras.readers.base import StreamError, StreamReader
from ingest.cameras.readers.opencv import open_capture


def rtsp_describe(url: str, timeout_s: float) -> int:
    """Send an RTSP DESCRIBE and return the status code; ``StreamError`` offline/timeout when no answer.

    OpenCV reports a failed RTSP open only as ``False``; this bounded probe tells "refused" from "no answer" from
    "401/404/5xx" so the caller gets a precise reason.
    """
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 554
    req = (f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\nUser-Agent: pantau\r\n\r\n").encode(
        "latin-1"
    )
    deadline = time.monotonic() + timeout_s
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(req)
            buf = b""
            while b"\r\n" not in buf:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(1024)
                if not chunk:
                    raise StreamError("offline", "RTSP server closed the connection without a response", url=url)
                buf += chunk
    except StreamError:
        raise
    except TimeoutError as exc:
        raise StreamError("timeout", f"no RTSP response within {timeout_s:.1f} s", url=url) from exc
    except OSError as exc:
        raise StreamError("offline", f"RTSP connect failed: {exc}", url=url) from exc
    parts = buf.split(b"\r\n", 1)[0].split()
    if len(parts) < 2 or not parts[0].startswith(b"RTSP/") or not parts[1].isdigit():
        raise StreamError("decode_error", f"not an RTSP response: {buf[:40]!r}", url=url)
    return int(parts[1])


class _Grabber(threading.Thread):
    """Background ``cv2.VideoCapture`` loop holding the newest frame (so ``read()`` can wait with a hard deadline)."""

    def __init__(self, source: str, open_ms: int, read_ms: int, options: str) -> None:
        super().__init__(name=f"grab-{source}", daemon=True)
        self.source, self.open_ms, self.read_ms, self.options = source, open_ms, read_ms, options
        self.cond = threading.Condition()
        self.frame: np.ndarray | None = None
        self.seq = 0
        self.opened = False
        self.error: tuple[str, str] | None = None
        self.stop_flag = threading.Event()
        self.decode_ms = 0.0

    def run(self) -> None:
        t0 = time.monotonic()
        cap = open_capture(self.source, self.open_ms, self.read_ms, self.options)
        try:
            if not cap.isOpened():
                took = time.monotonic() - t0
                reason = "timeout" if took >= self.open_ms / 1000.0 * 0.9 else "offline"
                self._fail(reason, f"cannot open the stream ({took:.1f} s)")
                return
            with self.cond:
                self.opened = True
            while not self.stop_flag.is_set():
                t1 = time.monotonic()
                ok = cap.grab()
                t2 = time.monotonic()
                frame = cap.retrieve()[1] if ok else None
                if not ok or frame is None:
                    took = time.monotonic() - t1
                    reason = "timeout" if took >= self.read_ms / 1000.0 * 0.9 else "eof"
                    self._fail(reason, f"the stream delivered no frame ({took:.1f} s)")
                    return
                with self.cond:
                    self.frame = frame
                    self.seq += 1
                    self.decode_ms = (time.monotonic() - t2) * 1000.0  # grab() (wait + demux) counts as fetch
                    self.cond.notify_all()
        finally:
            cap.release()

    def _fail(self, reason: str, message: str) -> None:
        with self.cond:
            self.error = (reason, message)
            self.cond.notify_all()


class RtspReader(StreamReader):
    """RTSP through the OpenCV FFmpeg backend (TCP interleaved by default).

    A bounded RTSP DESCRIBE first (precise offline / timeout / http_error reasons: RTSP shares HTTP status codes),
    then a background thread runs ``cv2.VideoCapture`` and keeps the newest decoded frame; ``read()`` waits at most
    ``read_timeout_s`` for a frame newer than the last one returned. A reader slower than the stream skips frames
    (live edge); at the stream's rate it gets consecutive frames.
    """

    kind = "rtsp"
    FFMPEG_OPTIONS = "rtsp_transport;{transport}|analyzeduration;1000000|probesize;262144"

    def __init__(self, url: str, *, transport: str = "tcp", probe: bool = True, **kw: Any) -> None:
        kw.pop("max_idle_s", None)
        super().__init__(url, **kw)
        if transport not in ("tcp", "udp"):
            raise ValueError("transport must be tcp or udp")
        self.transport = transport
        self.probe = probe
        self._grab: _Grabber | None = None
        self._last_seq = 0

    def _stop_grabber(self) -> None:
        if self._grab is not None:
            self._grab.stop_flag.set()  # the thread releases the capture itself within one read timeout
            self._grab = None

    def close(self) -> None:
        self._stop_grabber()
        super().close()

    def read(self) -> np.ndarray:
        self._check_open()
        t0 = time.monotonic()
        deadline = t0 + self.read_timeout_s
        if self._grab is None:
            if self.probe:
                status = rtsp_describe(self.url, self.connect_timeout_s)
                if status >= 400:
                    raise StreamError("http_error", f"RTSP {status} on DESCRIBE", url=self.url, status=status)
            self._grab = _Grabber(
                self.url,
                int(self.connect_timeout_s * 1000),
                int(self.read_timeout_s * 1000),
                self.FFMPEG_OPTIONS.format(transport=self.transport),
            )
            self._last_seq = 0
            self._grab.start()
            deadline += self.connect_timeout_s  # opening counts against the connect budget
        g = self._grab
        with g.cond:
            while g.seq <= self._last_seq and g.error is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                g.cond.wait(remaining)
            if g.seq > self._last_seq:
                frame, seq, decode_ms = g.frame, g.seq, g.decode_ms
                error = None
            else:
                frame, seq, decode_ms = None, 0, 0.0
                error = g.error or ("timeout", f"no frame within {self.read_timeout_s:.1f} s")
        if error is not None or frame is None:
            self._stop_grabber()
            reason, message = error or ("timeout", "no frame")
            raise StreamError(reason, message, url=self.url)
        self._last_seq = seq
        now = time.monotonic()
        self.last_decode_ms = decode_ms
        self.last_fetch_ms = max(0.0, (now - t0) * 1000.0 - decode_ms)
        self.frames_read += 1
        return frame

"""Camera stream readers: HLS, RTSP, MJPEG over HTTP, JPEG snapshots and files.

Public API (the capture workers code against this)::

    from ingest.cameras.readers import open_stream, StreamError, StreamReader, Backoff, Sampler

    reader = open_stream(url, kind, connect_timeout_s=5.0, read_timeout_s=10.0)
    try:
        frame = reader.read()          # np.ndarray (H, W, 3) uint8 BGR
        reader.last_fetch_ms, reader.last_decode_ms   # timings of that read (float ms)
    except StreamError as exc:
        exc.reason                      # "offline" | "timeout" | "http_error" | "decode_error" | "eof"
        exc.status                      # HTTP status for http_error, else None
    finally:
        reader.close()                  # idempotent; also a context manager

* ``kind`` is one of ``STREAM_KINDS`` = ("hls", "rtsp", "mjpeg", "snapshot", "file"); ``file`` is a video file
  or a folder of images (sorted by name; ``eof`` after the last one unless ``loop=True``).
* ``open_stream`` does no network I/O and never raises ``StreamError`` (only ``ValueError`` for an unknown kind);
  the first ``read()`` connects. After a ``StreamError`` the reader drops its connection and the next ``read()``
  reconnects from scratch, so a caller keeps one reader per camera and spaces retries with ``Backoff``.
* Every network operation is bounded: ``connect_timeout_s`` for the TCP connect / stream open,
  ``read_timeout_s`` for one whole ``read()`` (a trickling or stalled server gives ``timeout``, never a hang).
* Live-edge policy: a reader that was idle for more than ``max_idle_s`` (default 0.5 s for MJPEG, 3 s for HLS) drops
  its buffered frames and resynchronises, so a caller sampling one frame every 10 s gets a fresh frame,
  not one buffered 10 s ago. Consecutive reads (flicker, motion) stay consecutive frames.
* Per kind: ``snapshot`` = one GET + ``cv2.imdecode`` per read; ``mjpeg`` = one long GET, multipart parsed by
  hand (Content-Length or boundary scan); ``hls`` = playlist + ``.ts`` segments fetched with bounded GETs and decoded
  locally (starts at the live edge; a VOD playlist from its start); ``rtsp`` = a bounded RTSP DESCRIBE probe, then
  ``cv2.VideoCapture`` (FFmpeg, TCP interleaved, open/read timeouts) in a background thread keeping the newest
  frame, so ``read()`` waits at most ``read_timeout_s``; ``file`` = local video via OpenCV or an image folder.
* Timings: ``last_fetch_ms`` (network/wait) and ``last_decode_ms`` (image decode) of the last successful read.
* Reasons: ``offline`` = connection refused/reset/closed before a response; ``timeout`` = connect or read time
  exceeded (stall, slow server); ``http_error`` = HTTP (or RTSP) status >= 400 (``status`` set); ``decode_error`` = bytes
  arrived but are not an image/video frame; ``eof`` = the stream ended (server closed an MJPEG stream, file ended).

Helpers:

* ``Backoff(base_s=1.0, max_s=60.0, jitter=0.2, factor=2.0, seed=None)``: ``.failure() -> float`` records a
  failure and returns the delay before the next try (``base * factor**(n-1)`` capped at ``max_s``, times a
  uniform factor in ``[1 - jitter, 1 + jitter]``, never above ``max_s``); ``.success()`` resets; ``.nominal(n)``
  is the delay without jitter after ``n`` consecutive failures; ``.attempts`` is the failure count.
* ``Sampler(interval_s, jitter_s=0.0, seed=None)``: one frame per ``interval_s`` per camera. ``.due(camera_id, now)``
  says whether a sample is due; ``.mark(camera_id, now)`` records one; ``.next_due(camera_id)``; cameras start
  phase-spread over the interval (``.first_due``) so a worker with many cameras does not fetch them all at once.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import tempfile
import threading
import time
import weakref
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlparse

import cv2
import numpy as np
import requests
import urllib3.exceptions

log = logging.getLogger(__name__)

STREAM_KINDS: tuple[str, ...] = ("hls", "rtsp", "mjpeg", "snapshot", "file")
REASONS: tuple[str, ...] = ("offline", "timeout", "http_error", "decode_error", "eof")
IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MAX_JPEG_BYTES = 16 * 1024 * 1024


class StreamError(Exception):
    """A failed read. ``reason`` is one of ``REASONS``; ``status`` is the HTTP status for ``http_error``."""

    def __init__(self, reason: str, message: str, *, url: str = "", status: int | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown StreamError reason {reason!r}")
        self.reason = reason
        self.message = message
        self.url = url
        self.status = status
        super().__init__(f"{reason}: {message}" + (f" ({url})" if url else ""))


class StreamReader(ABC):
    """One open camera stream. ``read()`` returns the next BGR frame or raises ``StreamError``."""

    kind: str = ""

    def __init__(self, url: str, *, connect_timeout_s: float = 5.0, read_timeout_s: float = 10.0) -> None:
        if connect_timeout_s <= 0 or read_timeout_s <= 0:
            raise ValueError("timeouts must be positive")
        self.url = url
        self.connect_timeout_s = float(connect_timeout_s)
        self.read_timeout_s = float(read_timeout_s)
        self.last_fetch_ms = 0.0
        self.last_decode_ms = 0.0
        self.frames_read = 0
        self.closed = False

    @abstractmethod
    def read(self) -> np.ndarray:
        """Next frame, (H, W, 3) uint8 BGR. Raises ``StreamError``."""

    def close(self) -> None:
        """Release sockets, decoders and temp files. Idempotent."""
        self.closed = True

    def __enter__(self) -> StreamReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def _check_open(self) -> None:
        if self.closed:
            raise StreamError("offline", "reader is closed", url=self.url)


def open_stream(
    url: str,
    kind: str,
    *,
    connect_timeout_s: float = 5.0,
    read_timeout_s: float = 10.0,
    **options: Any,
) -> StreamReader:
    """Open a reader for ``url`` of ``kind`` (one of ``STREAM_KINDS``). No I/O happens until ``read()``.

    Extra ``options``: ``max_idle_s`` (mjpeg, hls), ``loop`` (file), ``session`` (a ``requests.Session`` for
    http kinds), ``transport`` ("tcp"|"udp", rtsp).
    """
    kind = kind.lower().strip()
    classes: dict[str, type[StreamReader]] = {
        "snapshot": SnapshotReader,
        "mjpeg": MjpegReader,
        "hls": HlsReader,
        "rtsp": RtspReader,
        "file": FileReader,
    }
    if kind not in classes:
        raise ValueError(f"unknown stream kind {kind!r}; expected one of {STREAM_KINDS}")
    return classes[kind](url, connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s, **options)


def decode_jpeg(data: bytes, *, url: str = "") -> np.ndarray:
    """Decode encoded image bytes to (H, W, 3) uint8 BGR or raise ``StreamError('decode_error')``."""
    if not data:
        raise StreamError("decode_error", "empty image body", url=url)
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.ndim != 3 or img.shape[2] != 3 or img.size == 0:
        raise StreamError("decode_error", f"{len(data)} bytes are not a decodable image", url=url)
    return img


# --------------------------------------------------------------------------------------------------------------
# HTTP helpers


def _map_requests_error(exc: BaseException, url: str, phase: str) -> StreamError:
    """Translate a requests/urllib3/socket exception into a ``StreamError``."""
    if isinstance(exc, StreamError):
        return exc
    text = f"{phase}: {type(exc).__name__}: {exc}"
    timeouts = (
        requests.exceptions.ConnectTimeout,
        requests.exceptions.ReadTimeout,
        urllib3.exceptions.TimeoutError,
        socket.timeout,
    )
    if isinstance(exc, timeouts):
        return StreamError("timeout", text, url=url)
    if isinstance(exc, requests.exceptions.ConnectionError):
        # urllib3 wraps read timeouts inside ConnectionError for streamed bodies
        if "timed out" in str(exc).lower():
            return StreamError("timeout", text, url=url)
        return StreamError("offline", text, url=url)
    if isinstance(exc, (urllib3.exceptions.ProtocolError, urllib3.exceptions.HTTPError)):
        return StreamError("offline", text, url=url)
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, ConnectionResetError, BrokenPipeError)):
        return StreamError("offline", text, url=url)
    if isinstance(exc, requests.exceptions.RequestException):
        return StreamError("offline", text, url=url)
    if isinstance(exc, OSError):
        if "timed out" in str(exc).lower():
            return StreamError("timeout", text, url=url)
        return StreamError("offline", text, url=url)
    return StreamError("offline", text, url=url)


class _HttpBody:
    """Incremental reader over a streamed ``requests`` response with a whole-operation deadline.

    Each socket read blocks at most ``read_timeout_s`` (the requests read timeout), and the caller's deadline is
    checked between reads, so one operation is bounded by about ``2 * read_timeout_s`` in the worst case.
    """

    def __init__(self, resp: requests.Response, url: str) -> None:
        self.resp = resp
        self.url = url
        self.buf = bytearray()
        self.ended = False

    def fill(self, deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            raise StreamError("timeout", f"no complete {what} before the read deadline", url=self.url)
        if self.ended:
            raise StreamError("eof", f"stream ended while waiting for {what}", url=self.url)
        try:
            chunk = self.resp.raw.read1(65536)
        except Exception as exc:
            raise _map_requests_error(exc, self.url, f"reading {what}") from exc
        if not chunk:
            self.ended = True
            raise StreamError("eof", f"stream ended while waiting for {what}", url=self.url)
        self.buf += chunk

    def read_all(self, deadline: float, limit: int = MAX_JPEG_BYTES) -> bytes:
        while True:
            try:
                self.fill(deadline, "body")
            except StreamError as exc:
                if exc.reason == "eof":
                    return bytes(self.buf)
                raise
            if len(self.buf) > limit:
                raise StreamError("decode_error", f"body larger than {limit} bytes", url=self.url)


def _http_get(
    session: requests.Session, url: str, connect_timeout_s: float, read_timeout_s: float
) -> requests.Response:
    try:
        resp = session.get(url, stream=True, timeout=(connect_timeout_s, read_timeout_s))
    except Exception as exc:
        raise _map_requests_error(exc, url, "connect") from exc
    if resp.status_code >= 400:
        status = resp.status_code
        resp.close()
        raise StreamError("http_error", f"HTTP {status}", url=url, status=status)
    return resp


class _HttpReader(StreamReader):
    def __init__(
        self,
        url: str,
        *,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 10.0,
        session: requests.Session | None = None,
        max_idle_s: float | None = 3.0,
    ) -> None:
        super().__init__(url, connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s)
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self.max_idle_s = max_idle_s
        self._last_ok = 0.0

    def close(self) -> None:
        if not self.closed and self._own_session:
            self.session.close()
        super().close()


class SnapshotReader(_HttpReader):
    """JPEG snapshot URL: one HTTP GET and ``cv2.imdecode`` per ``read()``."""

    kind = "snapshot"

    def read(self) -> np.ndarray:
        self._check_open()
        t0 = time.monotonic()
        deadline = t0 + self.read_timeout_s
        resp = _http_get(self.session, self.url, self.connect_timeout_s, self.read_timeout_s)
        try:
            body = _HttpBody(resp, self.url).read_all(deadline)
        finally:
            resp.close()
        t1 = time.monotonic()
        img = decode_jpeg(body, url=self.url)
        self.last_fetch_ms = (t1 - t0) * 1000.0
        self.last_decode_ms = (time.monotonic() - t1) * 1000.0
        self.frames_read += 1
        return img


class MjpegReader(_HttpReader):
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
        self._body: _HttpBody | None = None
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
        resp = _http_get(self.session, self.url, self.connect_timeout_s, self.read_timeout_s)
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
        self._body = _HttpBody(resp, self.url)

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
            img = decode_jpeg(data, url=self.url)
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


# --------------------------------------------------------------------------------------------------------------
# HLS


@dataclass
class HlsPlaylist:
    """A parsed media playlist: ``segments`` are (sequence number, duration s, absolute URL)."""

    target_duration_s: float
    media_sequence: int
    segments: list[tuple[int, float, str]]
    ended: bool
    variants: list[str] = field(default_factory=list)


def parse_m3u8(text: str, base_url: str) -> HlsPlaylist:
    """Parse an HLS master or media playlist (RFC 8216 subset: what live cameras publish)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("#EXTM3U"):
        raise ValueError("playlist does not start with #EXTM3U")
    target = 2.0
    seq0 = 0
    ended = False
    segs: list[tuple[int, float, str]] = []
    variants: list[str] = []
    pending_dur: float | None = None
    expect_variant = False
    for ln in lines[1:]:
        if ln.startswith("#EXT-X-TARGETDURATION:"):
            target = float(ln.split(":", 1)[1])
        elif ln.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            seq0 = int(ln.split(":", 1)[1])
        elif ln.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif ln.startswith("#EXTINF:"):
            pending_dur = float(ln.split(":", 1)[1].split(",")[0])
        elif ln.startswith("#EXT-X-STREAM-INF"):
            expect_variant = True
        elif ln.startswith("#"):
            continue
        elif expect_variant:
            variants.append(urljoin(base_url, ln))
            expect_variant = False
        else:
            segs.append((seq0 + len(segs), pending_dur if pending_dur is not None else target, urljoin(base_url, ln)))
            pending_dur = None
    return HlsPlaylist(target, seq0, segs, ended, variants)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class HlsReader(_HttpReader):
    """HLS over HTTP: polls the playlist, downloads ``.ts`` segments with bounded GETs, decodes them locally.

    The first read starts at the newest segment (live edge); later reads return consecutive frames, then move to
    the next segment. A playlist that stops advancing for ``read_timeout_s`` gives ``timeout``; ``#EXT-X-ENDLIST``
    after the last segment gives ``eof``.
    """

    kind = "hls"

    def __init__(self, url: str, **kw: Any) -> None:
        super().__init__(url, **kw)
        self._media_url = url
        self._last_seq: int | None = None
        self._cap: Any = None
        self._tmp: Path | None = None  # created on the first segment, removed by close()
        self.segments_fetched = 0

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        self._release()
        if self._tmp is not None:
            try:
                self._tmp.unlink(missing_ok=True)
            except OSError:  # pragma: no cover
                pass
            self._tmp = None
        super().close()

    def _get_bytes(self, url: str, deadline: float, what: str) -> bytes:
        remaining = max(0.05, deadline - time.monotonic())
        resp = _http_get(self.session, url, min(self.connect_timeout_s, remaining), min(self.read_timeout_s, remaining))
        try:
            return _HttpBody(resp, url).read_all(deadline, limit=64 * 1024 * 1024)
        finally:
            resp.close()

    def _playlist(self, deadline: float) -> HlsPlaylist:
        for _ in range(3):
            raw = self._get_bytes(self._media_url, deadline, "playlist")
            try:
                pl = parse_m3u8(raw.decode("utf-8", "replace"), self._media_url)
            except ValueError as exc:
                raise StreamError("decode_error", f"bad playlist: {exc}", url=self._media_url) from exc
            if pl.variants and not pl.segments:
                self._media_url = pl.variants[0]
                continue
            return pl
        raise StreamError("decode_error", "playlist nesting too deep", url=self.url)

    def _next_segment(self, deadline: float) -> None:
        while True:
            pl = self._playlist(deadline)
            if pl.segments:
                newest = pl.segments[-1][0]
                if self._last_seq is None and pl.ended and self.frames_read == 0:
                    want = pl.segments[0][0]  # a finished (VOD) playlist is read from its start
                elif self._last_seq is None or self._last_seq + 1 < pl.segments[0][0]:
                    want = newest
                else:
                    want = self._last_seq + 1
                for seq, _dur, seg_url in pl.segments:
                    if seq == want:
                        data = self._get_bytes(seg_url, deadline, "segment")
                        if self._tmp is None:
                            fd, name = tempfile.mkstemp(prefix="pantau-hls-", suffix=".ts")
                            os.close(fd)
                            self._tmp = Path(name)
                            weakref.finalize(self, _unlink_quietly, name)  # even if close() is never called
                        self._tmp.write_bytes(data)
                        cap = cv2.VideoCapture(str(self._tmp), cv2.CAP_FFMPEG)
                        self._last_seq = seq
                        self.segments_fetched += 1
                        if not cap.isOpened():
                            cap.release()
                            raise StreamError("decode_error", f"segment {seq} is not decodable video", url=seg_url)
                        self._cap = cap
                        return
            if pl.ended:
                raise StreamError("eof", "playlist ended (#EXT-X-ENDLIST)", url=self._media_url)
            wait = min(max(pl.target_duration_s / 4.0, 0.05), deadline - time.monotonic())
            if wait <= 0:
                raise StreamError("timeout", "playlist did not advance before the read deadline", url=self._media_url)
            time.sleep(wait)

    def read(self) -> np.ndarray:
        self._check_open()
        t0 = time.monotonic()
        deadline = t0 + self.read_timeout_s
        if self.max_idle_s is not None and self._last_ok and t0 - self._last_ok > self.max_idle_s:
            self._release()
            self._last_seq = None  # resync to the live edge
        decode_s = 0.0
        try:
            for _ in range(4):
                if self._cap is None:
                    self._next_segment(deadline)
                td = time.monotonic()
                ok, frame = self._cap.read()
                decode_s += time.monotonic() - td
                if ok and frame is not None:
                    break
                empty_segment = self._cap.get(cv2.CAP_PROP_POS_FRAMES) == 0
                self._release()
                if empty_segment:
                    raise StreamError("decode_error", f"segment {self._last_seq} has no decodable frame", url=self.url)
            else:
                raise StreamError("decode_error", "no frame in consecutive segments", url=self.url)
        except StreamError as exc:
            self._release()
            if exc.reason != "decode_error":
                self._last_seq = None  # after an outage, resume at the live edge (a bad segment is skipped)
            raise
        now = time.monotonic()
        self.last_decode_ms = decode_s * 1000.0
        self.last_fetch_ms = (now - t0) * 1000.0 - self.last_decode_ms
        self._last_ok = now
        self.frames_read += 1
        return np.ascontiguousarray(frame)


# --------------------------------------------------------------------------------------------------------------
# RTSP and files (OpenCV FFmpeg backend with open/read timeouts)

_CV_ENV_LOCK = threading.Lock()


def _open_capture(source: str, open_timeout_ms: int, read_timeout_ms: int, ffmpeg_options: str = "") -> Any:
    """``cv2.VideoCapture`` through FFmpeg with bounded open and read (``CAP_PROP_*_TIMEOUT_MSEC``)."""
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, open_timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_timeout_ms]
    with _CV_ENV_LOCK:
        old = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS")
        if ffmpeg_options:
            os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = ffmpeg_options
        try:
            return cv2.VideoCapture(source, cv2.CAP_FFMPEG, params)
        finally:
            if ffmpeg_options:
                if old is None:
                    os.environ.pop("OPENCV_FFMPEG_CAPTURE_OPTIONS", None)
                else:
                    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = old


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
        cap = _open_capture(self.source, self.open_ms, self.read_ms, self.options)
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


class FileReader(StreamReader):
    """A local video file (any FFmpeg format) or a folder of images (sorted by name)."""

    kind = "file"

    def __init__(self, url: str, *, loop: bool = False, **kw: Any) -> None:
        super().__init__(url, **kw)
        path = url[7:] if url.startswith("file://") else url
        self.path = Path(path)
        self.loop = loop
        self._cap: Any = None
        self._images: list[Path] | None = None
        self._index = 0

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        super().close()

    def _read_image(self) -> np.ndarray:
        assert self._images is not None
        if self._index >= len(self._images):
            if not self.loop or not self._images:
                raise StreamError("eof", f"no more images in {self.path}", url=self.url)
            self._index = 0
        p = self._images[self._index]
        self._index += 1
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise StreamError("offline", f"cannot read {p}: {exc}", url=self.url) from exc
        return decode_jpeg(data, url=str(p))

    def read(self) -> np.ndarray:
        self._check_open()
        t0 = time.monotonic()
        if not self.path.exists():
            raise StreamError("offline", f"{self.path} does not exist", url=self.url)
        if self.path.is_dir():
            if self._images is None:
                self._images = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            frame = self._read_image()
        else:
            if self._cap is None:
                self._cap = _open_capture(
                    str(self.path), int(self.connect_timeout_s * 1000), int(self.read_timeout_s * 1000)
                )
                if not self._cap.isOpened():
                    self._cap.release()
                    self._cap = None
                    raise StreamError("decode_error", f"{self.path} is not a readable video", url=self.url)
            ok, frame = self._cap.read()
            if (not ok or frame is None) and self.loop and self.frames_read:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
            if not ok or frame is None:
                raise StreamError("eof", f"end of {self.path}", url=self.url)
        self.last_fetch_ms = 0.0
        self.last_decode_ms = (time.monotonic() - t0) * 1000.0
        self.frames_read += 1
        return frame


# --------------------------------------------------------------------------------------------------------------
# Reconnect policy and sampling


@dataclass
class Backoff:
    """Exponential reconnect backoff with jitter: ``min(max_s, base_s * factor**(n-1)) * U(1-jitter, 1+jitter)``."""

    base_s: float = 1.0
    max_s: float = 60.0
    jitter: float = 0.2
    factor: float = 2.0
    seed: int | None = None
    attempts: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.max_s < self.base_s or not 0 <= self.jitter < 1 or self.factor < 1:
            raise ValueError("need 0 < base_s <= max_s, 0 <= jitter < 1, factor >= 1")
        self._rng = random.Random(self.seed)

    def nominal(self, attempt: int) -> float:
        """Delay without jitter after ``attempt`` (>= 1) consecutive failures; 0 for ``attempt <= 0``."""
        if attempt <= 0:
            return 0.0
        exp = min(attempt - 1, 64)
        return float(min(self.max_s, self.base_s * self.factor**exp))

    def delay(self, attempt: int) -> float:
        """Jittered delay after ``attempt`` consecutive failures, within ``[nominal*(1-j), min(max_s, nominal*(1+j))]``."""
        nominal = self.nominal(attempt)
        if nominal == 0.0 or self.jitter == 0.0:
            return nominal
        return min(self.max_s, nominal * self._rng.uniform(1.0 - self.jitter, 1.0 + self.jitter))

    def failure(self) -> float:
        """Record one more failure and return how long to wait before the next try."""
        self.attempts += 1
        return self.delay(self.attempts)

    def success(self) -> None:
        """Reset after a successful read."""
        self.attempts = 0


class Sampler:
    """Per-camera sampling clock: one frame every ``interval_s`` seconds (plus optional jitter).

    Cameras get a stable phase offset in ``[0, interval_s)`` derived from their id, so a worker spreads its
    fetches over the interval instead of hitting all cameras at once.
    """

    def __init__(self, interval_s: float, *, jitter_s: float = 0.0, seed: int | None = None) -> None:
        if interval_s <= 0 or jitter_s < 0:
            raise ValueError("interval_s must be > 0 and jitter_s >= 0")
        self.interval_s = float(interval_s)
        self.jitter_s = float(jitter_s)
        self._rng = random.Random(seed)
        self._next: dict[str, float] = {}
        self._start: float | None = None

    def first_due(self, camera_id: str, now: float) -> float:
        phase = (zlib.crc32(camera_id.encode("utf-8")) % 10_000) / 10_000.0 * self.interval_s
        return now + phase

    def next_due(self, camera_id: str, now: float | None = None) -> float:
        if camera_id not in self._next:
            self._next[camera_id] = self.first_due(camera_id, time.monotonic() if now is None else now)
        return self._next[camera_id]

    def due(self, camera_id: str, now: float) -> bool:
        return now >= self.next_due(camera_id, now)

    def mark(self, camera_id: str, now: float) -> float:
        """Record a sample taken at ``now``; returns the next due time (never in the past)."""
        prev = self._next.get(camera_id, now)
        nxt = prev + self.interval_s
        if nxt <= now:  # fell behind: skip missed slots, do not burst
            nxt = now + self.interval_s
        if self.jitter_s:
            nxt += self._rng.uniform(0.0, self.jitter_s)
        self._next[camera_id] = nxt
        return nxt

    def delay_until_due(self, camera_id: str, now: float) -> float:
        return max(0.0, self.next_due(camera_id, now) - now)

"""``pantau cameras probe``: what is behind a camera URL, and does it deliver frames?

1. Detect the protocol with bounded requests: ``rtsp://`` is RTSP; over HTTP the response decides:
   ``multipart/x-mixed-replace`` = MJPEG, an ``#EXTM3U`` body (or an mpegurl type) = HLS, a JPEG/PNG body =
   snapshot, an HTML page = viewer page, resolved to the stream it embeds (``ingest.cameras.viewer``), following
   embedded pages up to ``MAX_DEPTH`` levels.
2. Read a few frames with the capture readers: resolution, frame rate (arrival rate of consecutive frames for
   MJPEG/RTSP, the segment's own rate for HLS; none for snapshots), latency (request to first decoded frame).
3. Write one blurred test frame (faces and plates, the public-keyframe blur) when asked.

Every URL in the result has its credentials removed; credentials come in separately (``userinfo``).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import requests

from ingest.cameras.readers import StreamError, open_stream, parse_m3u8
from ingest.cameras.viewer import stream_candidates
from ingest.registry.secrets import redact, split_credentials, with_credentials

log = logging.getLogger(__name__)

MAX_DEPTH = 2
MAX_CANDIDATES = 6
SNIFF_BYTES = 65536
MAX_PAGE_BYTES = 2 * 1024 * 1024


@dataclass
class ProbeResult:
    url: str
    protocol: str | None = None  # hls | rtsp | mjpeg | snapshot (the stream finally read)
    detected: str | None = None  # what the URL itself is: the above or "viewer"
    stream_url: str | None = None  # the stream read (differs from url for viewer pages)
    ok: bool = False
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    latency_ms: float | None = None
    frames: int = 0
    test_frame: str | None = None
    error: str | None = None
    via: list[str] = field(default_factory=list)  # pages followed to reach the stream

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clean(url: str) -> str:
    return split_credentials(url)[0]


def sniff(url: str, timeout_s: float, session: requests.Session | None = None) -> tuple[str | None, bytes, str]:
    """``(kind, first bytes, content type)`` of an HTTP(S) URL: hls | mjpeg | snapshot | viewer | None."""
    if url.lower().startswith(("rtsp://", "rtsps://")):
        return "rtsp", b"", ""
    s = session or requests.Session()
    try:
        resp = s.get(url, stream=True, timeout=(timeout_s, timeout_s))
    except requests.RequestException as exc:
        raise StreamError("timeout" if "timed out" in str(exc).lower() else "offline", type(exc).__name__) from None
    try:
        if resp.status_code >= 400:
            raise StreamError("http_error", f"HTTP {resp.status_code}", status=resp.status_code)
        ctype = (resp.headers.get("Content-Type") or "").lower()
        deadline = time.monotonic() + timeout_s
        buf = b""
        limit = MAX_PAGE_BYTES if "html" in ctype else SNIFF_BYTES
        while len(buf) < limit and time.monotonic() < deadline:
            try:
                chunk = resp.raw.read1(65536)
            except Exception as exc:
                raise StreamError("timeout", f"reading body: {type(exc).__name__}") from None
            if not chunk:
                break
            buf += chunk
            if "html" in ctype:
                continue
            if buf.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
                limit = MAX_PAGE_BYTES
                continue
            if len(buf) >= 16:
                break
    finally:
        resp.close()
    head = buf.lstrip()[:64]
    if "multipart/x-mixed-replace" in ctype:
        return "mjpeg", buf, ctype
    if head.startswith(b"#EXTM3U") or "mpegurl" in ctype:
        return "hls", buf, ctype
    if head.startswith(b"\xff\xd8") or head.startswith(b"\x89PNG") or ctype.startswith("image/"):
        return "snapshot", buf, ctype
    if "html" in ctype or head.lower().startswith((b"<!doctype", b"<html")):
        return "viewer", buf, ctype
    return None, buf, ctype


def resolve(
    url: str, timeout_s: float = 5.0, userinfo: str | None = None, depth: int = 0
) -> tuple[str | None, str | None, str | None, list[str]]:
    """``(detected kind of url, stream kind, stream url, pages followed)``; stream kind None = nothing found."""
    kind, body, _ = sniff(with_credentials(url, userinfo), timeout_s)
    if kind != "viewer":
        return kind, kind, (url if kind else None), []
    if depth >= MAX_DEPTH:
        return "viewer", None, None, [url]
    page = body.decode("utf-8", errors="replace")
    for cand in stream_candidates(page, url)[:MAX_CANDIDATES]:
        try:
            _, sub_kind, sub_url, via = resolve(cand.url, timeout_s, None, depth + 1)
        except StreamError as exc:
            log.debug("viewer candidate %s failed: %s", _clean(cand.url), exc)
            continue
        if sub_kind is not None and sub_url is not None:
            return "viewer", sub_kind, sub_url, [url, *via]
    return "viewer", None, None, [url]


def _hls_fps(url: str, timeout_s: float) -> float | None:
    """Frame rate of the newest segment of an HLS playlist (decoded by OpenCV)."""
    try:
        text = requests.get(url, timeout=(timeout_s, timeout_s)).text
        pl = parse_m3u8(text, url)
        if pl.variants and not pl.segments:
            pl = parse_m3u8(requests.get(pl.variants[0], timeout=(timeout_s, timeout_s)).text, pl.variants[0])
        if not pl.segments:
            return None
        data = requests.get(pl.segments[-1][2], timeout=(timeout_s, timeout_s)).content
    except (requests.RequestException, ValueError):
        return None
    fd, path = tempfile.mkstemp(suffix=".ts")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        cap = cv2.VideoCapture(path)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        cap.release()
    finally:
        Path(path).unlink(missing_ok=True)
    return round(fps, 2) if 0 < fps < 1000 else None


def probe(
    url: str,
    *,
    userinfo: str | None = None,
    timeout_s: float = 5.0,
    frames: int = 6,
    test_frame: str | Path | None = None,
    blur: Callable[[np.ndarray], np.ndarray] | None = None,
    warmup_s: float = 0.5,
    window_s: float = 1.0,
) -> ProbeResult:
    """Detect, resolve and read ``url`` (see the module docstring). Never raises for a bad camera: the result
    says what failed. ``test_frame``: where to write the blurred JPEG (needs ``blur``). The frame rate of MJPEG
    and RTSP is the arrival rate over ``window_s`` (at least ``frames`` frames) after ``warmup_s``."""
    clean = _clean(url)
    userinfo = userinfo or split_credentials(url)[1]
    res = ProbeResult(url=clean)
    try:
        detected, kind, stream, via = resolve(clean, timeout_s, userinfo)
    except StreamError as exc:
        res.error = redact(f"{exc.reason}: {exc.message}")
        return res
    res.detected, res.protocol, res.stream_url, res.via = detected, kind, stream, via
    if kind is None or stream is None:
        res.error = "no stream found" + (" in the viewer page" if detected == "viewer" else " (unknown content)")
        return res
    open_url = with_credentials(stream, userinfo if stream == clean else None)
    reader = open_stream(
        open_url, kind, connect_timeout_s=timeout_s, read_timeout_s=max(timeout_s, 8.0), max_idle_s=60.0
    )
    frame: np.ndarray | None = None
    n = 0
    t0 = time.monotonic()
    t_first = w0 = t_last = 0.0
    in_window = 0
    try:
        while True:
            frame = reader.read()
            n += 1
            t_last = time.monotonic()
            if n == 1:
                t_first = t_last
                if kind not in ("mjpeg", "rtsp"):
                    break
                continue
            if t_last - t_first < warmup_s:  # a fresh connection delivers buffered frames in a burst
                continue
            if not w0:
                w0 = t_last
                continue
            in_window += 1
            if t_last - w0 >= window_s and in_window >= max(1, frames - 2):
                break
    except StreamError as exc:
        if frame is None or n == 0:
            res.error = redact(f"{exc.reason}: {exc.message}")
            return res
    finally:
        reader.close()
    assert frame is not None
    res.ok = True
    res.frames = n
    res.height, res.width = int(frame.shape[0]), int(frame.shape[1])
    res.latency_ms = round((t_first - t0) * 1000.0, 1)
    if kind in ("mjpeg", "rtsp") and in_window >= 2 and t_last > w0:
        res.fps = round(in_window / (t_last - w0), 2)
    elif kind == "hls":
        res.fps = _hls_fps(stream, timeout_s)
    if test_frame is not None and blur is not None:
        ok, buf = cv2.imencode(".jpg", blur(frame), [cv2.IMWRITE_JPEG_QUALITY, 85])
        if ok:
            Path(test_frame).parent.mkdir(parents=True, exist_ok=True)
            Path(test_frame).write_bytes(buf.tobytes())
            res.test_frame = str(test_frame)
    return res

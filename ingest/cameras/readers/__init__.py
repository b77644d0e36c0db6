"""Camera stream readers, one module per protocol: ``hls``, ``rtsp``, ``mjpeg``, ``snapshot``, ``file``
(over ``base``: the interface; ``http`` and ``opencv``: shared plumbing; ``pacing``: backoff and sampling).

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
* Reduced decode: with ``reader.decode_min_size = (w, h)`` the JPEG readers (snapshot, MJPEG) decode at the largest
  1/2, 1/4 or 1/8 reduction that keeps at least that size (libjpeg skips DCT coefficients: a fraction of a full
  decode) and keep the frame's bytes and full size in ``last_encoded`` / ``last_source_size``.
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

from typing import Any

from ingest.cameras.readers.base import (
    IMAGE_SUFFIXES,
    MAX_JPEG_BYTES,
    REASONS,
    STREAM_KINDS,
    StreamError,
    StreamReader,
    decode_jpeg,
    jpeg_size,
)
from ingest.cameras.readers.file import FileReader
from ingest.cameras.readers.hls import HlsPlaylist, HlsReader, parse_m3u8
from ingest.cameras.readers.mjpeg import MjpegReader
from ingest.cameras.readers.pacing import Backoff, Sampler
from ingest.cameras.readers.rtsp import RtspReader, rtsp_describe
from ingest.cameras.readers.snapshot import SnapshotReader

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_JPEG_BYTES",
    "REASONS",
    "STREAM_KINDS",
    "Backoff",
    "FileReader",
    "HlsPlaylist",
    "HlsReader",
    "MjpegReader",
    "RtspReader",
    "Sampler",
    "SnapshotReader",
    "StreamError",
    "StreamReader",
    "decode_jpeg",
    "jpeg_size",
    "open_stream",
    "parse_m3u8",
    "rtsp_describe",
]


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

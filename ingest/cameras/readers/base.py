"""The reader interface: ``StreamReader``, ``StreamError`` and its reasons, stream kinds, JPEG decoding."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

import cv2
import numpy as np

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
        # JPEG frames (snapshot, MJPEG) are decoded at the largest libjpeg reduction that keeps at least this
        # (width, height); None decodes at full size
        self.decode_min_size: tuple[int, int] | None = None
        # the last JPEG frame's encoded bytes and full (width, height) (None for video streams)
        self.last_encoded: bytes | None = None
        self.last_source_size: tuple[int, int] | None = None

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

    def _decode(self, data: bytes) -> np.ndarray:
        """A JPEG frame at ``decode_min_size``; keeps its bytes and full size (``last_encoded``,
        ``last_source_size``) so that a keyframe can be stored at full size without encoding it again."""
        img = decode_jpeg(data, url=self.url, min_size=self.decode_min_size)
        self.last_encoded = data
        self.last_source_size = jpeg_size(data) or (int(img.shape[1]), int(img.shape[0]))
        return img

    def _check_open(self) -> None:
        if self.closed:
            raise StreamError("offline", "reader is closed", url=self.url)


# JPEG start-of-frame markers (baseline, extended, progressive, lossless, arithmetic) hold the image size
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# libjpeg decodes at 1/8, 1/4 or 1/2 of the size by skipping DCT coefficients: far cheaper than decoding in full
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame header; None when ``data`` is not a JPEG or has no such
    header before its first scan."""
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    i = 2
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header came first
            return None
        if marker in _SOF_MARKERS:
            if i + 9 > n:
                return None
            h, w = int.from_bytes(data[i + 5 : i + 7], "big"), int.from_bytes(data[i + 7 : i + 9], "big")
            return (w, h) if w > 0 and h > 0 else None
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


def reduction_flag(size: tuple[int, int] | None, min_size: tuple[int, int] | None) -> int:
    """The ``cv2.imdecode`` flag that decodes a JPEG of ``size`` = (w, h) at the largest 1/2, 1/4 or 1/8
    reduction still at least ``min_size`` = (w, h) (libjpeg rounds the reduced sides up); IMREAD_COLOR when
    none fits or a size is unknown."""
    if size is None or min_size is None:
        return cv2.IMREAD_COLOR
    w, h = size
    for f, flag in _REDUCED:
        if -(-w // f) >= min_size[0] and -(-h // f) >= min_size[1]:
            return flag
    return cv2.IMREAD_COLOR


def decode_jpeg(data: bytes, *, url: str = "", min_size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode encoded image bytes to (H, W, 3) uint8 BGR or raise ``StreamError('decode_error')``.

    ``min_size`` = (w, h): a JPEG is decoded at the largest 1/2, 1/4 or 1/8 reduction that keeps at least this
    size (:func:`reduction_flag`); other formats, and JPEGs too small to reduce, at full size."""
    if not data:
        raise StreamError("decode_error", "empty image body", url=url)
    flag = cv2.IMREAD_COLOR if min_size is None else reduction_flag(jpeg_size(data), min_size)
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag)
    if img is None or img.ndim != 3 or img.shape[2] != 3 or img.size == 0:
        raise StreamError("decode_error", f"{len(data)} bytes are not a decodable image", url=url)
    return img

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


def decode_jpeg(data: bytes, *, url: str = "") -> np.ndarray:
    """Decode encoded image bytes to (H, W, 3) uint8 BGR or raise ``StreamError('decode_error')``."""
    if not data:
        raise StreamError("decode_error", "empty image body", url=url)
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.ndim != 3 or img.shape[2] != 3 or img.size == 0:
        raise StreamError("decode_error", f"{len(data)} bytes are not a decodable image", url=url)
    return img

"""Local files: a video (any FFmpeg format) or a folder of images sorted by name."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ingest.cameras.readers.base import IMAGE_SUFFIXES, StreamError, StreamReader, decode_jpeg
from ingest.cameras.readers.opencv import open_capture


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
                self._cap = open_capture(
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

"""Validated frame container and the working resolutions used by the detectors."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

#: Working size (width, height) for temporal/physical features. 160x90 keeps 16:9 and is cheap.
WORK_SIZE: tuple[int, int] = (160, 90)
#: Square size the learned head sees (the training images are stretched squares too).
HEAD_SIZE: int = 96


class FrameError(ValueError):
    """Raised when an array is not a usable BGR frame."""


@dataclass(frozen=True)
class Frame:
    """One validated camera frame.

    Attributes:
        bgr: (H, W, 3) uint8, BGR channel order, C-contiguous.
        ts: capture time, seconds since the epoch (UTC).
        small: (90, 160, 3) uint8 BGR, INTER_AREA downscale of ``bgr`` for physical features.
        head: (96, 96, 3) uint8 BGR, stretched downscale for descriptor plugins (computed on first use).
    """

    bgr: np.ndarray
    ts: float = 0.0
    small: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        a = self.bgr
        if not isinstance(a, np.ndarray):
            raise FrameError(f"frame must be a numpy array, got {type(a).__name__}")
        if a.ndim != 3 or a.shape[2] != 3:
            raise FrameError(f"frame must be (H, W, 3), got shape {a.shape}")
        if a.dtype != np.uint8:
            raise FrameError(f"frame must be uint8, got {a.dtype}")
        if a.shape[0] < 8 or a.shape[1] < 8:
            raise FrameError(f"frame too small: {a.shape}")
        if not np.isfinite(self.ts):
            raise FrameError("timestamp must be finite")
        a = np.ascontiguousarray(a)
        object.__setattr__(self, "bgr", a)
        object.__setattr__(self, "small", cv2.resize(a, WORK_SIZE, interpolation=cv2.INTER_AREA))

    @functools.cached_property
    def head(self) -> np.ndarray:
        return cv2.resize(self.bgr, (HEAD_SIZE, HEAD_SIZE), interpolation=cv2.INTER_AREA)

    @property
    def height(self) -> int:
        return int(self.bgr.shape[0])

    @property
    def width(self) -> int:
        return int(self.bgr.shape[1])

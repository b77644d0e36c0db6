"""The detector plugin interface and the per-frame derived maps shared by detectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import cv2
import numpy as np

from analytics.vision import features as F
from analytics.vision.frame import Frame

if TYPE_CHECKING:
    from analytics.vision.state import CameraState


@dataclass(frozen=True)
class DetectorResult:
    """A detector's verdict on one frame: ``score`` in [0, 1] (NaN = unknown) and the features explaining it."""

    score: float
    features: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s = float(self.score)
        if not (np.isnan(s) or 0.0 <= s <= 1.0):
            raise ValueError(f"score must be in [0, 1] or NaN, got {s}")
        object.__setattr__(self, "score", s)


@runtime_checkable
class Detector(Protocol):
    """A detector plugin. ``score`` may read ``state`` (history) but must not update it: the analyzer
    updates the temporal state once per frame after all detectors ran."""

    name: str
    version: str

    def score(self, frame: Frame, state: CameraState) -> DetectorResult: ...


@dataclass
class FrameMaps:
    """Maps derived once per frame at the working size (H, W) = (90, 160).

    f: (H, W, 3) float32 BGR in [0, 1]; h, s, v: (H, W) float32; gray: (H, W) float32; grad: (H, W) float32
    gradient magnitude (|gx| + |gy|); flame: (H, W) bool flame-colour mask; grad_x: (H, W) float32 |gx| (vertical
    edges).
    """

    f: np.ndarray
    h: np.ndarray
    s: np.ndarray
    v: np.ndarray
    gray: np.ndarray
    grad: np.ndarray
    flame: np.ndarray
    bg_diff: np.ndarray | None = None
    grad_x: np.ndarray | None = None

    @classmethod
    def of(cls, frame: Frame) -> FrameMaps:
        cached = frame_cache(frame).get("maps")
        if isinstance(cached, FrameMaps):
            return cached
        small = frame.small
        f = F.to_float(small)
        h, s, v = F.hsv_planes(small)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32) * (1.0 / 255.0)
        grad, gx, _ = F.gradient_magnitude(gray)
        maps = cls(f=f, h=h, s=s, v=v, gray=gray, grad=grad, flame=F.flame_mask(f), grad_x=gx)
        frame_cache(frame)["maps"] = maps
        return maps


_CACHE_ATTR = "_pantau_cache"


def frame_cache(frame: Frame) -> dict[str, object]:
    """Per-frame scratch dict (derived maps, head outputs) so that detectors share work."""
    c = frame.__dict__.get(_CACHE_ATTR)
    if c is None:
        c = {}
        object.__setattr__(frame, _CACHE_ATTR, c)
    return c

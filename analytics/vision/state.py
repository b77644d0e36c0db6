"""Per-camera temporal state: background model, dry reference, flame flicker and area histories."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from analytics.vision.base import FrameMaps
from analytics.vision.features import abs_diff_mean, chan_sum
from analytics.vision.frame import WORK_SIZE

HISTORY = 12
#: background learning rate, relative to ``bg_alpha``, where the foreground persists from the previous frame
STATIC_FG_RATE = 0.08


@dataclass
class CameraState:
    """Everything a camera's detectors remember between frames (all arrays at the working size (90, 160)).

    Attributes:
        bg: (90, 160, 3) float32 EMA background in [0, 1] (slow where foreground).
        bg_grad: (90, 160) float32 gradient magnitude of the background (edge energy reference for smoke).
        dry_ref: (90, 160, 3) float16 dry-road reference (updated only while no water is seen), None until set.
        flame_p: (90, 160) float16 per-pixel EMA frequency of flame colour (steady lamp -> 1, flicker -> between).
        prev_gray: (90, 160) float16 previous gray frame; prev_flame: (90, 160) bool its flame-colour mask.
        flame_area / smoke_area / fg_area: recent per-frame area fractions (deques of length HISTORY).
        smoke_mask: (90, 160) bool smoke regions of the previous frame (hysteresis of the smoke detector).
        prev_fg: (90, 160) bool foreground of the previous frame (a standing crowd persists, traffic passes).
        n_frames: frames folded into the state so far; last_ts: their last timestamp.
        stream: True when the frames come from a camera stream (set by the analyzer), False for stills: on a
            stream, hazards that need temporal evidence stay low until the state is warm.
    """

    bg: np.ndarray | None = None
    bg_grad: np.ndarray | None = None
    dry_ref: np.ndarray | None = None
    dry_frames: int = 0
    flame_p: np.ndarray | None = None
    prev_gray: np.ndarray | None = None
    prev_flame: np.ndarray | None = None
    flame_area: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    smoke_area: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    fg_area: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    flicker: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    n_frames: int = 0
    last_ts: float | None = None
    bg_alpha: float = 0.08
    dry_alpha: float = 0.05
    dry_warmup: int = 3
    bg_sat: np.ndarray | None = None
    smoke_mask: np.ndarray | None = None
    prev_fg: np.ndarray | None = None
    scratch: dict[str, float] = field(default_factory=dict)
    stream: bool = False
    _dry_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def warm(self) -> bool:
        """True once the background has seen enough frames for temporal reasoning."""
        return self.n_frames >= 3 and self.bg is not None

    def bg_diff(self, maps: FrameMaps) -> np.ndarray:
        """(90, 160) float32 mean |frame - background| over channels (zeros before the first frame); cached."""
        if self.bg is None:
            return np.zeros(maps.gray.shape, np.float32)
        if maps.bg_diff is None:
            maps.bg_diff = abs_diff_mean(maps.f, self.bg)
        return maps.bg_diff

    def foreground(self, maps: FrameMaps, thr: float = 0.12) -> np.ndarray:
        """(90, 160) bool: pixels differing from the background by more than ``thr`` (mean |dBGR|)."""
        return self.bg_diff(maps) > thr

    def dry_derived(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(dry reference (H, W, 3) float32, its chromaticity (H, W, 3), its blurred gradient (H, W)); cached."""
        if self.dry_ref is None:
            return None
        if self._dry_cache is None:
            ref = self.dry_ref.astype(np.float32)
            chroma = ref / (chan_sum(ref)[..., None] + 1e-3)
            g = cv2.cvtColor(ref, cv2.COLOR_BGR2GRAY)
            gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
            gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
            self._dry_cache = (ref, chroma, cv2.blur(np.abs(gx) + np.abs(gy), (3, 3)))
        return self._dry_cache

    def update(
        self,
        maps: FrameMaps,
        ts: float,
        *,
        flood_score: float,
        smoke_px: float,
        fg: np.ndarray,
        hold: np.ndarray | None = None,
    ) -> None:
        """Fold one healthy frame into the state (called by the analyzer after scoring). The background learns
        slowly where ``fg`` (moving things) and ``hold`` (an ongoing hazard, e.g. smoke: never learn it as scenery)."""
        if self.bg is None:
            self.bg = maps.f.copy()
            self.flame_p = maps.flame.astype(np.float16)
        else:
            a = np.where(fg, self.bg_alpha * 0.25, self.bg_alpha).astype(np.float32)
            if self.prev_fg is not None:
                # foreground that stays (a standing crowd) is learned slower still
                a[fg & self.prev_fg] = self.bg_alpha * STATIC_FG_RATE
            if hold is not None:  # an ongoing hazard (smoke) is never learned as scenery
                a[hold] = self.bg_alpha * 0.25
            a = a[..., None]
            self.bg += a * (maps.f - self.bg)
            fp = self.flame_p.astype(np.float32) if self.flame_p is not None else maps.flame.astype(np.float32)
            fp += 0.35 * (maps.flame.astype(np.float32) - fp)
            self.flame_p = fp.astype(np.float16)
        bg_gray = cv2.cvtColor(self.bg, cv2.COLOR_BGR2GRAY)
        gx = cv2.Sobel(bg_gray, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(bg_gray, cv2.CV_32F, 0, 1, ksize=3)
        self.bg_grad = np.abs(gx) + np.abs(gy)
        self.bg_sat = cv2.cvtColor(self.bg, cv2.COLOR_BGR2HSV)[..., 1]
        if not np.isnan(flood_score) and flood_score < 0.3:
            if self.dry_ref is None or self.dry_frames < self.dry_warmup:
                self.dry_ref = self.bg.astype(np.float16)
            else:
                ref = self.dry_ref.astype(np.float32)
                ref += self.dry_alpha * (self.bg - ref)
                self.dry_ref = ref.astype(np.float16)
            self.dry_frames += 1
            self._dry_cache = None
        self.smoke_mask = None if hold is None or not hold.any() else hold.copy()
        self.prev_fg = fg.copy()
        self.prev_gray = maps.gray.astype(np.float16)
        self.prev_flame = maps.flame.copy()
        self.flame_area.append(float(maps.flame.mean()))
        self.smoke_area.append(float(smoke_px))
        self.fg_area.append(float(fg.mean()))
        self.n_frames += 1
        self.last_ts = ts

    def nbytes(self) -> int:
        """Approximate memory of the state's arrays and histories in bytes."""
        arrays = [self.bg, self.bg_grad, self.bg_sat, self.dry_ref, self.flame_p, self.prev_gray, self.prev_flame]
        arrays.extend(a for a in (self.smoke_mask, self.prev_fg) if a is not None)
        if self._dry_cache is not None:
            arrays.extend(self._dry_cache)
        n = sum(a.nbytes for a in arrays if a is not None)
        return n + 4 * HISTORY * 8 + 256


def empty_state() -> CameraState:
    """A fresh state (stills are scored with one: no history, only single-frame evidence)."""
    return CameraState()


WORK_HW = (WORK_SIZE[1], WORK_SIZE[0])

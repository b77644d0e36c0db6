"""Analyzer protocol, the scoring switch and the pass-through analyzer.

The capture worker talks to an analyzer through ``Analyzer`` (the shape of
``analytics.vision.pipeline.CameraAnalyzer``): ``process(frame, ts, health) -> scores`` where ``scores``
has ``.to_row() -> dict`` with the ``frame_scores`` columns (minus camera_id/captured_at/batch_id).
``analyzer_factory(scoring)`` is the switch (the ``scoring`` setting): ``vision`` is the real ``CameraAnalyzer``
(an import failure stops the worker at start), ``passthrough`` is ``PassthroughAnalyzer`` (motion and health
only, hazard scores NULL, so no hazard alerts). Pass-through frames carry ``model_version`` ``passthrough-1``
(``PASSTHROUGH_VERSION``), which camera health shows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import cv2
import numpy as np

log = logging.getLogger(__name__)

PASSTHROUGH_VERSION = "passthrough-1"


class Scores(Protocol):
    def to_row(self) -> dict[str, Any]: ...


class Analyzer(Protocol):
    """``frame`` is None for a failed read (the worker still reports the sample's health)."""

    def process(
        self, frame: np.ndarray | None, ts: float, health: str = "ok", context: Mapping[str, str] | None = None
    ) -> Scores: ...


AnalyzerFactory = Callable[[str], Analyzer]


@dataclass(frozen=True)
class PassthroughScores:
    """frame_scores columns; hazards are NULL because nothing looked for them."""

    fire: float | None = None
    smoke: float | None = None
    flood: float | None = None
    flood_depth_class: int | None = None
    persons: float | None = None
    crowd_density: float | None = None
    crowd_level: str | None = None
    crowd: float | None = None
    motion: float | None = None
    health: str = "ok"
    risk_level: str | None = None
    risk_hazard: str | None = None
    model_version: str = PASSTHROUGH_VERSION
    features: str | None = None
    level_fire: str | None = None
    level_smoke: str | None = None
    level_flood: str | None = None
    level_crowd: str | None = None

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


class PassthroughAnalyzer:
    """Motion (share of changed pixels between consecutive samples) and health; no hazard detection.

    ``process(frame (H, W, 3) uint8 BGR, ts, health) -> PassthroughScores``. Frames are compared on a
    (90, 160) grayscale copy; a pixel counts as changed when its value moved by more than ``pixel_delta``.
    """

    def __init__(self, camera_id: str = "", config: Any = None, *, pixel_delta: float = 25.0) -> None:
        self.camera_id = camera_id
        self.pixel_delta = pixel_delta
        self._prev: np.ndarray | None = None

    def process(
        self, frame: np.ndarray | None, ts: float, health: str = "ok", context: Mapping[str, str] | None = None
    ) -> PassthroughScores:
        if frame is None:  # failed read: health only
            self._prev = None
            return PassthroughScores(health=health)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected (H, W, 3) uint8 BGR, got {frame.shape} {frame.dtype}")
        gray = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (160, 90), interpolation=cv2.INTER_AREA)
        g = gray.astype(np.int16)
        motion = None
        if self._prev is not None and health == "ok":
            motion = float((np.abs(g - self._prev) > self.pixel_delta).mean())
        self._prev = g
        feats = {"mean_luma": round(float(gray.mean()), 2)}
        return PassthroughScores(motion=motion, health=health, features=json.dumps(feats))


SCORING_MODES = ("vision", "passthrough")


def analyzer_factory(scoring: str = "vision", config: Any = None) -> AnalyzerFactory:
    """The analyzer for the ``scoring`` setting: ``vision`` (the default) or ``passthrough``."""
    if scoring == "passthrough":
        log.warning("pass-through scoring: hazards are not detected and raise no alerts (setting scoring=passthrough)")

        def _pass(camera_id: str) -> Analyzer:
            return PassthroughAnalyzer(camera_id)

        return _pass
    if scoring != "vision":
        raise ValueError(f"scoring must be one of {SCORING_MODES}, not {scoring!r}")
    from analytics.vision.pipeline import CameraAnalyzer

    def _real(camera_id: str) -> Analyzer:
        return CameraAnalyzer(camera_id, config)  # type: ignore[no-any-return]

    return _real


def default_analyzer_factory(config: Any = None) -> AnalyzerFactory:
    """The vision pipeline's ``CameraAnalyzer`` (``analyzer_factory("vision", config)``)."""
    return analyzer_factory("vision", config)

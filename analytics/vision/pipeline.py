"""Per-camera analysis: all detectors + temporal state + risk fusion -> one ``FrameScores`` row per frame."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from analytics.levels import LEVEL_COLUMNS, flood_evidence
from analytics.risk import RiskConfig, RiskTracker
from analytics.vision import MODEL_VERSION
from analytics.vision.base import Detector, DetectorResult, FrameMaps, frame_cache
from analytics.vision.config import CameraVisionConfig
from analytics.vision.detectors import CrowdDetector, FireDetector, FloodDetector, SmokeDetector, fruin_level
from analytics.vision.frame import Frame
from analytics.vision.head import head_outputs
from analytics.vision.plugins import OnnxPlugin, load_plugin
from analytics.vision.road_users import RoadUserDetector
from analytics.vision.state import CameraState

log = logging.getLogger(__name__)

HAZARDS = ("fire", "smoke", "flood", "crowd")
HEALTH_OK = "ok"
#: frames a camera must have seen before its scores feed risk levels (the background model settles first)
RISK_WARMUP_FRAMES = 6
#: cheap first stage: on a quiet frame (under QUIET_CHANGED of its pixels changed by more than 0.08 in grey level
#: since the last frame, no flame colour, and a calm last head result) the backbone runs only on every
#: QUIET_HEAD_EVERY-th frame of a camera
QUIET_HEAD_EVERY = 4
QUIET_CHANGED = 0.005
QUIET_FLAME = 0.0005
QUIET_HEAD_MAX = 0.3


@dataclass(frozen=True)
class FrameScores:
    """The ``frame_scores`` row of one frame (minus camera_id / captured_at / batch_id).

    Scores are in [0, 1]; NaN (NULL) when the camera is unhealthy: an unhealthy camera is unknown, never safe.
    """

    fire: float
    smoke: float
    flood: float
    flood_depth_class: int | None
    persons: float
    crowd_density: float | None
    crowd_level: str | None
    crowd: float
    motion: float
    health: str
    risk_level: str | None
    risk_hazard: str | None
    model_version: str
    features: str
    level_fire: str | None = None
    level_smoke: str | None = None
    level_flood: str | None = None
    level_crowd: str | None = None

    def to_row(self) -> dict[str, Any]:
        """Dict for the lake; NaN becomes None (NULL)."""
        row = asdict(self)
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                row[k] = None
        return row

    def scores(self) -> dict[str, float]:
        return {"fire": self.fire, "smoke": self.smoke, "flood": self.flood, "crowd": self.crowd}


def _json_safe(d: Mapping[str, Mapping[str, float]]) -> str:
    out: dict[str, dict[str, float | None]] = {}
    for det, feats in d.items():
        out[det] = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else round(float(v), 4)) for k, v in feats.items()
        }
    return json.dumps(out, separators=(",", ":"), sort_keys=True)


def _level_columns(levels: Mapping[str, str | None]) -> dict[str, str | None]:
    return {LEVEL_COLUMNS[hz]: levels.get(hz) for hz in HAZARDS}


def self_health(frame: Frame) -> str:
    """Health the frame itself shows: 'black' (dark, flat) or 'tampered' (uniform, e.g. covered lens) else 'ok'."""
    small = frame.small
    mean, std = float(small.mean()), float(small.std())
    if std < 2.0:
        return "black" if mean < 20 else "tampered"
    return HEALTH_OK


class CameraAnalyzer:
    """Scores one camera's frames in order. Not thread-safe: one analyzer per camera per worker."""

    def __init__(
        self,
        camera_id: str,
        config: CameraVisionConfig | None = None,
        risk: RiskConfig | None = None,
        extra_detectors: Sequence[Detector] = (),
    ) -> None:
        self.camera_id = camera_id
        self.config = config or CameraVisionConfig()
        self.state = CameraState()
        self.fire = FireDetector(self.config.head_every)
        self.smoke = SmokeDetector()
        self.flood = FloodDetector(self.config)
        self.crowd = CrowdDetector(self.config)
        self.road_users = RoadUserDetector()
        self.plugins: list[Detector] = [load_plugin(p) for p in self.config.plugins]
        self.plugins.extend(extra_detectors)
        self.risk = RiskTracker(camera_id, risk)
        self.last_changes: tuple = ()
        self._head_cache: dict[str, float] | None = None
        self._head_age = 0

    @property
    def detectors(self) -> list[Detector]:
        return [self.fire, self.smoke, self.flood, self.crowd, self.road_users, *self.plugins]

    def _unknown(self, health: str) -> FrameScores:
        rs = self.risk.update(0.0 if self.state.last_ts is None else self.state.last_ts, {}, health=health)
        self.last_changes = rs.changes
        nan = math.nan
        return FrameScores(
            fire=nan, smoke=nan, flood=nan, flood_depth_class=None, persons=nan, crowd_density=None,
            crowd_level=None, crowd=nan, motion=nan, health=health, risk_level=rs.level, risk_hazard=rs.hazard,
            model_version=MODEL_VERSION, features=json.dumps({"health": health}), **_level_columns(rs.hazard_levels),
        )  # fmt: skip

    def score_frame(self, frame: Frame) -> dict[str, DetectorResult]:
        """Run every detector on a frame against the current state (does not update the state)."""
        results = {d.name: d.score(frame, self.state) for d in self.detectors}
        for plug in self.plugins:
            if isinstance(plug, OnnxPlugin):
                for hz in HAZARDS:
                    v = results[plug.name].features.get(f"hazard_{hz}")
                    if v is not None and hz in results:
                        base = results[hz]
                        if v > base.score:
                            results[hz] = DetectorResult(v, {**base.features, f"plugin_{plug.name}": v})
        return results

    def _quiet(self, fr: Frame) -> bool:
        """Cheap first stage: the frame barely changed since the last one, shows no flame colour, and the last
        head result saw nothing (all hazard scores < QUIET_HEAD_MAX)."""
        if self._head_cache is None or self.state.prev_gray is None:
            return False
        if max(self._head_cache.get(h, 1.0) for h in HAZARDS) >= QUIET_HEAD_MAX:
            return False
        maps = FrameMaps.of(fr)
        if float(maps.flame.mean()) >= QUIET_FLAME:
            return False
        changed = np.abs(maps.gray - self.state.prev_gray.astype(np.float32)) > 0.08
        return float(changed.mean()) < QUIET_CHANGED

    def process(
        self, frame: np.ndarray | None, ts: float, health: str = HEALTH_OK, context: Mapping[str, str] | None = None
    ) -> FrameScores:
        """Score one frame (H, W, 3) uint8 BGR taken at ``ts`` (epoch seconds) with the capture health.

        ``context``: per hazard, independent evidence backing it (e.g. ``{"flood": "gate Manggarai Siaga 2"}``);
        it may shorten confirmation of a level, never lowers one (see ``analytics.risk``)."""
        if health != HEALTH_OK or frame is None:
            return self._unknown(health if health != HEALTH_OK else "decode_error")
        self.state.stream = True
        fr = Frame(frame, ts)
        own = self_health(fr)
        if own != HEALTH_OK:
            return self._unknown(own)
        every = QUIET_HEAD_EVERY if self._quiet(fr) else self.config.head_every
        if self._head_cache is not None and self._head_age < max(every, self.config.head_every) - 1:
            frame_cache(fr)["head"] = self._head_cache  # the scene changes slowly: reuse a recent head result
            self._head_age += 1
        else:
            self._head_cache = head_outputs(fr)
            self._head_age = 0
        res = self.score_frame(fr)
        maps = FrameMaps.of(fr)
        fg = self.state.foreground(maps)
        motion = float(fg.mean()) if self.state.warm else 0.0
        fire, smoke, flood, crowd = res["fire"], res["smoke"], res["flood"], res["crowd"]
        dc = flood.features.get("depth_class", math.nan)
        depth = None if math.isnan(dc) else int(dc)
        if depth is None and flood.score >= self.config.thresholds.flood:
            depth = 1
        persons = float(crowd.features.get("persons", math.nan))
        dens = crowd.features.get("density", math.nan)
        density = None if math.isnan(dens) else float(dens)
        self.state.flicker.append(float(fire.features.get("flicker_now", 0.0)))
        smoke_reg = SmokeDetector.regions(fr, self.state)
        self.state.update(maps, ts, flood_score=flood.score, smoke_px=smoke_reg.area, fg=fg, hold=smoke_reg.mask)
        evidence = {
            "fire": f"flame {fire.features.get('flame_frac', 0):.3f}, flicker {fire.features.get('temporal', 0):.2f}",
            "smoke": f"grey area {smoke.features.get('smoke_area', smoke.features.get('grey_frac', 0)):.3f}",
            "flood": f"road water {flood.features.get('coverage', math.nan):.2f}, depth class {depth}",
            "crowd": f"persons {persons:.1f}" + (f", density {density:.2f}/m2" if density is not None else ""),
        }
        warm = self.state.n_frames > RISK_WARMUP_FRAMES  # background and flicker history have settled
        # single-frame evidence alone never confirms a level: risk starts once temporal evidence exists
        rs = self.risk.update(
            ts,
            {**{k: res[k].score for k in HAZARDS}, "flood": flood_evidence(flood.score, depth)} if warm else {},
            evidence,
            health="ok" if warm else "warming_up",
            context=context,
        )
        self.last_changes = rs.changes
        for ch in rs.changes:
            log.info("%s", ch.explanation)
        return FrameScores(
            fire=fire.score, smoke=smoke.score, flood=flood.score, flood_depth_class=depth, persons=persons,
            crowd_density=density, crowd_level=fruin_level(density), crowd=crowd.score, motion=motion,
            health=HEALTH_OK, risk_level=rs.level, risk_hazard=rs.hazard if rs.level != "Normal" else None,
            model_version=MODEL_VERSION, features=_json_safe({k: v.features for k, v in res.items()}),
            **_level_columns(rs.hazard_levels),
        )  # fmt: skip

    def memory_bytes(self) -> int:
        """Bytes held by this camera's temporal state."""
        return self.state.nbytes()


def score_image(bgr: np.ndarray, config: CameraVisionConfig | None = None) -> dict[str, float]:
    """Single-image scores (no temporal history) for evaluation: fire, smoke, flood, crowd in [0, 1], ``count``
    (persons) and the road-user counts (person, car, motorcycle, bus_truck, vehicles). (H, W, 3) uint8 BGR."""
    an = CameraAnalyzer("still", config)
    fr = Frame(bgr, 0.0)
    res = an.score_frame(fr)
    out = {k: res[k].score for k in HAZARDS}
    out["count"] = float(res["crowd"].features.get("persons", math.nan))
    out["normal"] = float(head_outputs(fr)["normal"])
    out.update({k: float(v) for k, v in res["road_users"].features.items()})
    return out

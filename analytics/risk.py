"""Risk fusion: per-camera smoothing, confirmation, hysteresis and per-kelurahan aggregation.

Levels use the Indonesian warning vocabulary, ordered Normal < Waspada (alert) < Siaga (standby) < Awas (danger).
Per camera and hazard the raw detector score is smoothed with an EMA; a higher level is entered only after the
smoothed score stays at or above that level's threshold for ``confirm_frames`` consecutive frames, and a level
is left only after the score stays below ``threshold - hysteresis`` for ``release_frames`` frames. Unknown
scores (NaN: camera unhealthy) freeze the state: they never confirm a level and never count as "safe".
Every level change carries an explanation string.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

LEVELS = ("Normal", "Waspada", "Siaga", "Awas")
HAZARDS = ("fire", "smoke", "flood", "crowd")
_RANK = {lv: i for i, lv in enumerate(LEVELS)}


def level_rank(level: str | None) -> int:
    """Normal=0 .. Awas=3; None/unknown = -1."""
    return _RANK.get(level or "", -1)


@dataclass(frozen=True)
class HazardPolicy:
    """Thresholds on the smoothed score for Waspada, Siaga, Awas (increasing)."""

    waspada: float = 0.5
    siaga: float = 0.7
    awas: float = 0.85

    def __post_init__(self) -> None:
        if not 0 < self.waspada < self.siaga < self.awas <= 1:
            raise ValueError("thresholds must satisfy 0 < waspada < siaga < awas <= 1")

    def thresholds(self) -> tuple[float, float, float]:
        return (self.waspada, self.siaga, self.awas)

    def target(self, score: float) -> int:
        """Level rank the score reaches (0 = Normal)."""
        return sum(score >= t for t in self.thresholds())


@dataclass(frozen=True)
class RiskConfig:
    """Smoothing and confirmation settings (frames are the camera's sampled frames)."""

    alpha: float = 0.5
    confirm_frames: int = 3
    release_frames: int = 3
    hysteresis: float = 0.1
    stale_frames: int = 3
    policies: Mapping[str, HazardPolicy] = field(
        default_factory=lambda: {
            "fire": HazardPolicy(0.5, 0.65, 0.8),
            "smoke": HazardPolicy(0.5, 0.7, 0.85),
            "flood": HazardPolicy(0.5, 0.7, 0.85),
            "crowd": HazardPolicy(0.6, 0.75, 0.9),
        }
    )

    def __post_init__(self) -> None:
        if not 0 < self.alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        if self.confirm_frames < 1 or self.release_frames < 1:
            raise ValueError("confirm/release frames must be >= 1")
        if not 0 <= self.hysteresis < 0.5:
            raise ValueError("hysteresis must be in [0, 0.5)")


@dataclass(frozen=True)
class LevelChange:
    """One level change of one hazard at one camera, with its explanation."""

    camera_id: str
    hazard: str
    ts: float
    from_level: str
    to_level: str
    score: float
    explanation: str


@dataclass
class _HazardTrack:
    level: int = 0
    ema: float | None = None
    up_run: int = 0
    down_run: int = 0
    pending: int = 0


@dataclass(frozen=True)
class RiskState:
    """The camera's levels after a frame. ``level``/``hazard``: the worst hazard (None when unknown)."""

    level: str | None
    hazard: str | None
    levels: dict[str, str]
    smoothed: dict[str, float]
    stale: bool
    changes: tuple[LevelChange, ...]


class RiskTracker:
    """Risk levels of one camera over time."""

    def __init__(self, camera_id: str, config: RiskConfig | None = None) -> None:
        self.camera_id = camera_id
        self.config = config or RiskConfig()
        self.tracks = {hz: _HazardTrack() for hz in self.config.policies}
        self.unknown_run = 0

    def update(
        self,
        ts: float,
        scores: Mapping[str, float | None],
        evidence: Mapping[str, str] | None = None,
        health: str = "ok",
    ) -> RiskState:
        """Fold one frame's raw scores (NaN/None = unknown). ``evidence`` adds per-hazard detail to explanations."""
        cfg = self.config
        changes: list[LevelChange] = []
        any_known = False
        for hz, tr in self.tracks.items():
            raw = scores.get(hz)
            if raw is None or math.isnan(raw):
                continue
            any_known = True
            tr.ema = raw if tr.ema is None else tr.ema + cfg.alpha * (raw - tr.ema)
            pol = cfg.policies[hz]
            target = pol.target(tr.ema)
            if target > tr.level:
                tr.down_run = 0
                tr.pending = target if tr.up_run == 0 else min(tr.pending, target)
                tr.up_run += 1
                if tr.up_run >= cfg.confirm_frames:
                    new = tr.pending
                    th = pol.thresholds()[new - 1]
                    changes.append(
                        self._change(
                            hz,
                            ts,
                            tr.level,
                            new,
                            tr.ema,
                            f"smoothed score {tr.ema:.2f} >= {th:.2f} for {tr.up_run} frames (raw {raw:.2f})",
                            evidence,
                        )
                    )
                    tr.level, tr.up_run, tr.pending = new, 0, 0
            elif tr.level > 0 and tr.ema < pol.thresholds()[tr.level - 1] - cfg.hysteresis:
                tr.up_run = 0
                tr.down_run += 1
                if tr.down_run >= cfg.release_frames:
                    new = max(0, min(tr.level - 1, pol.target(tr.ema + cfg.hysteresis)))
                    th = pol.thresholds()[tr.level - 1] - cfg.hysteresis
                    changes.append(
                        self._change(
                            hz,
                            ts,
                            tr.level,
                            new,
                            tr.ema,
                            f"smoothed score {tr.ema:.2f} < {th:.2f} for {tr.down_run} frames (raw {raw:.2f})",
                            evidence,
                        )
                    )
                    tr.level, tr.down_run = new, 0
            else:
                tr.up_run = 0
                tr.down_run = 0
        self.unknown_run = 0 if any_known and health == "ok" else self.unknown_run + 1
        stale = self.unknown_run >= cfg.stale_frames
        levels = {hz: LEVELS[tr.level] for hz, tr in self.tracks.items()}
        smoothed = {hz: (math.nan if tr.ema is None else tr.ema) for hz, tr in self.tracks.items()}
        worst = max(
            self.tracks, key=lambda h: (self.tracks[h].level, smoothed[h] if smoothed[h] == smoothed[h] else -1)
        )
        if not any_known or health != "ok":
            # a dead or unhealthy camera is never "safe": the level is unknown, but confirmed hazards stay visible
            lvl = LEVELS[self.tracks[worst].level] if self.tracks[worst].level > 0 else None
            return RiskState(lvl, worst if lvl else None, levels, smoothed, stale, tuple(changes))
        return RiskState(LEVELS[self.tracks[worst].level], worst, levels, smoothed, stale, tuple(changes))

    def _change(
        self, hz: str, ts: float, old: int, new: int, ema: float, why: str, evidence: Mapping[str, str] | None
    ) -> LevelChange:
        extra = f"; {evidence[hz]}" if evidence and evidence.get(hz) else ""
        text = f"{self.camera_id} {hz}: {LEVELS[old]} -> {LEVELS[new]}: {why}{extra}"
        return LevelChange(self.camera_id, hz, ts, LEVELS[old], LEVELS[new], ema, text)


@dataclass(frozen=True)
class CameraRisk:
    """A camera's latest state for aggregation."""

    camera_id: str
    kelurahan_code: str
    level: str | None
    hazard: str | None
    health: str = "ok"


@dataclass(frozen=True)
class KelurahanRisk:
    kelurahan_code: str
    level: str | None
    hazard: str | None
    cameras: int
    cameras_known: int
    cameras_at_level: int
    explanation: str


def aggregate_kelurahan(cameras: Iterable[CameraRisk]) -> dict[str, KelurahanRisk]:
    """Per kelurahan: the worst confirmed level among its cameras. A kelurahan whose cameras are all unhealthy
    or unknown gets level None (unknown), never Normal."""
    groups: dict[str, list[CameraRisk]] = {}
    for c in cameras:
        groups.setdefault(c.kelurahan_code, []).append(c)
    out: dict[str, KelurahanRisk] = {}
    for code, cams in sorted(groups.items()):
        known = [c for c in cams if c.level is not None and c.health == "ok"]
        flagged = [c for c in cams if c.level is not None and level_rank(c.level) > 0]
        pool = flagged or known
        if not pool:
            out[code] = KelurahanRisk(
                code, None, None, len(cams), 0, 0, f"{code}: no healthy camera ({len(cams)} cameras) -> unknown"
            )
            continue
        top = max(pool, key=lambda c: level_rank(c.level))
        at = [c for c in pool if c.level == top.level]
        hazard = top.hazard if level_rank(top.level) > 0 else None
        ids = ", ".join(sorted(c.camera_id for c in at))
        text = f"{code}: {top.level}" + (f" ({hazard}) from {ids}" if hazard else "")
        text += f"; {len(known)}/{len(cams)} cameras healthy"
        out[code] = KelurahanRisk(code, top.level, hazard, len(cams), len(known), len(at), text)
    return out

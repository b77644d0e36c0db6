"""Risk fusion: the one level engine — per-camera smoothing, confirmation, hysteresis, kelurahan aggregation.

Levels and thresholds come from :mod:`analytics.levels` (one table per hazard: fire, smoke, flood, crowd).
Per camera and hazard the raw detector score is smoothed with an EMA; a higher level is entered only after the
smoothed score stays at or above that level's threshold for ``confirm_frames`` consecutive frames, and a level
is left only after the score stays below ``threshold - hysteresis`` for ``release_frames`` frames. Unknown
scores (NaN: camera unhealthy) freeze the state: they never confirm a level and never count as "safe".

Context (e.g. a water gate at Siaga or a BMKG warning for a flood) is evidence, never a veto: when a hazard's
context supports it, ``context_confirm_frames`` replaces ``confirm_frames`` (confirmation is shorter) and the
explanation names the context; without context the image evidence alone still reaches every level.
Every level change carries an explanation string. The levels decided here are stored per hazard in
``frame_scores`` (``level_<hazard>``) and are what alerts, marts, open data and dashboards show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analytics.levels import HAZARDS, LEVELS, THRESHOLDS, HazardThresholds, flood_evidence, level_rank

__all__ = ["HAZARDS", "LEVELS", "CameraRisk", "KelurahanRisk", "LevelChange", "RiskConfig", "RiskTracker", "level_rank"]


@dataclass(frozen=True)
class RiskConfig:
    """Smoothing and confirmation settings (frames are the camera's sampled frames)."""

    alpha: float = 0.5
    confirm_frames: int = 3
    release_frames: int = 3
    #: confirmation when the hazard's context supports it (shorter, never longer than ``confirm_frames``)
    context_confirm_frames: int = 1
    stale_frames: int = 3
    policies: Mapping[str, HazardThresholds] = field(default_factory=lambda: dict(THRESHOLDS))

    def __post_init__(self) -> None:
        if not 0 < self.alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        if self.confirm_frames < 1 or self.release_frames < 1 or self.context_confirm_frames < 1:
            raise ValueError("confirm/release frames must be >= 1")
        if self.context_confirm_frames > self.confirm_frames:
            raise ValueError("context may shorten confirmation, never lengthen it")


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
    #: per hazard, the level this frame shows (None: the hazard was not scored and no level is confirmed);
    #: stored as ``frame_scores.level_<hazard>``; ``level`` is always the worst of these
    hazard_levels: dict[str, str | None] = field(default_factory=dict)


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
        context: Mapping[str, str] | None = None,
    ) -> RiskState:
        """Fold one frame's raw scores (NaN/None = unknown). ``evidence`` adds per-hazard detail to explanations;
        ``context`` maps a hazard to the independent evidence backing it (non-empty = supported)."""
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
            ctx = (context or {}).get(hz)
            need = cfg.context_confirm_frames if ctx else cfg.confirm_frames
            if target > tr.level:
                tr.down_run = 0
                tr.pending = target if tr.up_run == 0 else min(tr.pending, target)
                tr.up_run += 1
                if tr.up_run >= need:
                    new = tr.pending
                    th = pol.thresholds()[new - 1]
                    why = f"smoothed score {tr.ema:.2f} >= {th:.2f} for {tr.up_run} frames (raw {raw:.2f})"
                    if ctx:
                        why += f"; context: {ctx}"
                    changes.append(self._change(hz, ts, tr.level, new, tr.ema, why, evidence))
                    tr.level, tr.up_run, tr.pending = new, 0, 0
            elif tr.level > 0 and tr.ema < pol.release_below(tr.level):
                tr.up_run = 0
                tr.down_run += 1
                if tr.down_run >= cfg.release_frames:
                    new = max(0, min(tr.level - 1, pol.target(tr.ema + pol.hysteresis)))
                    th = pol.release_below(tr.level)
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
            shown = {hz: (LEVELS[tr.level] if tr.level > 0 else None) for hz, tr in self.tracks.items()}
            return RiskState(lvl, worst if lvl else None, levels, smoothed, stale, tuple(changes), shown)
        known = {hz for hz in self.tracks if scores.get(hz) is not None and not math.isnan(scores[hz])}  # type: ignore[arg-type]
        shown = {hz: (LEVELS[tr.level] if hz in known or tr.level > 0 else None) for hz, tr in self.tracks.items()}
        return RiskState(LEVELS[self.tracks[worst].level], worst, levels, smoothed, stale, tuple(changes), shown)

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


def assign_levels(
    rows: Iterable[dict[str, Any]],
    config: RiskConfig | None = None,
    context: Callable[[Mapping[str, Any]], Mapping[str, str] | None] | None = None,
    trackers: dict[str, RiskTracker] | None = None,
) -> list[dict[str, Any]]:
    """Run the level engine over frame_scores-like rows (per camera, in ``captured_at`` order) and fill
    ``risk_level``, ``risk_hazard`` and ``level_<hazard>`` in place — re-scoring, simulations and tests use the
    very engine the capture workers run. Rows need ``camera_id``, ``captured_at`` (datetime or epoch seconds),
    hazard scores (None/NaN = unknown) and optionally ``health``; ``context(row)`` gives per-hazard context.
    Pass the same ``trackers`` dict to continue the cameras' state across calls."""
    out = list(rows)
    trackers = {} if trackers is None else trackers

    def _ts(v: Any) -> float:
        return float(v.timestamp()) if hasattr(v, "timestamp") else float(v)

    for row in sorted(out, key=lambda r: (_ts(r["captured_at"]), str(r["camera_id"]))):
        cam = str(row["camera_id"])
        tr = trackers.setdefault(cam, RiskTracker(cam, config))
        health = str(row.get("health") or "ok")
        raw = {hz: row.get(hz) for hz in HAZARDS} if health == "ok" else {}
        scores: dict[str, float] = {k: float(v) for k, v in raw.items() if v is not None}
        if "flood" in scores:
            depth = row.get("flood_depth_class")
            scores["flood"] = flood_evidence(scores["flood"], None if depth is None else int(depth))
        st = tr.update(_ts(row["captured_at"]), scores, health=health, context=context(row) if context else None)
        row["risk_level"] = st.level
        row["risk_hazard"] = st.hazard if st.level not in (None, LEVELS[0]) else None
        for hz in HAZARDS:
            row[f"level_{hz}"] = st.hazard_levels.get(hz)
    return out

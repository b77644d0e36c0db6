"""Pure alert rules: an alert follows the one level engine; confirmation for camera health; de-duplication.

Scored hazards (fire, smoke, flood, crowd) are not re-thresholded here: their level is decided once in the
scoring path (``analytics.risk`` with the table in ``analytics.levels``) and stored per frame as
``frame_scores.level_<hazard>``. A frame_scores row becomes one :class:`Observation` per hazard carrying that
level, and the alert opens, escalates, de-escalates and resolves exactly when the level does (so the alert log,
the map and the marts show the same level for every camera-hour). A NULL level (hazard not scored, camera
warming up or unhealthy with nothing confirmed) changes nothing. Context such as water gates or BMKG
warnings acts in the level engine (shorter confirmation), never here.

Camera health ("camera") is not a level of the table: it keeps score-based confirmation, hysteresis and cooldown
(:class:`HazardRule`), e.g. three unhealthy frames open an operator alert.

* **De-duplication**: one state, hence at most one active alert, per camera and hazard.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts.models import Decision, Level, as_utc
from analytics.levels import HAZARDS as LEVEL_HAZARDS
from analytics.levels import LEVEL_COLUMNS

UNHEALTHY = frozenset({"offline", "frozen", "black", "overexposed", "tampered", "decode_error"})


@dataclass(frozen=True)
class HazardRule:
    """Thresholds and timing for one hazard."""

    on: Mapping[int, float]  # level -> score needed to enter it
    hysteresis: float = 0.15
    confirm_frames: int = 3
    confirm_seconds: float | None = None
    clear_frames: int = 3
    cooldown_s: float = 300.0
    max_gap_s: float = 180.0

    def target_level(self, score: float, active: Level) -> Level:
        up = Level.NORMAL
        for lv in sorted(self.on):
            if score >= self.on[lv]:
                up = Level(lv)
        if up >= active:
            return up
        held = Level.NORMAL
        for lv in sorted(self.on):
            if lv <= active and score >= self.on[lv] - self.hysteresis:
                held = Level(lv)
        return max(up, held)


#: scored hazards follow the level the scoring path confirmed: no second threshold, no second confirmation
FOLLOW_LEVEL = HazardRule(on={}, hysteresis=0.0, confirm_frames=1, clear_frames=1, cooldown_s=0.0, max_gap_s=math.inf)
SCORED_HAZARDS: tuple[str, ...] = LEVEL_HAZARDS
DEFAULT_RULES: dict[str, HazardRule] = {
    **{hz: FOLLOW_LEVEL for hz in SCORED_HAZARDS},
    "camera": HazardRule(on={1: 0.5}, hysteresis=0.0, confirm_frames=3, clear_frames=2, cooldown_s=600.0),
}


@dataclass
class RuleState:
    """Per (camera, hazard) memory; JSON-serialisable (stored in the ops DB)."""

    active: int = 0
    streak_dir: int = 0  # +1 rising, -1 falling, 0 none
    streak_level: int = 0
    streak_frames: int = 0
    streak_since: str | None = None
    last_ts: str | None = None
    last_notified_at: str | None = None
    last_resolved_at: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> RuleState:
        return cls(**json.loads(text)) if text else cls()


@dataclass(frozen=True)
class Observation:
    camera_id: str
    hazard: str
    at: datetime
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)
    #: the level the scoring path confirmed (scored hazards); None: decide from ``score`` with the rule
    level: Level | None = None


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def evaluate(state: RuleState, obs: Observation, rule: HazardRule) -> tuple[RuleState, Decision | None]:
    """Advance ``state`` by one observation; returns the new state and a decision if one is due.

    Observations at or before ``state.last_ts`` are ignored (re-read rows are harmless).
    """
    at = as_utc(obs.at)
    last = _ts(state.last_ts)
    if last is not None and at <= last:
        return state, None
    s = RuleState(**asdict(state))
    if last is not None and (at - last).total_seconds() > rule.max_gap_s:
        s.streak_dir, s.streak_frames, s.streak_level, s.streak_since = 0, 0, 0, None
    s.last_ts = at.isoformat()
    score = 0.0 if obs.score is None or math.isnan(obs.score) else float(obs.score)
    active = Level(s.active)
    target = obs.level if obs.level is not None else rule.target_level(score, active)
    if target == active:
        s.streak_dir, s.streak_frames, s.streak_level, s.streak_since = 0, 0, 0, None
        return s, None
    direction = 1 if target > active else -1
    if direction != s.streak_dir:
        s.streak_dir, s.streak_frames, s.streak_level, s.streak_since = direction, 0, int(target), at.isoformat()
    s.streak_frames += 1
    # the level the streak sustained: the lowest seen while rising, the highest while falling
    s.streak_level = min(s.streak_level, int(target)) if direction > 0 else max(s.streak_level, int(target))
    since = _ts(s.streak_since) or at
    need = rule.clear_frames if (direction < 0 and s.streak_level == 0) else rule.confirm_frames
    confirmed = s.streak_frames >= need or (
        rule.confirm_seconds is not None
        and s.streak_frames >= 2
        and (at - since).total_seconds() >= rule.confirm_seconds
    )
    if not confirmed:
        return s, None
    new_level = Level(s.streak_level)
    notified = _ts(s.last_notified_at)
    resolved = _ts(s.last_resolved_at)
    if active == Level.NORMAL:
        if resolved is not None and at - resolved < timedelta(seconds=rule.cooldown_s):
            return s, None  # still cooling down after the last alert: keep the streak, decide later
        action = "open"
    elif new_level == Level.NORMAL:
        action = "resolve"
    else:
        if direction < 0 and notified is not None and at - notified < timedelta(seconds=rule.cooldown_s):
            return s, None
        action = "update"
    reason = _reason(obs.hazard, action, active, new_level, s.streak_frames, since, at, score)
    s.active = int(new_level)
    s.streak_dir, s.streak_frames, s.streak_level, s.streak_since = 0, 0, 0, None
    s.last_notified_at = at.isoformat()
    if action == "resolve":
        s.last_resolved_at = at.isoformat()
    evidence = {**obs.evidence, "score": round(score, 4), "confirm_frames": need}
    return s, Decision(obs.camera_id, obs.hazard, action, new_level, at, reason, evidence)


def _reason(
    hazard: str, action: str, old: Level, new: Level, frames: int, since: datetime, at: datetime, score: float
) -> str:
    held = f"held for {frames} frames / {(at - since).total_seconds():.0f} s"
    if action == "open":
        return f"{hazard} {new.label} confirmed: {held} (score {score:.2f})"
    if action == "resolve":
        return f"{hazard} cleared: below threshold {held}"
    return f"{hazard} level {old.label} -> {new.label}: {held} (score {score:.2f})"


# -- observations from frame_scores rows ---------------------------------------------------


def _num(row: Mapping[str, Any], key: str) -> float | None:
    v = row.get(key)
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _features(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row.get("features")
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw:
        try:
            parsed = json.loads(raw)
            return parsed if isinstance(parsed, dict) else {}
        except json.JSONDecodeError:
            return {}
    return {}


def observations(row: Mapping[str, Any]) -> list[Observation]:
    """Turn one frame_scores row (plus optional camera/frame columns) into per-hazard observations."""
    cam = str(row["camera_id"])
    at = row["captured_at"]
    base: dict[str, Any] = {
        "captured_at": as_utc(at).isoformat(),
        "risk_level": row.get("risk_level"),
        "model_version": row.get("model_version"),
    }
    if row.get("public_uri"):
        base["keyframe_public_uri"] = row["public_uri"]
    health = str(row.get("health") or "ok")
    obs: list[Observation] = [
        Observation(cam, "camera", at, 1.0 if health in UNHEALTHY else 0.0, {**base, "health": health})
    ]
    extra: dict[str, dict[str, Any]] = {
        "flood": {"flood_depth_class": row.get("flood_depth_class")},
        "crowd": {"persons": _num(row, "persons"), "crowd_level": row.get("crowd_level")},
    }
    for hz in SCORED_HAZARDS:
        raw = row.get(LEVEL_COLUMNS[hz])
        if raw is None:
            continue  # not scored and nothing confirmed: unknown changes nothing
        level = Level.parse(raw)
        score = _num(row, hz)
        ev = {**base, hz: score, "level": level.label, **extra.get(hz, {})}
        obs.append(Observation(cam, hz, at, 0.0 if score is None else score, ev, level))
    return obs


def stale_observation(camera_id: str, at: datetime, last_seen: datetime) -> Observation:
    """A synthetic 'offline' observation for a camera that stopped sending frames."""
    return Observation(
        camera_id,
        "camera",
        at,
        1.0,
        {"health": "offline", "last_frame_at": as_utc(last_seen).isoformat(), "stale": True},
    )

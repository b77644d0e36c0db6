"""Pure alert rules: confirmation, hysteresis, cooldown and de-duplication per camera and hazard.

A frame_scores row becomes one :class:`Observation` per hazard (score in [0, 1]). For each
(camera, hazard) a small :class:`RuleState` remembers the active level and the current streak.

* **Hysteresis**: a level is entered at ``on[level]`` and kept down to ``on[level] - hysteresis``.
* **Confirmation**: a change of level (open, escalate, de-escalate, resolve) only happens after
  the new level held for ``confirm_frames`` consecutive frames or ``confirm_seconds``; a score that
  flickers across a threshold on alternate frames never confirms anything.
* **Cooldown**: after a resolve, a new alert for the same camera and hazard waits ``cooldown_s``;
  de-escalations within ``cooldown_s`` of the last notification wait too (escalations never wait).
* **De-duplication**: one state, hence at most one active alert, per camera and hazard.
* **Context gating** (flood): the score is multiplied by ``boost`` when rain, a water gate above
  its Siaga threshold or Jaki flood complaints back it up, and by ``damp`` when none does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts.models import Decision, Level, as_utc

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


DEFAULT_RULES: dict[str, HazardRule] = {
    "fire": HazardRule(on={1: 0.5, 2: 0.7, 3: 0.85}),
    "flood": HazardRule(on={1: 0.5, 2: 0.7, 3: 0.85}),
    "crowd": HazardRule(on={1: 0.6, 2: 0.75, 3: 0.9}),
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
    target = rule.target_level(score, active)
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


@dataclass(frozen=True)
class FloodContext:
    """Independent evidence that makes a flood more or less credible."""

    rain: bool = False
    gate_above_siaga: tuple[str, ...] = ()
    jaki_complaints: int = 0

    @property
    def supported(self) -> bool:
        return self.rain or bool(self.gate_above_siaga) or self.jaki_complaints > 0

    def as_evidence(self) -> dict[str, Any]:
        return {
            "rain": self.rain,
            "gates_above_siaga": list(self.gate_above_siaga),
            "jaki_flood_complaints": self.jaki_complaints,
        }


@dataclass(frozen=True)
class GatingConfig:
    boost: float = 1.2
    damp: float = 0.8


def gate_flood_score(score: float, ctx: FloodContext | None, cfg: GatingConfig = GatingConfig()) -> float:
    if ctx is None:
        return score
    return max(0.0, min(1.0, score * (cfg.boost if ctx.supported else cfg.damp)))


def gates_above_siaga(thresholds: Sequence[Mapping[str, Any]], readings_cm: Mapping[str, float]) -> tuple[str, ...]:
    """Water gates whose current reading reaches their lowest Siaga threshold (Siaga 3).

    ``thresholds`` are rows of the lake table water_gate_thresholds (gate_id, name, siaga3_min_cm,
    siaga2_min_cm, siaga1_min_cm); ``readings_cm`` maps gate_id or name to the latest level in cm.
    """
    out: list[str] = []
    for row in thresholds:
        raw = [row.get(k) for k in ("siaga3_min_cm", "siaga2_min_cm", "siaga1_min_cm")]
        cut = [float(c) for c in raw if c is not None and not (isinstance(c, float) and math.isnan(c))]
        if not cut:
            continue
        level = readings_cm.get(str(row.get("gate_id")), readings_cm.get(str(row.get("name"))))
        if level is not None and float(level) >= min(cut):
            out.append(str(row.get("name") or row.get("gate_id")))
    return tuple(out)


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


def observations(
    row: Mapping[str, Any], flood_context: Callable[[Mapping[str, Any]], FloodContext | None] | None = None
) -> list[Observation]:
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
    if health in UNHEALTHY:
        return obs  # scores from an unhealthy frame are not evidence of anything
    fire, smoke = _num(row, "fire"), _num(row, "smoke")
    if fire is not None or smoke is not None:
        obs.append(Observation(cam, "fire", at, max(fire or 0.0, smoke or 0.0), {**base, "fire": fire, "smoke": smoke}))
    flood = _num(row, "flood")
    if flood is not None:
        ev: dict[str, Any] = {**base, "flood": flood, "flood_depth_class": row.get("flood_depth_class")}
        ctx = flood_context(row) if flood_context is not None and flood > 0 else None
        feats = _features(row)
        if feats.get("rain"):
            ctx = FloodContext(True, ctx.gate_above_siaga, ctx.jaki_complaints) if ctx else FloodContext(rain=True)
        gated = gate_flood_score(flood, ctx)
        if ctx is not None:
            ev["context"] = ctx.as_evidence()
            ev["flood_gated"] = round(gated, 4)
        obs.append(Observation(cam, "flood", at, gated, ev))
    crowd = _num(row, "crowd")
    if crowd is not None:
        obs.append(
            Observation(
                cam,
                "crowd",
                at,
                crowd,
                {**base, "crowd": crowd, "persons": _num(row, "persons"), "crowd_level": row.get("crowd_level")},
            )
        )
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

"""The one warning-level vocabulary and the one threshold table per hazard.

Jakarta's warning ladder (BPBD): Normal < Waspada (watch) < Siaga (alert) < Awas (danger). Every part of
Pantau that names or compares a level — scoring (``analytics.risk``), the marts (bound as ``$levels``),
alerts, open data and the dashboards — uses :class:`Level` and :data:`THRESHOLDS` from here, so a camera-hour
shows the same level everywhere. Fire and smoke are separate hazards with separate thresholds.

Levels are decided once, in the scoring path (``analytics.risk.RiskTracker``): a smoothed score must stay at or
above a threshold for ``confirm_frames`` frames to enter a level and below ``threshold - hysteresis`` for
``release_frames`` frames to leave it. Context (a water gate at Siaga, a BMKG warning, Jaki complaints) is
evidence that may shorten confirmation; it never lowers a level or caps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    """Jakarta's warning ladder (BPBD): Normal < Waspada (watch) < Siaga (alert) < Awas (danger)."""

    NORMAL = 0
    WASPADA = 1
    SIAGA = 2
    AWAS = 3

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @classmethod
    def parse(cls, value: str | int | Level | None) -> Level:
        if value is None:
            return cls.NORMAL
        if isinstance(value, Level):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[str(value).strip().upper()]
        except KeyError as exc:
            raise ValueError(f"unknown level {value!r}: use {', '.join(LEVELS)}") from exc


#: level labels in rank order (index = rank); bound as ``$levels`` in mart SQL
LEVELS: tuple[str, ...] = tuple(lv.label for lv in Level)
#: the four scored hazards, each with its own level
HAZARDS: tuple[str, ...] = ("fire", "smoke", "flood", "crowd")
#: frame_scores column holding each hazard's confirmed level
LEVEL_COLUMNS: dict[str, str] = {hz: f"level_{hz}" for hz in HAZARDS}


def level_rank(level: str | None) -> int:
    """Normal=0 .. Awas=3; None/unknown = -1."""
    try:
        return int(Level.parse(level)) if level else -1
    except ValueError:
        return -1


def level_rank_sql(column: str) -> str:
    """SQL expression giving the rank of a level column (NULL when unknown), generated from :class:`Level`.

    ``column`` is a fixed identifier chosen by the caller, never user input.
    """
    whens = " ".join(f"WHEN '{lv.label}' THEN {int(lv)}" for lv in Level)
    return f"CASE {column} {whens} END"


@dataclass(frozen=True)
class HazardThresholds:
    """Thresholds on the smoothed score for Waspada, Siaga, Awas (increasing) and the hysteresis below them."""

    waspada: float
    siaga: float
    awas: float
    hysteresis: float = 0.1

    def __post_init__(self) -> None:
        if not 0 < self.waspada < self.siaga < self.awas <= 1:
            raise ValueError("thresholds must satisfy 0 < waspada < siaga < awas <= 1")
        if not 0 <= self.hysteresis < 0.5:
            raise ValueError("hysteresis must be in [0, 0.5)")

    def thresholds(self) -> tuple[float, float, float]:
        return (self.waspada, self.siaga, self.awas)

    def target(self, score: float) -> int:
        """Level rank the score reaches (0 = Normal)."""
        return sum(score >= t for t in self.thresholds())

    def release_below(self, level: int) -> float:
        """Score under which ``level`` (rank >= 1) starts to be released."""
        return self.thresholds()[level - 1] - self.hysteresis


#: Flood severity from the measured water depth (PetaBencana depth classes: 2 = 10-70 cm, 3 = 71-150 cm,
#: 4 = > 150 cm): depth seen on a calibrated mark is image evidence of the level, whatever the detector's confidence.
FLOOD_DEPTH_LEVEL: Mapping[int, Level] = {2: Level.WASPADA, 3: Level.SIAGA, 4: Level.AWAS}


def flood_evidence(score: float, depth_class: int | None) -> float:
    """The flood input of the level engine: the detector score, raised into the band of the level the measured
    depth shows (midway between that level's threshold and the next, so a smoothed score settles inside it); the
    detector reports a depth class only once it sees water."""
    level = FLOOD_DEPTH_LEVEL.get(depth_class) if depth_class is not None else None
    if level is None:
        return score
    cuts = (*THRESHOLDS["flood"].thresholds(), 1.0)
    return max(score, (cuts[int(level) - 1] + cuts[int(level)]) / 2)


#: THE threshold table. Scoring, alerts, marts, open data and dashboards read levels decided with it.
THRESHOLDS: Mapping[str, HazardThresholds] = {
    "fire": HazardThresholds(0.5, 0.65, 0.8, hysteresis=0.1),
    "smoke": HazardThresholds(0.5, 0.7, 0.85, hysteresis=0.1),
    "flood": HazardThresholds(0.5, 0.7, 0.85, hysteresis=0.1),
    "crowd": HazardThresholds(0.6, 0.75, 0.9, hysteresis=0.1),
}

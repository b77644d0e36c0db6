"""Shared alert vocabulary: hazards, levels, statuses and the agency routing table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

HAZARDS: tuple[str, ...] = ("fire", "flood", "crowd", "camera")


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
            raise ValueError(f"unknown level {value!r}: use Normal, Waspada, Siaga or Awas") from exc


class Status:
    OPEN = "open"
    UPDATED = "updated"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    ACKNOWLEDGED = "acknowledged"
    ACTIVE = (OPEN, UPDATED, ACKNOWLEDGED)
    CLOSED = (RESOLVED, CANCELLED)


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    hazards: tuple[str, ...]


# Hazard routing: who must hear about each hazard.
AGENCIES: tuple[Agency, ...] = (
    Agency("gulkarmat", "Dinas Penanggulangan Kebakaran dan Penyelamatan (Gulkarmat)", ("fire",)),
    Agency("bpbd", "Badan Penanggulangan Bencana Daerah (BPBD) DKI Jakarta", ("flood",)),
    Agency("satpolpp", "Satuan Polisi Pamong Praja (Satpol PP)", ("crowd",)),
    Agency("polisi", "Kepolisian Daerah Metro Jaya (Polisi)", ("crowd",)),
    Agency("operators", "Operator CCTV Diskominfotik", ("camera",)),
)


def agencies_for(hazard: str) -> list[Agency]:
    return [a for a in AGENCIES if hazard in a.hazards]


@dataclass(frozen=True)
class CameraInfo:
    """Where a camera is: enough to route an alert and draw its CAP areas."""

    camera_id: str
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    kelurahan_code: str | None = None
    kelurahan: str | None = None
    kecamatan_code: str | None = None
    kecamatan: str | None = None
    kota_code: str | None = None
    kota: str | None = None
    view_radius_m: float | None = None


@dataclass(frozen=True)
class Decision:
    """What the rules want done for one camera and hazard (pure output of alerts.rules)."""

    camera_id: str
    hazard: str
    action: str  # open | update | resolve
    level: Level
    at: datetime
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)

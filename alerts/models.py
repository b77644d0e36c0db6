"""Shared alert vocabulary: hazards, statuses and the agency routing table (levels: ``analytics.levels``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from analytics.levels import HAZARDS as SCORED_HAZARDS
from analytics.levels import Level

#: hazards with alerts: the four scored hazards (one level each), Jaki panic presses and camera health (operators)
HAZARDS: tuple[str, ...] = (*SCORED_HAZARDS, "panic", "camera")


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
    Agency("gulkarmat", "Dinas Penanggulangan Kebakaran dan Penyelamatan (Gulkarmat)", ("fire", "smoke")),
    Agency("bpbd", "Badan Penanggulangan Bencana Daerah (BPBD) DKI Jakarta", ("flood",)),
    Agency("satpolpp", "Satuan Polisi Pamong Praja (Satpol PP)", ("crowd", "panic")),
    Agency("polisi", "Kepolisian Daerah Metro Jaya (Polisi)", ("crowd", "panic")),
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

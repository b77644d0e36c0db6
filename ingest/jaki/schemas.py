"""Contracts for the Jaki exports: one :class:`TableSpec` per feature table.

A spec names every column of the export, its type and the rule it must satisfy, the row key
used for exactly-once loading, the declared renames (the only way a drifted column name is
accepted), the declared personal-data columns dropped on read, and the identifier columns
hashed before anything is stored. ``docs/jaki_data_dictionary.md`` documents the same content
for people; :func:`data_dictionary_markdown` renders it from these objects so they cannot diverge.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["str", "int", "float", "ts"]

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference" / "data"
POPULATION_CSV = REFERENCE_DIR / "population" / "jakarta_kelurahan_population_dukcapil_2019.csv"

# Bounding box of DKI Jakarta including Kepulauan Seribu (WGS84).
LAT_MIN, LAT_MAX = -6.45, -5.10
LON_MIN, LON_MAX = 106.30, 107.05

KELURAHAN_REGEX = r"^31\.\d{2}\.\d{2}\.\d{4}$"
ID_REGEX = r"^[A-Za-z0-9_.:-]{1,64}$"

COMPLAINT_CATEGORIES = (
    "flood",
    "fire",
    "waste",
    "damaged_road",
    "illegal_parking",
    "crowd_disturbance",
    "drainage",
    "street_lighting",
    "fallen_tree",
    "traffic",
    "noise",
    "public_facility",
    "other",
)
COMPLAINT_STATUSES = ("open", "in_progress", "resolved", "closed", "rejected")
COMPLAINT_CHANNELS = ("jaki_app", "web", "call_center_112", "social_media", "walk_in")
HEALTH_SERVICES = ("ambulance", "teleconsultation", "home_visit", "vaccination", "bed_referral", "mental_health")
HEALTH_STATUSES = ("submitted", "assigned", "completed", "cancelled")
BED_TYPES = ("icu", "hcu", "nicu", "picu", "isolation", "inpatient", "emergency")
FAST_CASH_PROGRAMS = ("umkm_working_capital", "emergency_cash", "education", "social_assistance")
FAST_CASH_STATUSES = ("submitted", "approved", "rejected", "disbursed")
VEHICLE_TYPES = ("car", "motorcycle", "bus_truck")
PANIC_KINDS = ("medical", "crime", "fire", "flood", "accident", "violence", "other")
USAGE_FEATURES = (
    "home",
    "news",
    "cctv",
    "complaints",
    "jakcare",
    "hospital_beds",
    "fast_cash",
    "parking",
    "panic_button",
    "transport",
    "payments",
    "events",
)
USAGE_ACTIONS = ("open", "view", "search", "submit", "share", "close")
PLATFORMS = ("android", "ios", "web")

# Column names that carry personal data in Jaki exports: dropped on read, never stored.
PERSONAL_COLUMNS = frozenset(
    {
        "name",
        "nama",
        "full_name",
        "reporter_name",
        "patient_name",
        "applicant_name",
        "user_name",
        "phone",
        "phone_number",
        "reporter_phone",
        "patient_phone",
        "applicant_phone",
        "no_hp",
        "nomor_hp",
        "email",
        "nik",
        "address_detail",
        "bank_account",
    }
)


@dataclass(frozen=True)
class Column:
    """One export column and the rule it must satisfy.

    ``pii``: ``"hash"`` = identifier hashed (HMAC-SHA256, secret salt) into ``stored_as``;
    ``"free_text"`` = dropped when it contains personal data (phone, NIK, e-mail, names).
    ``ref``: ``"kelurahan"`` = value must be a known Kemendagri kelurahan code.
    """

    name: str
    kind: Kind
    required: bool = True
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    regex: str | None = None
    ref: Literal["kelurahan"] | None = None
    pii: Literal["hash", "free_text"] | None = None
    stored_as: str | None = None
    doc: str = ""

    @property
    def lake_name(self) -> str:
        return self.stored_as or self.name

    @property
    def sensitive(self) -> bool:
        return self.pii is not None


@dataclass(frozen=True)
class PairRule:
    """Row rule between two columns, mirroring ``expect_column_pair_values_a_to_be_greater_than_b``."""

    a: str
    b: str
    or_equal: bool = True
    doc: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    table: str
    doc: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]
    time_column: str
    pairs: tuple[PairRule, ...] = ()
    renames: Mapping[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def lake_columns(self) -> tuple[str, ...]:
        return tuple(c.lake_name for c in self.columns)

    @property
    def lake_keys(self) -> tuple[str, ...]:
        return tuple(self.column(k).lake_name for k in self.keys)


def _kel(required: bool = True) -> Column:
    return Column(
        "kelurahan_code",
        "str",
        required=required,
        regex=KELURAHAN_REGEX,
        ref="kelurahan",
        doc="Kemendagri kelurahan code (31.KK.CC.DDDD)",
    )


def _lat(required: bool = True) -> Column:
    return Column("lat", "float", required=required, min=LAT_MIN, max=LAT_MAX, doc="WGS84 latitude within DKI Jakarta")


def _lon(required: bool = True) -> Column:
    return Column("lon", "float", required=required, min=LON_MIN, max=LON_MAX, doc="WGS84 longitude within DKI Jakarta")


def _user(name: str = "user_id", required: bool = True) -> Column:
    return Column(
        name,
        "str",
        required=required,
        pii="hash",
        stored_as="user_hash",
        doc="Jaki account id; stored only as HMAC-SHA256(salt, id) in user_hash",
    )


COMMON_RENAMES: dict[str, str] = {"kode_kelurahan": "kelurahan_code", "latitude": "lat", "longitude": "lon"}

COMPLAINTS = TableSpec(
    name="complaints",
    table="jaki_complaints",
    doc="Public complaints (CRM tickets) filed through Jaki and the other city channels.",
    columns=(
        Column("ticket_id", "str", regex=ID_REGEX, doc="CRM ticket id (unique)"),
        Column("created_at", "ts", doc="ticket creation time"),
        Column("category", "str", allowed=COMPLAINT_CATEGORIES, doc="complaint category"),
        Column("description", "str", required=False, pii="free_text", doc="citizen's text; dropped if it holds PII"),
        _lat(),
        _lon(),
        _kel(),
        Column("status", "str", allowed=COMPLAINT_STATUSES, doc="ticket status"),
        Column("resolved_at", "ts", required=False, doc="resolution time (resolved/closed tickets)"),
        Column("channel", "str", allowed=COMPLAINT_CHANNELS, doc="intake channel"),
        _user("reporter_id", required=False),
    ),
    keys=("ticket_id",),
    time_column="created_at",
    pairs=(PairRule("resolved_at", "created_at", doc="resolved_at >= created_at"),),
    renames={**COMMON_RENAMES, "id": "ticket_id", "kategori": "category", "created": "created_at"},
)

HEALTH_REQUESTS = TableSpec(
    name="health_requests",
    table="jaki_health_requests",
    doc="JakCare health-service requests (ambulance, teleconsultation, referrals, ...).",
    columns=(
        Column("request_id", "str", regex=ID_REGEX, doc="request id (unique)"),
        Column("created_at", "ts", doc="request time"),
        Column("service", "str", allowed=HEALTH_SERVICES, doc="requested service"),
        _kel(),
        Column("status", "str", allowed=HEALTH_STATUSES, doc="request status"),
        Column("completed_at", "ts", required=False, doc="completion time"),
        Column("kode_rs", "str", required=False, regex=ID_REGEX, doc="hospital code (RS Online) when referred"),
        _user(),
    ),
    keys=("request_id",),
    time_column="created_at",
    pairs=(PairRule("completed_at", "created_at", doc="completed_at >= created_at"),),
    renames=dict(COMMON_RENAMES),
)

HOSPITAL_BEDS = TableSpec(
    name="hospital_beds",
    table="jaki_hospital_beds",
    doc="Hospital bed availability snapshots per hospital and bed type.",
    columns=(
        Column("snapshot_at", "ts", doc="snapshot time"),
        Column("kode_rs", "str", regex=ID_REGEX, doc="hospital code (Kemenkes RS Online)"),
        Column("hospital_name", "str", doc="hospital name (an institution, not a person)"),
        Column("bed_type", "str", allowed=BED_TYPES, doc="bed type"),
        Column("capacity", "int", min=0, max=5000, doc="beds of this type"),
        Column("available", "int", min=0, max=5000, doc="free beds of this type"),
    ),
    keys=("kode_rs", "bed_type", "snapshot_at"),
    time_column="snapshot_at",
    pairs=(PairRule("capacity", "available", doc="available <= capacity"),),
    renames={"tersedia": "available", "kapasitas": "capacity"},
)

FAST_CASH = TableSpec(
    name="fast_cash",
    table="jaki_fast_cash",
    doc="Fast-cash (quick financing / assistance) applications.",
    columns=(
        Column("application_id", "str", regex=ID_REGEX, doc="application id (unique)"),
        Column("submitted_at", "ts", doc="submission time"),
        Column("program", "str", allowed=FAST_CASH_PROGRAMS, doc="programme"),
        Column("amount_idr", "int", min=1, max=500_000_000, doc="requested amount in rupiah"),
        _kel(),
        Column("status", "str", allowed=FAST_CASH_STATUSES, doc="application status"),
        Column("decided_at", "ts", required=False, doc="decision time"),
        _user(),
    ),
    keys=("application_id",),
    time_column="submitted_at",
    pairs=(PairRule("decided_at", "submitted_at", doc="decided_at >= submitted_at"),),
    renames=dict(COMMON_RENAMES),
)

PARKING = TableSpec(
    name="parking_occupancy",
    table="jaki_parking_occupancy",
    doc="Parking-pocket guide snapshots per parking location and vehicle type.",
    columns=(
        Column("snapshot_at", "ts", doc="snapshot time"),
        Column("parking_id", "str", regex=ID_REGEX, doc="parking location id (parking_locations.parking_id)"),
        Column("vehicle_type", "str", allowed=VEHICLE_TYPES, doc="vehicle type"),
        Column("capacity", "int", min=0, max=20000, doc="places for this vehicle type"),
        Column("occupied", "int", min=0, max=20000, doc="occupied places"),
    ),
    keys=("parking_id", "vehicle_type", "snapshot_at"),
    time_column="snapshot_at",
    pairs=(PairRule("capacity", "occupied", doc="occupied <= capacity"),),
    renames={"kapasitas": "capacity", "terisi": "occupied"},
)

PANIC = TableSpec(
    name="panic_button",
    table="jaki_panic_button",
    doc="Panic-button presses (time, point, kelurahan, kind).",
    columns=(
        Column("panic_id", "str", regex=ID_REGEX, doc="press id (unique)"),
        Column("pressed_at", "ts", doc="press time"),
        _lat(),
        _lon(),
        _kel(),
        Column("kind", "str", allowed=PANIC_KINDS, doc="emergency kind"),
        _user(),
    ),
    keys=("panic_id",),
    time_column="pressed_at",
    renames=dict(COMMON_RENAMES),
)

USAGE = TableSpec(
    name="usage_events",
    table="jaki_usage_events",
    doc="Generic Jaki usage-event stream (one row per app interaction).",
    columns=(
        Column("event_id", "str", regex=ID_REGEX, doc="event id (unique)"),
        Column("event_time", "ts", doc="event time"),
        Column("feature", "str", allowed=USAGE_FEATURES, doc="app feature"),
        Column("action", "str", allowed=USAGE_ACTIONS, doc="user action"),
        _kel(),
        Column("platform", "str", required=False, allowed=PLATFORMS, doc="client platform"),
        _user(),
    ),
    keys=("event_id",),
    time_column="event_time",
    renames={**COMMON_RENAMES, "waktu": "event_time", "fitur": "feature", "aksi": "action"},
)

SPECS: dict[str, TableSpec] = {
    s.name: s for s in (COMPLAINTS, HEALTH_REQUESTS, HOSPITAL_BEDS, FAST_CASH, PARKING, PANIC, USAGE)
}


def spec_for(name: str) -> TableSpec:
    """Look a spec up by its short name (``usage_events``) or lake table (``jaki_usage_events``)."""
    for s in SPECS.values():
        if name in (s.name, s.table):
            return s
    raise KeyError(f"unknown Jaki table {name!r}: one of {sorted(SPECS)}")


@functools.cache
def known_kelurahan_codes() -> frozenset[str]:
    """Kemendagri kelurahan codes of DKI Jakarta (Dukcapil 2019 population table)."""
    with POPULATION_CSV.open(newline="", encoding="utf-8") as fh:
        return frozenset(row["kode_kemendagri"].strip() for row in csv.DictReader(fh))


def data_dictionary_markdown() -> str:
    """The data dictionary rendered from the specs (docs/jaki_data_dictionary.md embeds it)."""
    out: list[str] = []
    for s in SPECS.values():
        out.append(f"### `{s.table}` (export `{s.name}`)\n\n{s.doc}\n")
        out.append(f"Row key: `{', '.join(s.lake_keys)}` · time column: `{s.time_column}`\n")
        out.append("| export column | stored as | type | required | rule | description |")
        out.append("|---|---|---|---|---|---|")
        for c in s.columns:
            rule: list[str] = []
            if c.allowed:
                rule.append("one of " + ", ".join(f"`{a}`" for a in c.allowed))
            if c.min is not None or c.max is not None:
                rule.append(f"between {c.min} and {c.max}")
            if c.regex:
                rule.append(f"matches `{c.regex}`")
            if c.ref:
                rule.append(f"known {c.ref} code")
            if c.pii == "hash":
                rule.append("HMAC-SHA256 with secret salt")
            if c.pii == "free_text":
                rule.append("dropped if it contains phone/NIK/e-mail/name")
            kind = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "ts": "TIMESTAMPTZ"}[c.kind]
            out.append(
                f"| `{c.name}` | `{c.lake_name}` | {kind} | {'yes' if c.required else 'no'} | "
                f"{'; '.join(rule)} | {c.doc} |"
            )
        for p in s.pairs:
            out.append(f"\nRow rule: {p.doc}.")
        if s.renames:
            out.append("\nDeclared renames: " + ", ".join(f"`{k}` → `{v}`" for k, v in sorted(s.renames.items())) + ".")
        out.append("")
    return "\n".join(out)

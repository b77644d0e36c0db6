"""Planning inputs: the tables the model needs, from the lake or straight from the reference files."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import pandas as pd


def as_pandas(data: Any) -> pd.DataFrame:
    """pandas / polars / pyarrow / list of dicts -> pandas DataFrame."""
    if data is None:
        return pd.DataFrame()
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):
        return data.to_pandas()
    return pd.DataFrame(data)


@dataclass
class PlanningInputs:
    """Tables the model needs. Column names follow the lake tables (0001_reference.sql).

    kelurahan: kode_kelurahan, nama_kelurahan, kode_kecamatan, nama_kecamatan, kode_kota, nama_kota,
        population, geometry (GeoJSON text or dict, lon/lat)
    cameras: camera_id, lat, lon [, camera_type, view_radius_m, heading_deg]
    flood_events: kode_kelurahan, events          fire: kode_kelurahan, incidents
    flood_extent: max_state, geometry             facilities: kind (hospital|floodgate|public_space|...), lat, lon
    jaki_complaints / jaki_panic: lat, lon or kode_kelurahan [, n]
    crowd: camera_id, crowd (mean hourly crowd risk in [0, 1]) [, hours]
    """

    kelurahan: pd.DataFrame
    cameras: pd.DataFrame
    flood_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    fire: pd.DataFrame = field(default_factory=pd.DataFrame)
    flood_extent: pd.DataFrame = field(default_factory=pd.DataFrame)
    facilities: pd.DataFrame = field(default_factory=pd.DataFrame)
    jaki_complaints: pd.DataFrame = field(default_factory=pd.DataFrame)
    jaki_panic: pd.DataFrame = field(default_factory=pd.DataFrame)
    crowd: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    source: str = "tables"

    def __post_init__(self) -> None:
        for name in (
            "kelurahan",
            "cameras",
            "flood_events",
            "fire",
            "flood_extent",
            "facilities",
            "jaki_complaints",
            "jaki_panic",
            "crowd",
        ):
            setattr(self, name, as_pandas(getattr(self, name)))


class LakeLike(Protocol):
    def query(self, sql: str, params: Any = None) -> Any: ...

    def tables(self) -> list[str]: ...


_ALIASES = [
    ("HARAPANMULYA", "HARAPANMULIA"),
    ("PALMERIEM", "PALMERIAM"),
    ("KAMPUNGTENGAH", "TENGAH"),
    ("KREDANG", "KRENDANG"),
    ("PAPANGO", "PAPANGGO"),
    ("TANJUNGPRIUK", "TANJUNGPRIOK"),
    ("WIJAYAKESUMA", "WIJAYAKUSUMA"),
    ("PONDOKRANGON", "PONDOKRANGGON"),
    ("HALIMPERDANAKUSUMAH", "HALIMPERDANAKUSUMA"),
]
_ALIAS = {variant: group[0] for group in _ALIASES for variant in group}


def norm_name(name: Any) -> str:
    """Upper-case, letters only, with the known spelling variants folded (see SOURCES.md)."""
    key = re.sub(r"[^A-Z]", "", str(name or "").upper())
    return _ALIAS.get(key, key)


def match_kelurahan_codes(kelurahan: pd.DataFrame, kecamatan: Iterable[Any], names: Iterable[Any]) -> list[str | None]:
    """Resolve (kecamatan, kelurahan) names to kode_kelurahan; None when not in the boundary set.

    Tries the (kecamatan, kelurahan) pair first, then the kelurahan name alone when it is unique.
    """
    by_pair: dict[tuple[str, str], str] = {}
    by_name: dict[str, set[str]] = {}
    name_cols = [c for c in ("nama_kelurahan", "kelurahan", "nama_kelurahan_kemendagri") if c in kelurahan]
    kec_cols = [c for c in ("nama_kecamatan", "kecamatan", "nama_kecamatan_kemendagri") if c in kelurahan]
    for row in kelurahan.to_dict("records"):
        code = row.get("kode_kelurahan")
        if not code or (isinstance(code, float) and math.isnan(code)):
            continue
        for nc in name_cols:
            n = norm_name(row.get(nc))
            by_name.setdefault(n, set()).add(code)
            for kc in kec_cols:
                by_pair[(norm_name(row.get(kc)), n)] = code
    out: list[str | None] = []
    for kec, name in zip(kecamatan, names, strict=True):
        n = norm_name(name)
        code = by_pair.get((norm_name(kec), n))
        if code is None and len(by_name.get(n, ())) == 1:
            code = next(iter(by_name[n]))
        out.append(code)
    return out


def default_reference_dir() -> Path:
    """The reference data shipped in the repository (``ingest/reference/data``; a data lookup, no code import)."""
    return Path(str(resources.files("ingest.reference") / "data"))


def _read_geojson(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return list(json.load(fh)["features"])


def load_inputs_from_files(data_dir: Path | str | None = None) -> PlanningInputs:
    """Read the raw reference files (repo copy under ingest/reference/data by default)."""
    d = Path(data_dir) if data_dir is not None else default_reference_dir()
    notes: list[str] = []
    pop = pd.read_csv(d / "population" / "jakarta_kelurahan_population_dukcapil_2019.csv", dtype=str)
    pop_by_code = dict(zip(pop["kode_kemendagri"], pop["jumlah_penduduk"].astype(float), strict=True))
    rows = []
    for f in _read_geojson(d / "boundaries" / "jkt_village_boundary.geojson"):
        p = f["properties"]
        code = p.get("kode_kelurahan")
        rows.append(
            {
                "kode_kelurahan": code,
                "nama_kelurahan": p.get("nama_kelurahan_kemendagri") or p.get("kelurahan"),
                "kelurahan": p.get("kelurahan"),
                "kode_kecamatan": p.get("kode_kecamatan"),
                "nama_kecamatan": p.get("nama_kecamatan_kemendagri") or p.get("kecamatan"),
                "kecamatan": p.get("kecamatan"),
                "kode_kota": p.get("kode_kota"),
                "nama_kota": p.get("nama_kota_kemendagri"),
                "population": pop_by_code.get(code, 0.0) if code else 0.0,
                "geometry": json.dumps(f["geometry"]),
            }
        )
    kel = pd.DataFrame(rows)

    cams = pd.read_csv(d / "cctv" / "jakarta_cctv_map_sites.csv", dtype={"site_id": str})
    cameras = pd.DataFrame(
        {
            "camera_id": cams["site_id"],
            "lat": cams["lat"].astype(float),
            "lon": cams["lng"].astype(float),
            "camera_type": cams["catalog_source"].astype(str),
        }
    )

    banjir = pd.read_csv(d / "flood" / "banjir.csv")
    banjir["kode_kelurahan"] = match_kelurahan_codes(kel, banjir["kecamatan"], banjir["kelurahan"])
    lost = banjir[banjir["kode_kelurahan"].isna()]
    if len(lost):
        notes.append(
            f"flood_2024: {len(lost)} rows ({int(lost['jumlah_kejadian'].sum())} events) outside the mainland "
            f"boundaries or unmatched: {sorted(set(lost['kelurahan']))[:8]}"
        )
    flood_events = (
        banjir.dropna(subset=["kode_kelurahan"])
        .groupby("kode_kelurahan", as_index=False)["jumlah_kejadian"]
        .sum()
        .rename(columns={"jumlah_kejadian": "events"})
    )

    fire_raw = pd.read_csv(d / "fire" / "Data_Kebakaran_Gabungan.csv", sep=";")
    fire_raw["kode_kelurahan"] = match_kelurahan_codes(kel, fire_raw["kecamatan"], fire_raw["kelurahan"])
    lost = fire_raw[fire_raw["kode_kelurahan"].isna()]
    if len(lost):
        notes.append(f"fire_2024: {len(lost)} rows unmatched: {sorted(set(lost['kelurahan']))[:8]}")
    fire = (
        fire_raw.dropna(subset=["kode_kelurahan"])
        .groupby("kode_kelurahan", as_index=False)["frekuensi"]
        .sum()
        .rename(columns={"frekuensi": "incidents"})
    )

    extent = pd.DataFrame(
        [
            {"max_state": int(f["properties"].get("max_state") or 1), "geometry": json.dumps(f["geometry"])}
            for f in _read_geojson(d / "flood" / "petabencana" / "jkt_floods_february_2017_max_state.geojson")
        ]
    )

    fac: list[dict[str, Any]] = []
    for kind, path in (
        ("hospital", d / "health" / "rumahsakit.geojson"),
        ("floodgate", d / "flood" / "floodgates.geojson"),
    ):
        for f in _read_geojson(path):
            lon, lat = f["geometry"]["coordinates"][:2]
            fac.append({"kind": kind, "lat": float(lat), "lon": float(lon)})
    rptra = pd.read_csv(d / "public_space" / "geoportal_rptra_koordinat.csv", dtype=str).dropna(subset=["X", "Y"])
    fac += [
        {"kind": "public_space", "lat": float(y), "lon": float(x)} for x, y in zip(rptra["X"], rptra["Y"], strict=True)
    ]
    notes.append("jaki_complaints, jaki_panic, crowd: no lake tables when reading files; layers are zero")
    return PlanningInputs(
        kelurahan=kel,
        cameras=cameras,
        flood_events=flood_events,
        fire=fire,
        flood_extent=extent,
        facilities=pd.DataFrame(fac),
        notes=notes,
        source=f"files:{d}",
    )


# SQL for the lake loader (tables from 0001_reference.sql and, when present, the Jaki/risk marts)
SQL_KELURAHAN = (
    "SELECT kode_kelurahan, nama_kelurahan, kode_kecamatan, nama_kecamatan, kode_kota, nama_kota, "
    "population, geometry FROM kelurahan WHERE geometry IS NOT NULL"
)
SQL_CAMERAS = (
    "SELECT camera_id, lat, lon, coalesce(catalog_source, stream_kind) AS camera_type, view_radius_m, heading_deg "
    "FROM cameras WHERE lat IS NOT NULL AND lon IS NOT NULL AND coalesce(active, true) "
    "AND coalesce(status, 'installed') = 'installed'"
)
# Registry status counts: coverage counts installed cameras only; planned ones are reported beside them.
SQL_CAMERA_STATUS = "SELECT coalesce(status, 'installed') AS status, count(*) AS n FROM cameras GROUP BY 1"
SQL_FLOOD_EVENTS = (
    "SELECT kode_kelurahan, sum(events) AS events FROM flood_events_2024 "
    "WHERE kode_kelurahan IS NOT NULL GROUP BY kode_kelurahan"
)
SQL_FIRE = (
    "SELECT kode_kelurahan, sum(incidents) AS incidents FROM fire_incidents_2024 "
    "WHERE kode_kelurahan IS NOT NULL GROUP BY kode_kelurahan"
)
SQL_FLOOD_EXTENT = "SELECT max_state, geometry FROM flood_extent_2017 WHERE geometry IS NOT NULL"
SQL_FACILITIES = "SELECT kind, lat, lon FROM facilities WHERE lat IS NOT NULL AND lon IS NOT NULL"
SQL_CROWD = (
    "SELECT camera_id, avg(crowd_max) AS crowd, count(*) AS hours FROM risk_hourly_camera "
    "WHERE crowd_max IS NOT NULL GROUP BY camera_id"
)


SQL_JAKI_COMPLAINTS = (
    "SELECT lat, lon, kelurahan_code AS kode_kelurahan, count(*) AS n FROM jaki_complaints GROUP BY ALL"
)
SQL_JAKI_PANIC = "SELECT lat, lon, kelurahan_code AS kode_kelurahan, count(*) AS n FROM jaki_panic_button GROUP BY ALL"


def load_inputs_from_lake(lake: LakeLike) -> PlanningInputs:
    """Read the lake tables (duck-typed: anything with ``query(sql)`` and ``tables()``)."""
    tables = set(lake.tables())
    notes: list[str] = []

    def q(sql: str) -> pd.DataFrame:
        return as_pandas(lake.query(sql))

    inputs = PlanningInputs(
        kelurahan=q(SQL_KELURAHAN),
        cameras=q(SQL_CAMERAS),
        flood_events=q(SQL_FLOOD_EVENTS) if "flood_events_2024" in tables else pd.DataFrame(),
        fire=q(SQL_FIRE) if "fire_incidents_2024" in tables else pd.DataFrame(),
        flood_extent=q(SQL_FLOOD_EXTENT) if "flood_extent_2017" in tables else pd.DataFrame(),
        facilities=q(SQL_FACILITIES) if "facilities" in tables else pd.DataFrame(),
        source="lake",
    )
    for attr, table, sql in (
        ("jaki_complaints", "jaki_complaints", SQL_JAKI_COMPLAINTS),
        ("jaki_panic", "jaki_panic_button", SQL_JAKI_PANIC),
    ):
        if table in tables:
            setattr(inputs, attr, q(sql))
        if getattr(inputs, attr).empty:
            notes.append(f"{attr}: lake table {table} absent or empty; layer is zero")
    if "risk_hourly_camera" in tables:
        inputs.crowd = q(SQL_CROWD)
    else:
        notes.append("crowd: risk_hourly_camera absent; layer is zero")
    status = {str(r["status"]): int(r["n"]) for r in q(SQL_CAMERA_STATUS).to_dict("records")}
    if status.get("planned"):
        notes.append(
            f"cameras: {status.get('installed', 0)} installed counted; {status['planned']} planned not counted "
            "until installed"
        )
    inputs.notes = notes
    if inputs.kelurahan.empty:
        raise ValueError("the lake has no kelurahan boundaries: load the reference data first")
    return inputs


def load_inputs(source: Any = None) -> PlanningInputs:
    """A reference-data folder (path) or a lake handle -> :class:`PlanningInputs`."""
    if source is None or isinstance(source, str | Path):
        return load_inputs_from_files(source)
    if isinstance(source, PlanningInputs):
        return source
    return load_inputs_from_lake(source)

"""CCTV coverage model for Jakarta: demand grid, weighted demand layers, camera coverage, metrics.

Pure computation (numpy, shapely 2, pandas); no project imports. Inputs come as tables
(pandas / polars / pyarrow) either from the lake (:func:`load_inputs_from_lake`, any object
with ``query(sql) -> pyarrow.Table`` and ``tables()``) or straight from the reference files
(:func:`load_inputs_from_files`).

Geometry runs in a local equirectangular projection (metres) centred on Jakarta
(lat -6.2, lon 106.83); over the city's 32 km extent the scale error is below 0.1 %,
so no projection library is needed.

The demand surface is a regular square grid (default 125 m cells, i.e. each 250 m planning
cell split in 2 x 2), anchored on the projection origin so cell ids are stable between runs,
and clipped to the kelurahan polygons. See docs/planning.md for why a square grid rather
than H3 and why 125 m.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import shapely

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# projection
LAT0 = -6.2
LON0 = 106.83
_PHI = math.radians(LAT0)
M_PER_DEG_LAT = 111_132.92 - 559.82 * math.cos(2 * _PHI) + 1.175 * math.cos(4 * _PHI)
M_PER_DEG_LON = 111_412.84 * math.cos(_PHI) - 93.5 * math.cos(3 * _PHI)


def to_xy(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat (degrees, arrays of shape (N,)) -> local x/y in metres, shape (N,) each."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    return (lon_a - LON0) * M_PER_DEG_LON, (lat_a - LAT0) * M_PER_DEG_LAT


def to_lonlat(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_xy`."""
    return np.asarray(x, dtype=float) / M_PER_DEG_LON + LON0, np.asarray(y, dtype=float) / M_PER_DEG_LAT + LAT0


def _project_coords(coords: np.ndarray) -> np.ndarray:
    x, y = to_xy(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def project_geometries(geoms: np.ndarray) -> np.ndarray:
    """Shapely geometries in lon/lat -> the same geometries in local metres (vectorised)."""
    return shapely.transform(geoms, _project_coords)


# --------------------------------------------------------------------------------------------
# settings
LAYERS: tuple[str, ...] = (
    "population",
    "flood_2024",
    "flood_2017",
    "fire_2024",
    "jaki_complaints",
    "jaki_panic",
    "crowd",
    "hospital",
    "floodgate",
)

LAYER_UNITS: dict[str, str] = {
    "population": "residents",
    "flood_2024": "flood events 2024",
    "flood_2017": "state-weighted flooded km2 (Feb 2017)",
    "fire_2024": "fire incidents 2024",
    "jaki_complaints": "Jaki complaints",
    "jaki_panic": "panic-button presses",
    "crowd": "crowd-risk score (camera-hours)",
    "hospital": "hospital proximity score",
    "floodgate": "water-gate proximity score",
}

DEFAULT_WEIGHTS: dict[str, float] = {
    "population": 0.25,
    "flood_2024": 0.15,
    "flood_2017": 0.10,
    "fire_2024": 0.15,
    "jaki_complaints": 0.075,
    "jaki_panic": 0.075,
    "crowd": 0.10,
    "hospital": 0.05,
    "floodgate": 0.05,
}


@dataclass(frozen=True)
class CoverageSettings:
    """Everything tunable in the coverage model; defaults are documented in docs/planning.md.

    ``weights`` need not sum to 1: they are renormalised over the layers that hold demand
    (a layer without data, e.g. Jaki before the Jaki feed lands, drops out with a note).
    """

    cell_m: float = 125.0
    radius_m: float = 150.0
    # multiplier of radius_m by camera type (column ``camera_type``); unknown types use 1.0
    type_radius_factor: Mapping[str, float] = field(
        default_factory=lambda: {"fixed": 1.0, "ptz": 1.0, "toll": 2.0, "streetside": 1.0, "balitower": 1.0}
    )
    # use the inventory's own view_radius_m where present (off: it is a catalogue default, not a survey)
    use_camera_view_radius: bool = False
    # viewing sector for cameras with a known heading (None = full circle for everyone)
    fov_deg: float | None = 90.0
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # PetaBencana max_state -> weight (1 unknown, 2 = 10-70 cm, 3 = 71-150 cm, 4 = > 150 cm)
    flood_state_weight: Mapping[int, float] = field(default_factory=lambda: {1: 0.5, 2: 1.0, 3: 2.0, 4: 3.0})
    # proximity layers: linear decay from 1 at the facility to 0 at this distance
    proximity_m: float = 500.0
    # observed crowd risk at a camera is spread over this distance (linear decay)
    crowd_spread_m: float = 400.0
    # a cell is part of Jakarta when at least this share of it lies inside a kelurahan
    min_inside_share: float = 0.01

    def with_weights(self, weights: Mapping[str, float] | None) -> CoverageSettings:
        if not weights:
            return self
        unknown = set(weights) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown layers in weights: {sorted(unknown)}; known: {LAYERS}")
        merged = dict(self.weights)
        merged.update({k: float(v) for k, v in weights.items()})
        if any(v < 0 for v in merged.values()):
            raise ValueError("weights must be >= 0")
        return replace(self, weights=merged)


# --------------------------------------------------------------------------------------------
# inputs
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
    flood_extent: max_state, geometry             facilities: kind (hospital|floodgate|...), lat, lon
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
    """The reference data shipped in the repository (ingest/reference/data)."""
    return Path(__file__).resolve().parents[1] / "ingest" / "reference" / "data"


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
    "FROM cameras WHERE lat IS NOT NULL AND lon IS NOT NULL AND coalesce(active, true)"
)
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


# --------------------------------------------------------------------------------------------
# grid
@dataclass
class Grid:
    """Square demand cells clipped to Jakarta.

    Arrays of shape (C,) per cell: ix, iy (integer cell index from the projection origin), x, y
    (centroid, metres), lon, lat, area_in (m2 inside Jakarta), kel (dominant kelurahan index or -1),
    candidate (centroid inside Jakarta: may host a new camera). Pairs (P,) pair_cell, pair_kel,
    pair_area are the cell x kelurahan intersections used to distribute kelurahan totals.
    ``raster`` (ny, nx) maps raster position -> cell index (-1 outside).
    """

    cell_m: float
    ix: np.ndarray
    iy: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    area_in: np.ndarray
    kel: np.ndarray
    candidate: np.ndarray
    pair_cell: np.ndarray
    pair_kel: np.ndarray
    pair_area: np.ndarray
    kel_table: pd.DataFrame
    kel_geoms_xy: np.ndarray
    ix0: int
    iy0: int
    raster: np.ndarray

    @property
    def n(self) -> int:
        return len(self.x)

    def cell_ids(self, idx: Any = None) -> np.ndarray:
        ix = self.ix if idx is None else self.ix[idx]
        iy = self.iy if idx is None else self.iy[idx]
        return np.array([f"g{int(self.cell_m)}_{a}_{b}" for a, b in zip(ix, iy, strict=True)], dtype=object)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell index for points in metres (-1 outside the grid), shape (N,)."""
        ix = np.floor(np.asarray(x) / self.cell_m).astype(np.int64) - self.ix0
        iy = np.floor(np.asarray(y) / self.cell_m).astype(np.int64) - self.iy0
        ny, nx = self.raster.shape
        ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        out = np.full(len(ix), -1, dtype=np.int64)
        out[ok] = self.raster[iy[ok], ix[ok]]
        return out

    def kel_codes(self) -> np.ndarray:
        codes = self.kel_table["kode_kelurahan"].to_numpy(dtype=object)
        return np.array([codes[k] if k >= 0 else None for k in self.kel], dtype=object)


def _geoms_from_column(values: Iterable[Any]) -> np.ndarray:
    texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
    geoms = shapely.from_geojson(texts)
    return shapely.make_valid(geoms)


def build_grid(kelurahan: pd.DataFrame, cell_m: float = 125.0, min_inside_share: float = 0.01) -> Grid:
    """Regular grid of ``cell_m`` squares over the kelurahan polygons (vectorised shapely 2)."""
    kel = as_pandas(kelurahan).reset_index(drop=True)
    geoms = project_geometries(_geoms_from_column(kel["geometry"]))
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    ix0, iy0 = math.floor(minx / cell_m), math.floor(miny / cell_m)
    ix1, iy1 = math.ceil(maxx / cell_m), math.ceil(maxy / cell_m)
    nx, ny = ix1 - ix0, iy1 - iy0
    mx, my = np.meshgrid(np.arange(ix0, ix1), np.arange(iy0, iy1))
    gx, gy = mx.ravel(), my.ravel()
    boxes = shapely.box(gx * cell_m, gy * cell_m, (gx + 1) * cell_m, (gy + 1) * cell_m)
    shapely.prepare(geoms)
    tree = shapely.STRtree(geoms)
    b_idx, k_idx = tree.query(boxes, predicate="intersects")
    inside = shapely.contains_properly(geoms[k_idx], boxes[b_idx])
    area = np.full(len(b_idx), cell_m * cell_m)
    edge = ~inside
    area[edge] = shapely.area(shapely.intersection(boxes[b_idx[edge]], geoms[k_idx[edge]]))
    keep_pair = area > 0
    b_idx, k_idx, area = b_idx[keep_pair], k_idx[keep_pair], area[keep_pair]
    area_in = np.bincount(b_idx, weights=area, minlength=len(boxes))
    keep = area_in >= min_inside_share * cell_m * cell_m
    cells = np.flatnonzero(keep)
    remap = np.full(len(boxes), -1, dtype=np.int64)
    remap[cells] = np.arange(len(cells))
    pmask = keep[b_idx]
    pair_cell, pair_kel, pair_area = remap[b_idx[pmask]], k_idx[pmask].astype(np.int64), area[pmask]
    # dominant kelurahan per cell: largest intersection among polygons with a Kemendagri code
    # (ties -> lowest index, deterministic); cells only in an uncoded polygon (the TMII enclave)
    # take the nearest coded kelurahan.
    coded = kel["kode_kelurahan"].notna().to_numpy() if "kode_kelurahan" in kel else np.ones(len(kel), dtype=bool)
    order = np.lexsort((pair_kel, -pair_area, ~coded[pair_kel], pair_cell))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair_cell[order][1:] != pair_cell[order][:-1]
    dom = np.full(len(cells), -1, dtype=np.int64)
    dom[pair_cell[order][first]] = pair_kel[order][first]
    cx, cy = (gx[cells] + 0.5) * cell_m, (gy[cells] + 0.5) * cell_m
    orphan = np.flatnonzero((dom >= 0) & ~coded[np.maximum(dom, 0)])
    if len(orphan) and coded.any():
        coded_idx = np.flatnonzero(coded)
        _, near = shapely.STRtree(geoms[coded_idx]).query_nearest(
            shapely.points(cx[orphan], cy[orphan]), all_matches=False
        )
        dom[orphan] = coded_idx[near]
    pts = shapely.points(cx, cy)
    p_idx, _ = tree.query(pts, predicate="within")
    cand = np.zeros(len(cells), dtype=bool)
    cand[p_idx] = True
    lon, lat = to_lonlat(cx, cy)
    raster = np.full((ny, nx), -1, dtype=np.int64)
    raster[gy[cells] - iy0, gx[cells] - ix0] = np.arange(len(cells))
    return Grid(
        cell_m=float(cell_m),
        ix=gx[cells],
        iy=gy[cells],
        x=cx,
        y=cy,
        lon=lon,
        lat=lat,
        area_in=area_in[cells],
        kel=dom,
        candidate=cand,
        pair_cell=pair_cell,
        pair_kel=pair_kel,
        pair_area=pair_area,
        kel_table=kel.drop(columns=["geometry"]),
        kel_geoms_xy=geoms,
        ix0=ix0,
        iy0=iy0,
        raster=raster,
    )


def disc_offsets(radius_m: float, cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raster offsets (dx, dy) whose cell centroids lie within ``radius_m`` of a centroid, and their distance."""
    r = math.floor(radius_m / cell_m + 1e-9)
    dx, dy = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    dist = np.hypot(dx, dy).ravel() * cell_m
    ok = dist <= radius_m + 1e-6
    return dx.ravel()[ok], dy.ravel()[ok], dist[ok]


def points_near(grid: Grid, x: np.ndarray, y: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (point, cell) pairs with the cell centroid within ``radius_m`` of the point.

    x, y: (N,) metres. Returns (point_idx (M,), cell_idx (M,), distance_m (M,)).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    c = grid.cell_m
    r = math.ceil(radius_m / c) + 1
    mx, my = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    ox, oy = mx.ravel(), my.ravel()
    pix = np.floor(x / c).astype(np.int64)
    piy = np.floor(y / c).astype(np.int64)
    cix = pix[:, None] + ox[None, :] - grid.ix0
    ciy = piy[:, None] + oy[None, :] - grid.iy0
    ny, nx = grid.raster.shape
    ok = (cix >= 0) & (cix < nx) & (ciy >= 0) & (ciy < ny)
    cell = np.full(cix.shape, -1, dtype=np.int64)
    cell[ok] = grid.raster[ciy[ok], cix[ok]]
    pi, oi = np.nonzero(cell >= 0)
    cells = cell[pi, oi]
    dist = np.hypot(grid.x[cells] - x[pi], grid.y[cells] - y[pi])
    near = dist <= radius_m
    return pi[near], cells[near], dist[near]


# --------------------------------------------------------------------------------------------
# demand layers
@dataclass
class Layers:
    """Demand per layer in natural units: ``cell[layer]`` (C,) and ``pair[layer]`` (P,) per cell x kelurahan."""

    cell: dict[str, np.ndarray]
    pair: dict[str, np.ndarray]
    notes: list[str]

    def active(self) -> list[str]:
        return [name for name in LAYERS if float(self.cell[name].sum()) > 0]


def _kel_index(grid: Grid) -> dict[str, int]:
    return {c: i for i, c in enumerate(grid.kel_table["kode_kelurahan"]) if isinstance(c, str)}


def _by_area(grid: Grid, codes: Iterable[Any], values: Iterable[Any]) -> np.ndarray:
    """Kelurahan totals spread over the cell x kelurahan pairs in proportion to area -> (P,)."""
    idx = _kel_index(grid)
    per_kel = np.zeros(len(grid.kel_table))
    for code, v in zip(codes, values, strict=True):
        k = idx.get(code)
        if k is not None and v is not None and not (isinstance(v, float) and math.isnan(v)):
            per_kel[k] += float(v)
    kel_area = np.bincount(grid.pair_kel, weights=grid.pair_area, minlength=len(per_kel))
    share = np.divide(
        grid.pair_area, kel_area[grid.pair_kel], out=np.zeros(len(grid.pair_area)), where=kel_area[grid.pair_kel] > 0
    )
    return per_kel[grid.pair_kel] * share


def _cell_to_pairs(grid: Grid, cell_values: np.ndarray) -> np.ndarray:
    """Cell values split over the cell's kelurahan pairs by area -> (P,)."""
    share = grid.pair_area / grid.area_in[grid.pair_cell]
    return cell_values[grid.pair_cell] * share


def _points_to_cells(grid: Grid, lat: Any, lon: Any, weight: Any = None) -> np.ndarray:
    x, y = to_xy(lon, lat)
    cells = grid.locate(x, y)
    w = np.ones(len(cells)) if weight is None else np.asarray(weight, dtype=float)
    ok = cells >= 0
    return np.bincount(cells[ok], weights=w[ok], minlength=grid.n)


def _kernel(grid: Grid, lat: Any, lon: Any, radius_m: float, weight: Any = None) -> np.ndarray:
    """Sum over points of weight * max(0, 1 - d / radius) at each cell centroid -> (C,)."""
    x, y = to_xy(lon, lat)
    pi, ci, d = points_near(grid, x, y, radius_m)
    w = np.ones(len(x)) if weight is None else np.asarray(weight, dtype=float)
    return np.bincount(ci, weights=w[pi] * (1.0 - d / radius_m), minlength=grid.n)


def _point_or_area_layer(grid: Grid, df: pd.DataFrame) -> np.ndarray:
    """Counts with a location go to their cell; counts with only a kelurahan code are spread by area."""
    if df is None or df.empty:
        return np.zeros(len(grid.pair_cell))
    n = df["n"].to_numpy(dtype=float) if "n" in df else np.ones(len(df))
    has_pt = np.zeros(len(df), dtype=bool)
    if {"lat", "lon"} <= set(df.columns):
        has_pt = df["lat"].notna().to_numpy() & df["lon"].notna().to_numpy()
    out = np.zeros(len(grid.pair_cell))
    if has_pt.any():
        pts = df[has_pt]
        out += _cell_to_pairs(grid, _points_to_cells(grid, pts["lat"], pts["lon"], n[has_pt]))
    code_col = next((c for c in ("kode_kelurahan", "kelurahan_code") if c in df), None)
    if code_col is not None and (~has_pt).any():
        out += _by_area(grid, df.loc[~has_pt, code_col], n[~has_pt])
    return out


def build_layers(grid: Grid, inputs: PlanningInputs, settings: CoverageSettings | None = None) -> Layers:
    """Every demand layer in natural units, on the cell x kelurahan pairs and on the cells."""
    s = settings or CoverageSettings()
    notes = list(inputs.notes)
    pair: dict[str, np.ndarray] = {}
    kel = grid.kel_table
    pair["population"] = _by_area(grid, kel["kode_kelurahan"], kel["population"].fillna(0).astype(float))
    fe = inputs.flood_events
    pair["flood_2024"] = (
        _by_area(grid, fe["kode_kelurahan"], fe["events"]) if not fe.empty else np.zeros(len(grid.pair_cell))
    )
    fi = inputs.fire
    pair["fire_2024"] = (
        _by_area(grid, fi["kode_kelurahan"], fi["incidents"]) if not fi.empty else np.zeros(len(grid.pair_cell))
    )

    ext = inputs.flood_extent
    flood17: np.ndarray = np.zeros(grid.n)
    if not ext.empty:
        polys = project_geometries(_geoms_from_column(ext["geometry"]))
        w = np.array([s.flood_state_weight.get(int(v), 1.0) for v in ext["max_state"].fillna(1)])
        boxes = shapely.box(
            grid.x - grid.cell_m / 2, grid.y - grid.cell_m / 2, grid.x + grid.cell_m / 2, grid.y + grid.cell_m / 2
        )
        tree = shapely.STRtree(boxes)
        p_idx, c_idx = tree.query(polys, predicate="intersects")
        a = shapely.area(shapely.intersection(boxes[c_idx], polys[p_idx]))
        flood17 = np.bincount(c_idx, weights=w[p_idx] * a / 1e6, minlength=grid.n)
    pair["flood_2017"] = _cell_to_pairs(grid, flood17)

    pair["jaki_complaints"] = _point_or_area_layer(grid, inputs.jaki_complaints)
    pair["jaki_panic"] = _point_or_area_layer(grid, inputs.jaki_panic)

    crowd = np.zeros(grid.n)
    if not inputs.crowd.empty and not inputs.cameras.empty:
        cams = inputs.cameras.drop_duplicates("camera_id").merge(inputs.crowd, on="camera_id", how="inner")
        if not cams.empty:
            hours = cams["hours"].to_numpy(dtype=float) if "hours" in cams else np.ones(len(cams))
            crowd = _kernel(
                grid, cams["lat"], cams["lon"], s.crowd_spread_m, cams["crowd"].fillna(0).to_numpy(float) * hours
            )
    pair["crowd"] = _cell_to_pairs(grid, crowd)

    fac = inputs.facilities
    for layer, kind in (("hospital", "hospital"), ("floodgate", "floodgate")):
        cells = np.zeros(grid.n)
        if not fac.empty:
            sel = fac[fac["kind"] == kind]
            cells = _kernel(grid, sel["lat"], sel["lon"], s.proximity_m)
        pair[layer] = _cell_to_pairs(grid, cells)

    cell = {name: np.bincount(grid.pair_cell, weights=pair[name], minlength=grid.n) for name in LAYERS}
    for name in LAYERS:
        if float(cell[name].sum()) <= 0:
            notes.append(f"layer {name} holds no demand and is left out of the weighting")
    return Layers(cell=cell, pair=pair, notes=notes)


def normalised_weights(layers: Layers, weights: Mapping[str, float]) -> dict[str, float]:
    """Weights over the active layers, summing to 1."""
    active = layers.active()
    raw = {k: float(weights.get(k, 0.0)) for k in active}
    total = sum(raw.values())
    if total <= 0:
        raise ValueError("all weights of layers holding demand are zero")
    return {k: v / total for k, v in raw.items()}


def composite_demand(layers: Layers, weights: Mapping[str, float]) -> np.ndarray:
    """Weighted sum of layer shares: each layer scaled to sum 1 over Jakarta -> (C,), sums to 1."""
    w = normalised_weights(layers, weights)
    out = np.zeros(len(next(iter(layers.cell.values()))))
    for k, wk in w.items():
        out += wk * layers.cell[k] / layers.cell[k].sum()
    return out


# --------------------------------------------------------------------------------------------
# camera coverage
@dataclass
class CameraReach:
    """(camera, cell) pairs within ``max_radius_m``, precomputed once for fast what-ifs."""

    cam: np.ndarray
    cell: np.ndarray
    dist: np.ndarray
    in_sector: np.ndarray
    factor: np.ndarray  # per camera: radius multiplier by type, shape (K,)
    own_radius: np.ndarray  # per camera: inventory view radius or NaN, shape (K,)
    max_radius_m: float
    n_cameras: int


def camera_reach(
    grid: Grid, cameras: pd.DataFrame, settings: CoverageSettings | None = None, max_radius_m: float = 600.0
) -> CameraReach:
    s = settings or CoverageSettings()
    cams = as_pandas(cameras)
    x, y = to_xy(cams["lon"], cams["lat"]) if len(cams) else (np.zeros(0), np.zeros(0))
    pi, ci, d = points_near(grid, x, y, max_radius_m)
    in_sector = np.ones(len(pi), dtype=bool)
    if s.fov_deg is not None and "heading_deg" in cams and len(pi):
        heading = cams["heading_deg"].to_numpy(dtype=float)[pi]
        bearing = np.degrees(np.arctan2(grid.x[ci] - x[pi], grid.y[ci] - y[pi])) % 360.0
        diff = np.abs((bearing - heading + 180.0) % 360.0 - 180.0)
        near = d <= grid.cell_m / math.sqrt(2)
        in_sector = np.isnan(heading) | (diff <= s.fov_deg / 2) | near
    types = cams["camera_type"].astype(str).str.lower() if "camera_type" in cams else pd.Series([""] * len(cams))
    factor = np.array([float(s.type_radius_factor.get(t, 1.0)) for t in types])
    own = cams["view_radius_m"].to_numpy(dtype=float) if "view_radius_m" in cams else np.full(len(cams), np.nan)
    return CameraReach(pi, ci, d, in_sector, factor, own, max_radius_m, len(cams))


def camera_radii(reach: CameraReach, radius_m: float, settings: CoverageSettings) -> np.ndarray:
    r = reach.factor * radius_m
    if settings.use_camera_view_radius:
        r = np.where(np.isnan(reach.own_radius), r, reach.own_radius)
    return np.minimum(r, reach.max_radius_m)


def covered_cells(
    grid: Grid, reach: CameraReach, radius_m: float, settings: CoverageSettings | None = None
) -> np.ndarray:
    """Boolean (C,): the cell centroid is seen by at least one existing camera."""
    s = settings or CoverageSettings()
    r = camera_radii(reach, radius_m, s)
    hit = (reach.dist <= r[reach.cam]) & reach.in_sector
    out = np.zeros(grid.n, dtype=bool)
    out[reach.cell[hit]] = True
    return out


# --------------------------------------------------------------------------------------------
# metrics
_LEVELS = {
    "kelurahan": ("kode_kelurahan", "nama_kelurahan"),
    "kecamatan": ("kode_kecamatan", "nama_kecamatan"),
    "kota": ("kode_kota", "nama_kota"),
}


def coverage_table(
    grid: Grid,
    layers: Layers,
    covered: np.ndarray,
    level: str = "kelurahan",
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Covered share of each layer by kelurahan / kecamatan / kota / city.

    Columns: <code>, <name>, layer, demand, covered, covered_share (NaN where demand is 0).
    ``layer == 'composite'`` is the weighted share (weights renormalised over active layers).
    """
    if level == "city":
        code_col, name_col = "kode", "nama"
        keys = np.zeros(len(grid.pair_kel), dtype=object)
        keys[:] = "31"
        names = {"31": "DKI Jakarta"}
    else:
        code_col, name_col = _LEVELS[level]
        kt = grid.kel_table
        keys = kt[code_col].to_numpy(dtype=object)[grid.pair_kel]
        names = dict(zip(kt[code_col], kt[name_col], strict=True))
    cov = covered[grid.pair_cell].astype(float)
    frames = []
    for name in LAYERS:
        df = pd.DataFrame({code_col: keys, "d": layers.pair[name], "c": layers.pair[name] * cov})
        g = df.dropna(subset=[code_col]).groupby(code_col, as_index=False)[["d", "c"]].sum()
        g["layer"] = name
        frames.append(g)
    out = pd.concat(frames, ignore_index=True).rename(columns={"d": "demand", "c": "covered"})
    if weights is not None:
        w = normalised_weights(layers, weights)
        totals = {k: float(layers.cell[k].sum()) for k in w}
        comp = out[out["layer"].isin(list(w))].copy()
        comp["d"] = comp.apply(lambda r: w[r["layer"]] * r["demand"] / totals[r["layer"]], axis=1)
        comp["c"] = comp.apply(lambda r: w[r["layer"]] * r["covered"] / totals[r["layer"]], axis=1)
        g = comp.groupby(code_col, as_index=False)[["d", "c"]].sum().rename(columns={"d": "demand", "c": "covered"})
        g["layer"] = "composite"
        out = pd.concat([out, g], ignore_index=True)
    out["covered_share"] = np.where(
        out["demand"] > 0, out["covered"] / out["demand"].where(out["demand"] > 0, 1), np.nan
    )
    out.insert(1, name_col, out[code_col].map(names))
    return out[[code_col, name_col, "layer", "demand", "covered", "covered_share"]].sort_values(
        [code_col, "layer"], ignore_index=True
    )


def city_coverage(layers: Layers, covered: np.ndarray, weights: Mapping[str, float]) -> dict[str, float]:
    """Covered share of each active layer over Jakarta, plus ``composite``."""
    out: dict[str, float] = {}
    for name in layers.active():
        out[name] = float(layers.cell[name][covered].sum() / layers.cell[name].sum())
    out["composite"] = float(composite_demand(layers, weights)[covered].sum())
    return out


def uncovered_hotspots(
    grid: Grid, layers: Layers, covered: np.ndarray, weights: Mapping[str, float], top: int = 20
) -> pd.DataFrame:
    """The ``top`` uncovered cells by composite demand, with their leading layer."""
    comp = composite_demand(layers, weights)
    w = normalised_weights(layers, weights)
    cand = np.flatnonzero(~covered & (comp > 0))
    order = cand[np.lexsort((cand, -comp[cand]))][:top]
    kt = grid.kel_table
    shares = (
        np.column_stack([w[k] * layers.cell[k][order] / layers.cell[k].sum() for k in w])
        if w
        else np.zeros((len(order), 0))
    )
    lead = [list(w)[i] for i in shares.argmax(axis=1)] if len(order) else []
    return pd.DataFrame(
        {
            "cell_id": grid.cell_ids(order),
            "lat": grid.lat[order],
            "lon": grid.lon[order],
            "kode_kelurahan": [kt["kode_kelurahan"].iloc[k] if k >= 0 else None for k in grid.kel[order]],
            "nama_kelurahan": [kt["nama_kelurahan"].iloc[k] if k >= 0 else None for k in grid.kel[order]],
            "composite": comp[order],
            "leading_layer": lead,
            **{f"demand_{k}": layers.cell[k][order] for k in LAYERS},
        }
    )

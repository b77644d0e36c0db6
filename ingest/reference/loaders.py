"""Load Jakarta reference data (shipped in ``ingest/reference/data``) into Arrow tables.

Pure functions: files in, ``pyarrow.Table`` + a list of :class:`RefIssue` out. Nothing is
silently dropped: every row that cannot be used as-is becomes an issue with its file,
row number, field and reason, and the action taken (``kept``, ``excluded``, ``matched_nearest``).

Two city-code systems exist (see DATA_LICENSES.md): Kemendagri (31.71 = Jakarta Pusat ...)
is the one used everywhere in the lake; BPS codes (3171 = Jakarta Selatan ...) from
Kemenkes and PetaBencana are translated or ignored, never joined directly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry import mapping, shape

DATA_DIR = Path(str(resources.files("ingest.reference") / "data"))

#: mainland + Kepulauan Seribu bounding box (lon_min, lat_min, lon_max, lat_max)
JAKARTA_BBOX = (106.30, -6.45, 107.05, -5.10)
NEAREST_MAX_M = 500.0

#: spelling variants between sources (normalised form -> normalised canonical form)
NAME_VARIANTS = {
    "HARAPANMULIA": "HARAPANMULYA",
    "PALMERIAM": "PALMERIEM",
    "TENGAH": "KAMPUNGTENGAH",
    "KRENDANG": "KREDANG",
    "PAPANGGO": "PAPANGO",
    "TANJUNGPRIOK": "TANJUNGPRIUK",
    "WIJAYAKUSUMA": "WIJAYAKESUMA",
    "PONDOKRANGON": "PONDOKRANGGON",
    "HALIMPERDANAKUSUMAH": "HALIMPERDANAKUSUMA",
}

#: BPS kota code -> Kemendagri kota code (the two systems disagree; see SOURCES)
BPS_TO_KEMENDAGRI_KOTA = {
    "3171": "31.74",  # Jakarta Selatan
    "3172": "31.75",  # Jakarta Timur
    "3173": "31.71",  # Jakarta Pusat
    "3174": "31.73",  # Jakarta Barat
    "3175": "31.72",  # Jakarta Utara
    "3101": "31.01",  # Kepulauan Seribu
}

MONTHS_ID = {
    "januari": 1, "februari": 2, "maret": 3, "april": 4, "mei": 5, "juni": 6,
    "juli": 7, "agustus": 8, "september": 9, "oktober": 10, "november": 11, "desember": 12,
}  # fmt: skip


@dataclass(frozen=True)
class RefIssue:
    source_file: str
    row_number: int
    field: str
    value: str
    reason: str
    action: str


@dataclass
class RefResult:
    table: pa.Table
    issues: list[RefIssue] = field(default_factory=list)
    source_rows: int = 0


def normalise_name(name: str | None) -> str:
    """Upper-case, strip accents and non-letters, then map known spelling variants."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    key = re.sub(r"[^A-Z]", "", text.upper())
    return NAME_VARIANTS.get(key, key)


def _read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _read_geojson(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["features"])


def _rel(path: Path) -> str:
    try:
        return path.relative_to(DATA_DIR).as_posix()
    except ValueError:
        return path.name


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    f = _num(value)
    return None if f is None else round(f)


# ----------------------------------------------------------------------------------------
# administrative areas
# ----------------------------------------------------------------------------------------
def load_kota(data_dir: Path = DATA_DIR) -> RefResult:
    path = data_dir / "boundaries" / "jkt_city_boundary.geojson"
    feats = _read_geojson(path)
    rows = [
        {
            "kode_kota": f["properties"]["kode_kota"],
            "nama_kota": f["properties"]["nama_kota_kemendagri"],
            "geometry": json.dumps(f["geometry"], separators=(",", ":")),
        }
        for f in feats
    ]
    return RefResult(pa.Table.from_pylist(rows), [], len(feats))


def load_kecamatan(data_dir: Path = DATA_DIR) -> RefResult:
    path = data_dir / "boundaries" / "jkt_subdistrict_boundary.geojson"
    feats = _read_geojson(path)
    rows = [
        {
            "kode_kecamatan": p["kode_kecamatan"],
            "nama_kecamatan": p["nama_kecamatan_kemendagri"],
            "kode_kota": p["kode_kota"],
            "nama_kota": p["nama_kota_kemendagri"],
            "geometry": json.dumps(f["geometry"], separators=(",", ":")),
        }
        for f in feats
        for p in [f["properties"]]
    ]
    return RefResult(pa.Table.from_pylist(rows), [], len(feats))


def load_kelurahan(data_dir: Path = DATA_DIR) -> RefResult:
    """267 kelurahan of the official Kemendagri code table, with geometry and population.

    Geometry: the BPBD/PetaJakarta mainland map (261) and Dukcapil 2019 for Kepulauan Seribu (6).
    Population: Dukcapil December 2019.
    """
    codes_path = data_dir / "boundaries" / "idn-area-data_dki_jakarta_villages.csv"
    mainland_path = data_dir / "boundaries" / "jkt_village_boundary.geojson"
    dukcapil_geo_path = data_dir / "population" / "dukcapil_2019_kelurahan.geojson"
    pop_path = data_dir / "population" / "jakarta_kelurahan_population_dukcapil_2019.csv"
    issues: list[RefIssue] = []

    codes = _read_csv(codes_path)
    geom_by_code: dict[str, tuple[dict[str, Any], str]] = {}
    for i, f in enumerate(_read_geojson(mainland_path), start=1):
        code = f["properties"].get("kode_kelurahan")
        if not code:
            issues.append(
                RefIssue(
                    _rel(mainland_path), i, "kode_kelurahan", str(f["properties"].get("kelurahan")),
                    "polygon is not an administrative kelurahan (no Kemendagri code)", "excluded",
                )
            )  # fmt: skip
            continue
        geom_by_code[code] = (f["geometry"], "bpbd_petajakarta")
    for f in _read_geojson(dukcapil_geo_path):
        code = f["properties"].get("kode_kemendagri")
        if code and code not in geom_by_code and code.startswith("31.01"):
            geom_by_code[code] = (f["geometry"], "dukcapil_2019")

    pop_by_code: dict[str, dict[str, str]] = {}
    for i, r in enumerate(_read_csv(pop_path), start=2):
        code = r.get("kode_kemendagri") or ""
        if not re.fullmatch(r"31\.\d{2}\.\d{2}\.\d{4}", code) or not r.get("kelurahan"):
            issues.append(
                RefIssue(_rel(pop_path), i, "kode_kemendagri", r.get("kode_desa", ""),
                         "not a kelurahan (sliver record without name/code)", "excluded")
            )  # fmt: skip
            continue
        pop_by_code[code] = r

    rows = []
    for i, r in enumerate(codes, start=2):
        code = r["kode_kelurahan"]
        geom, geom_src = geom_by_code.get(code, (None, None))
        pop = pop_by_code.get(code)
        if geom is None:
            issues.append(RefIssue(_rel(codes_path), i, "geometry", code, "no boundary polygon found", "kept"))
        if pop is None:
            issues.append(RefIssue(_rel(codes_path), i, "population", code, "no Dukcapil population row", "kept"))
        centroid = shape(geom).representative_point() if geom else None
        rows.append(
            {
                "kode_kelurahan": code,
                "nama_kelurahan": r["nama_kelurahan"],
                "kode_kecamatan": r["kode_kecamatan"],
                "nama_kecamatan": r["nama_kecamatan"],
                "kode_kota": r["kode_kota"],
                "nama_kota": r["nama_kota"],
                "population": _int(pop["jumlah_penduduk"]) if pop else None,
                "households": _int(pop["jumlah_kk"]) if pop else None,
                "area_km2": _num(pop["luas_wilayah_km2"]) if pop else None,
                "density_per_km2": _num(pop["kepadatan_per_km2"]) if pop else None,
                "centroid_lat": centroid.y if centroid else None,
                "centroid_lon": centroid.x if centroid else None,
                "geometry_source": geom_src,
                "geometry": json.dumps(geom, separators=(",", ":")) if geom else None,
            }
        )
    return RefResult(pa.Table.from_pylist(rows), issues, len(codes))


@dataclass
class KelurahanIndex:
    """Point-in-polygon lookup over kelurahan polygons (shapely STRtree, vectorised)."""

    codes: np.ndarray
    names: np.ndarray
    kecamatan: np.ndarray
    kota: np.ndarray
    geoms: np.ndarray

    @classmethod
    def from_table(cls, kel: pa.Table) -> KelurahanIndex:
        d = kel.to_pydict()
        keep = [i for i, g in enumerate(d["geometry"]) if g]
        return cls(
            codes=np.array([d["kode_kelurahan"][i] for i in keep], dtype=object),
            names=np.array([d["nama_kelurahan"][i] for i in keep], dtype=object),
            kecamatan=np.array([d["nama_kecamatan"][i] for i in keep], dtype=object),
            kota=np.array([d["nama_kota"][i] for i in keep], dtype=object),
            geoms=np.array([shape(json.loads(d["geometry"][i])) for i in keep], dtype=object),
        )

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (index into codes or -1, method, distance_m) for points (N,) lon/lat.

        Points inside a polygon get method ``pip``; points outside every polygon but within
        ``NEAREST_MAX_M`` of one (coastline, digitising gaps) get ``nearest``; others ``none``.
        """
        tree = shapely.STRtree(self.geoms)
        pts = shapely.points(lon, lat)
        idx = np.full(len(pts), -1, dtype=np.int64)
        method = np.full(len(pts), "none", dtype=object)
        dist = np.zeros(len(pts))
        valid = ~(np.isnan(lon) | np.isnan(lat))
        pairs = tree.query(pts[valid], predicate="within")
        valid_idx = np.flatnonzero(valid)
        for p, g in zip(pairs[0], pairs[1], strict=True):
            if idx[valid_idx[p]] == -1:
                idx[valid_idx[p]] = g
                method[valid_idx[p]] = "pip"
        missing = np.flatnonzero(valid & (idx == -1))
        if len(missing):
            near = tree.nearest(pts[missing])
            for m, g in zip(missing, near, strict=True):
                # degrees -> metres at Jakarta's latitude (~110.6 km per degree)
                d = shapely.distance(pts[m], self.geoms[g]) * 110_600.0
                dist[m] = d
                if d <= NEAREST_MAX_M:
                    idx[m] = g
                    method[m] = "nearest"
        return idx, method, dist


def _in_bbox(lon: float | None, lat: float | None) -> bool:
    if lon is None or lat is None:
        return False
    x0, y0, x1, y1 = JAKARTA_BBOX
    return x0 <= lon <= x1 and y0 <= lat <= y1


# ----------------------------------------------------------------------------------------
# CCTV inventory
# ----------------------------------------------------------------------------------------
def load_cameras(kel: pa.Table, data_dir: Path = DATA_DIR) -> tuple[RefResult, RefResult]:
    """The 1,289 CCTV sites (one camera per site) and the 50 public HLS channels.

    Sites from the public directory get their first HLS channel as ``stream_url``; the other
    sites only have a viewer page (``stream_kind = 'viewer'``), not a capturable stream.
    """
    sites_path = data_dir / "cctv" / "jakarta_cctv_map_sites.csv"
    chan_path = data_dir / "cctv" / "jakcctv_public_cameras.csv"
    sites = _read_csv(sites_path)
    channels = _read_csv(chan_path)
    issues: list[RefIssue] = []
    first_hls: dict[str, dict[str, str]] = {}
    for c in channels:
        first_hls.setdefault(c["site_id"], c)

    index = KelurahanIndex.from_table(kel)
    lon = np.array([_num(s["lng"]) if _num(s["lng"]) is not None else np.nan for s in sites], dtype=float)
    lat = np.array([_num(s["lat"]) if _num(s["lat"]) is not None else np.nan for s in sites], dtype=float)
    k_idx, k_method, k_dist = index.locate(lon, lat)

    rows = []
    seen: set[str] = set()
    for i, s in enumerate(sites):
        line = i + 2
        sid = s["site_id"]
        if sid in seen:
            issues.append(RefIssue(_rel(sites_path), line, "site_id", sid, "duplicate site_id", "excluded"))
            continue
        seen.add(sid)
        x, y = _num(s["lng"]), _num(s["lat"])
        if not _in_bbox(x, y):
            issues.append(
                RefIssue(_rel(sites_path), line, "lat/lng", f"{y},{x}", "coordinates outside Jakarta", "kept")
            )
        g = int(k_idx[i])
        if g < 0 and _in_bbox(x, y):
            issues.append(
                RefIssue(_rel(sites_path), line, "lat/lng", f"{y},{x}",
                         f"no kelurahan within {NEAREST_MAX_M:.0f} m ({k_dist[i]:.0f} m)", "kept")
            )  # fmt: skip
        elif k_method[i] == "nearest":
            issues.append(
                RefIssue(_rel(sites_path), line, "lat/lng", f"{y},{x}",
                         f"outside every polygon; nearest kelurahan {k_dist[i]:.0f} m away", "matched_nearest")
            )  # fmt: skip
        hls = first_hls.get(sid)
        rows.append(
            {
                "camera_id": sid,
                "name": s["name"],
                "operator": s["agency"] or None,
                "provider": s["provider"] or None,
                "stream_url": hls["hls_url"] if hls else (s["first_channel_url"] or None),
                "stream_kind": "hls" if hls else "viewer",
                "lat": y,
                "lon": x,
                "kelurahan_code": index.codes[g] if g >= 0 else None,
                "kelurahan": index.names[g] if g >= 0 else None,
                "kecamatan": index.kecamatan[g] if g >= 0 else None,
                "kota": index.kota[g] if g >= 0 else None,
                "kelurahan_method": str(k_method[i]),
                "view_radius_m": 150.0,
                "heading_deg": None,
                "zones": None,
                "installed_at": None,
                "active": True,
                "catalog_source": s["catalog_source"],
                "address": s["address"] or None,
                "n_channels": _int(s["n_channels"]),
            }
        )
    cam_schema = pa.schema(
        [
            ("camera_id", pa.string()), ("name", pa.string()), ("operator", pa.string()),
            ("provider", pa.string()), ("stream_url", pa.string()), ("stream_kind", pa.string()),
            ("lat", pa.float64()), ("lon", pa.float64()), ("kelurahan_code", pa.string()),
            ("kelurahan", pa.string()), ("kecamatan", pa.string()), ("kota", pa.string()),
            ("kelurahan_method", pa.string()), ("view_radius_m", pa.float64()), ("heading_deg", pa.float64()),
            ("zones", pa.string()), ("installed_at", pa.timestamp("us", tz="UTC")), ("active", pa.bool_()),
            ("catalog_source", pa.string()), ("address", pa.string()), ("n_channels", pa.int32()),
        ]
    )  # fmt: skip
    cams = RefResult(pa.Table.from_pylist(rows, schema=cam_schema), issues, len(sites))

    cx = np.array([_num(c["lon"]) or np.nan for c in channels], dtype=float)
    cy = np.array([_num(c["lat"]) or np.nan for c in channels], dtype=float)
    c_idx, _, _ = index.locate(cx, cy)
    ch_rows = [
        {
            "camera_id": c["site_id"],
            "channel_id": c["channel_id"],
            "channel_label": c["channel_label"],
            "hls_url": c["hls_url"],
            "snapshot_url": c["snapshot_url"],
            "lat": _num(c["lat"]),
            "lon": _num(c["lon"]),
            "kelurahan_code": index.codes[c_idx[i]] if c_idx[i] >= 0 else None,
            "name_stream_mismatch": c["name_stream_mismatch"].strip().lower() == "true",
        }
        for i, c in enumerate(channels)
    ]
    return cams, RefResult(pa.Table.from_pylist(ch_rows), [], len(channels))


# ----------------------------------------------------------------------------------------
# hazards history
# ----------------------------------------------------------------------------------------
def _kelurahan_lookup(kel: pa.Table) -> tuple[dict[tuple[str, str], str], dict[str, list[str]]]:
    d = kel.to_pydict()
    by_pair: dict[tuple[str, str], str] = {}
    by_name: dict[str, list[str]] = {}
    for code, name, kec in zip(d["kode_kelurahan"], d["nama_kelurahan"], d["nama_kecamatan"], strict=True):
        by_pair[(normalise_name(kec), normalise_name(name))] = code
        by_name.setdefault(normalise_name(name), []).append(code)
    return by_pair, by_name


def _match(
    by_pair: dict[tuple[str, str], str], by_name: dict[str, list[str]], kecamatan: str, kelurahan: str
) -> tuple[str | None, str]:
    code = by_pair.get((normalise_name(kecamatan), normalise_name(kelurahan)))
    if code:
        return code, ""
    cands = by_name.get(normalise_name(kelurahan), [])
    if len(cands) == 1:
        return cands[0], "matched by kelurahan name only (kecamatan differs)"
    # Kepulauan Seribu abbreviations: "P. Harapan" -> "Pulau Harapan"
    alt = re.sub(r"^P\.?\s*", "PULAU ", kelurahan.strip(), flags=re.I)
    cands = by_name.get(normalise_name(alt), [])
    if len(cands) == 1:
        return cands[0], "matched after expanding 'P.' to 'Pulau'"
    return None, "kelurahan name not found in the Kemendagri code table" if not cands else "ambiguous kelurahan name"


def load_flood_events_2024(kel: pa.Table, data_dir: Path = DATA_DIR) -> RefResult:
    path = data_dir / "flood" / "banjir.csv"
    src = _read_csv(path)
    by_pair, by_name = _kelurahan_lookup(kel)
    rows, issues = [], []
    for i, r in enumerate(src, start=2):
        code, note = _match(by_pair, by_name, r["kecamatan"], r["kelurahan"])
        if note:
            issues.append(RefIssue(_rel(path), i, "kelurahan", r["kelurahan"], note, "kept"))
        month = MONTHS_ID.get(r["bulan"].strip().lower())
        if month is None:
            issues.append(RefIssue(_rel(path), i, "bulan", r["bulan"], "unknown month name", "kept"))
        rows.append(
            {
                "kode_kelurahan": code,
                "kelurahan": r["kelurahan"],
                "kecamatan": r["kecamatan"],
                "kota": r["wilayah_adm"],
                "quarter": _int(r["triwulan"]),
                "month": month,
                "events": _int(r["jumlah_kejadian"]),
                "water_min_cm": _num(r["tinggi_air_min"]),
                "water_max_cm": _num(r["tinggi_air_max"]),
                "water_avg_cm": _num(r["tinggi_air_avg"]),
                "rw_affected": _int(r["jumlah_rw_terdampak"]),
                "kk_affected": _int(r["jumlah_kk_terdampak"]),
                "people_affected": _int(r["jumlah_jiwa_terdampak"]),
                "displaced": _int(r["jumlah_pengungsi"]),
                "shelters": _int(r["jumlah_tempat_pengungsian"]),
            }
        )
    return RefResult(pa.Table.from_pylist(rows), issues, len(src))


def load_fire_incidents_2024(kel: pa.Table, data_dir: Path = DATA_DIR) -> RefResult:
    path = data_dir / "fire" / "Data_Kebakaran_Gabungan.csv"
    src = _read_csv(path, delimiter=";")
    by_pair, by_name = _kelurahan_lookup(kel)
    causes = ["Gas", "Lainnya", "Lilin", "Listrik", "Membakar Sampah", "Rokok"]
    rows, issues = [], []
    for i, r in enumerate(src, start=2):
        code, note = _match(by_pair, by_name, r["kecamatan"], r["kelurahan"])
        if note:
            issues.append(RefIssue(_rel(path), i, "kelurahan", r["kelurahan"], note, "kept"))
        freq = _int(r["frekuensi"])
        total = sum(_int(r[c]) or 0 for c in causes)
        if freq is not None and freq != total:
            issues.append(
                RefIssue(_rel(path), i, "frekuensi", str(freq), f"differs from the sum of causes ({total})", "kept")
            )
        rows.append(
            {
                "kode_kelurahan": code,
                "kelurahan": r["kelurahan"],
                "kecamatan": r["kecamatan"],
                "kota": r["wilayah"],
                "incidents": freq,
                "cause_gas": _int(r["Gas"]),
                "cause_other": _int(r["Lainnya"]),
                "cause_candle": _int(r["Lilin"]),
                "cause_electric": _int(r["Listrik"]),
                "cause_burning_waste": _int(r["Membakar Sampah"]),
                "cause_cigarette": _int(r["Rokok"]),
            }
        )
    return RefResult(pa.Table.from_pylist(rows), issues, len(src))


def load_flood_extent_2017(data_dir: Path = DATA_DIR) -> RefResult:
    path = data_dir / "flood" / "petabencana" / "jkt_floods_february_2017_max_state.geojson"
    feats = _read_geojson(path)
    rows = [
        {
            "geom_id": str(p["geom_id"]),
            "max_state": _int(p.get("max_state")),
            "hours_flagged": _int(p.get("hours_flagged")),
            "first_snapshot": p.get("first_snapshot"),
            "last_snapshot": p.get("last_snapshot"),
            "kode_kelurahan": p.get("kode_kelurahan_pip"),
            "geometry": json.dumps(f["geometry"], separators=(",", ":")),
        }
        for f in feats
        for p in [f["properties"]]
    ]
    issues = [
        RefIssue(_rel(path), i, "kode_kelurahan_pip", str(r["geom_id"]), "RW polygon not inside a kelurahan", "kept")
        for i, r in enumerate(rows, start=1)
        if not r["kode_kelurahan"]
    ]
    return RefResult(pa.Table.from_pylist(rows), issues, len(feats))


def load_flood_reports_2017(kel: pa.Table, data_dir: Path = DATA_DIR) -> RefResult:
    """Citizen flood reports (PetaBencana, 21 Feb 2017): time, source, depth and point only.

    The free text, titles and image URLs of the reports are personal content and are not loaded.
    """
    path = data_dir / "flood" / "petabencana" / "petabencana.id_jbd_reports_2017-02-21.geojson"
    feats = _read_geojson(path)
    lon = np.array([f["geometry"]["coordinates"][0] for f in feats], dtype=float)
    lat = np.array([f["geometry"]["coordinates"][1] for f in feats], dtype=float)
    index = KelurahanIndex.from_table(kel)
    idx, _method, _ = index.locate(lon, lat)
    rows, issues = [], []
    for i, f in enumerate(feats):
        p = f["properties"]
        depth = (p.get("report_data") or {}).get("flood_depth")
        code = index.codes[idx[i]] if idx[i] >= 0 else None
        if code is None:
            issues.append(
                RefIssue(_rel(path), i + 1, "geometry", f"{lat[i]},{lon[i]}", "report outside DKI Jakarta", "kept")
            )
        # PetaBencana timestamps are WIB (UTC+7) without an offset
        created = datetime.fromisoformat(p["created_at"]).replace(tzinfo=None)
        rows.append(
            {
                "created_at": (created - _WIB_OFFSET).replace(tzinfo=UTC),
                "source": p.get("source"),
                "flood_depth_cm": _num(depth),
                "lat": float(lat[i]),
                "lon": float(lon[i]),
                "kode_kelurahan": code,
            }
        )
    return RefResult(pa.Table.from_pylist(rows), issues, len(feats))


from datetime import timedelta  # noqa: E402

_WIB_OFFSET = timedelta(hours=7)


# ----------------------------------------------------------------------------------------
# facilities, thresholds, hospitals, parking
# ----------------------------------------------------------------------------------------
def _points(
    path: Path, kind: str, name_key: str, subtype_key: str | None, id_key: str, index: KelurahanIndex
) -> tuple[list[dict[str, Any]], list[RefIssue]]:
    feats = _read_geojson(path)
    lon = np.array([f["geometry"]["coordinates"][0] for f in feats], dtype=float)
    lat = np.array([f["geometry"]["coordinates"][1] for f in feats], dtype=float)
    idx, _method, _ = index.locate(lon, lat)
    rows, issues = [], []
    for i, f in enumerate(feats):
        p = f["properties"]
        if idx[i] < 0:
            issues.append(
                RefIssue(_rel(path), i + 1, "geometry", f"{lat[i]},{lon[i]}", "point in no kelurahan polygon", "kept")
            )
        attrs = {k: v for k, v in p.items() if k not in (name_key, id_key) and v not in (None, "")}
        rows.append(
            {
                "facility_id": f"{kind}-{p.get(id_key)}",
                "kind": kind,
                "subtype": p.get(subtype_key) if subtype_key else None,
                "name": p.get(name_key),
                "lat": float(lat[i]),
                "lon": float(lon[i]),
                "kode_kelurahan": index.codes[idx[i]] if idx[i] >= 0 else None,
                "attributes": json.dumps(attrs, sort_keys=True, default=str),
            }
        )
    return rows, issues


def load_facilities(kel: pa.Table, data_dir: Path = DATA_DIR) -> RefResult:
    index = KelurahanIndex.from_table(kel)
    specs = [
        (data_dir / "health" / "rumahsakit.geojson", "hospital", "NAMOBJ", "REMARK", "OBJECTID"),
        (data_dir / "health" / "puskesmas.geojson", "puskesmas", "NAMOBJ", "REMARK", "OBJECTID"),
        (data_dir / "flood" / "floodgates.geojson", "floodgate", "name", None, "pkey"),
        (data_dir / "flood" / "pumps.geojson", "pump", "name", None, "pkey"),
    ]
    rows: list[dict[str, Any]] = []
    issues: list[RefIssue] = []
    n = 0
    for path, kind, name_key, sub_key, id_key in specs:
        r, iss = _points(path, kind, name_key, sub_key, id_key, index)
        rows += r
        issues += iss
        n += len(r)
    r, iss, n_src = _public_spaces(data_dir / "public_space" / "geoportal_rptra_koordinat.csv", index)
    rows += r
    issues += iss
    n += n_src
    return RefResult(pa.Table.from_pylist(rows), issues, n)


def _public_spaces(path: Path, index: KelurahanIndex) -> tuple[list[dict[str, Any]], list[RefIssue], int]:
    """RPTRA (child-friendly public spaces) from the Jakarta Satu geoportal layer -> facilities kind
    ``public_space``.

    A row without coordinates is excluded; a point in no kelurahan polygon, a point whose polygon disagrees with
    the row's own kelurahan name, and a point that repeats an earlier row's coordinates are kept and reported.
    """
    src = _read_csv(path)
    rows: list[dict[str, Any]] = []
    issues: list[RefIssue] = []
    kept = [(line, r) for line, r in enumerate(src, start=2) if _num(r["X"]) is not None and _num(r["Y"]) is not None]
    for line, r in enumerate(src, start=2):
        if _num(r["X"]) is None or _num(r["Y"]) is None:
            issues.append(RefIssue(_rel(path), line, "X/Y", f"{r['X']},{r['Y']}", "no coordinates", "excluded"))
    lon = np.array([float(r["X"]) for _, r in kept], dtype=float)
    lat = np.array([float(r["Y"]) for _, r in kept], dtype=float)
    idx, _method, _ = index.locate(lon, lat)
    first_at: dict[tuple[float, float], str] = {}
    for i, (line, r) in enumerate(kept):
        oid = r["OBJECTID"]
        if idx[i] < 0:
            issues.append(
                RefIssue(
                    _rel(path), line, "X/Y", f"{lat[i]},{lon[i]}", "point in no mainland kelurahan polygon", "kept"
                )
            )
        elif normalise_name(index.names[idx[i]]) != normalise_name(r["WADMKD"]):
            issues.append(
                RefIssue(_rel(path), line, "WADMKD", r["WADMKD"], f"point lies in {index.names[idx[i]]}", "kept")
            )
        key = (float(lon[i]), float(lat[i]))
        if key in first_at:
            issues.append(
                RefIssue(
                    _rel(path), line, "X/Y", f"{lat[i]},{lon[i]}", f"same point as OBJECTID {first_at[key]}", "kept"
                )
            )
        else:
            first_at[key] = oid
        attrs = {
            "address": r["ALAMAT"] or None,
            "area_m2": _num(r["LUAS"]),
            "kelurahan_source": r["WADMKD"].strip() or None,
            "kecamatan_source": r["WADMKC"].strip() or None,
            "kota_source": r["WADMKK"].strip() or None,
        }
        name = r["NAMA_RPTRA"].strip()
        rows.append(
            {
                "facility_id": f"public_space-rptra-{oid}",
                "kind": "public_space",
                "subtype": "RPTRA",
                "name": name if name.upper().startswith("RPTRA") else f"RPTRA {name}",
                "lat": float(lat[i]),
                "lon": float(lon[i]),
                "kode_kelurahan": index.codes[idx[i]] if idx[i] >= 0 else None,
                "attributes": json.dumps({k: v for k, v in attrs.items() if v is not None}, sort_keys=True),
            }
        )
    return rows, issues, len(src)


def load_water_gate_thresholds(data_dir: Path = DATA_DIR) -> RefResult:
    path = data_dir / "flood" / "dsda_pintu_air_siaga_thresholds.csv"
    src = _read_csv(path)
    rows, issues = [], []
    for i, r in enumerate(src, start=2):
        s3, s2, s1 = _num(r["siaga3_min_cm"]), _num(r["siaga2_min_cm"]), _num(r["siaga1_min_cm"])
        known = [v for v in (s3, s2, s1) if v is not None]
        if not known:
            issues.append(RefIssue(_rel(path), i, "siaga*_min_cm", "", "no threshold published for this gauge", "kept"))
        elif known != sorted(known):
            issues.append(
                RefIssue(_rel(path), i, "siaga*_min_cm", f"{s3},{s2},{s1}", "thresholds not increasing", "kept")
            )
        rows.append(
            {
                "gate_id": r["dsda_id_pintu_air"] or None,
                "name": r["nama_pos"],
                "siaga3_min_cm": s3,
                "siaga2_min_cm": s2,
                "siaga1_min_cm": s1,
                "source": r["sumber"] or None,
                "note": r["catatan"] or None,
            }
        )
    return RefResult(pa.Table.from_pylist(rows), issues, len(src))


def load_hospital_capacity(data_dir: Path = DATA_DIR) -> RefResult:
    """Kemenkes RS Online list; its ``kode_rs`` prefix is a BPS code, translated to Kemendagri."""
    path = data_dir / "health" / "rs_online_kemenkes_dki_jakarta.csv"
    src = _read_csv(path)
    rows, issues = [], []
    for i, r in enumerate(src, start=2):
        beds = _int(r["total_tempat_tidur"])
        if not beds:
            issues.append(
                RefIssue(_rel(path), i, "total_tempat_tidur", r["total_tempat_tidur"], "zero or missing beds", "kept")
            )
        kota_code = BPS_TO_KEMENDAGRI_KOTA.get(r["kode_rs"][:4])
        if kota_code is None:
            issues.append(RefIssue(_rel(path), i, "kode_rs", r["kode_rs"], "unknown BPS kota prefix", "kept"))
        rows.append(
            {
                "kode_rs": r["kode_rs"],
                "name": r["nama_rs"],
                "hospital_type": r["jenis_rs"],
                "hospital_class": r["kelas"] or None,
                "owner": r["pemilik"] or None,
                "total_beds": beds,
                "kota": kota_code,
            }
        )
    return RefResult(pa.Table.from_pylist(rows), issues, len(src))


def load_parking(kel: pa.Table, data_dir: Path = DATA_DIR) -> RefResult:
    path = data_dir / "parking" / "parkirjakarta.geojson"
    feats = _read_geojson(path)
    index = KelurahanIndex.from_table(kel)
    lon = np.array([f["geometry"]["coordinates"][0] for f in feats], dtype=float)
    lat = np.array([f["geometry"]["coordinates"][1] for f in feats], dtype=float)
    idx, _method, _ = index.locate(lon, lat)
    rows = []
    for i, f in enumerate(feats):
        p = f["properties"]
        rows.append(
            {
                "parking_id": f"PRK-{int(p['id']):03d}",
                "name": p["nama_tempat_parkir"],
                "kind": p["jenis_lokasi_parkir"],
                "address": p.get("alamat"),
                "area_m2": _num(p.get("luas_m2")),
                "capacity_car": _int(p.get("kapasitas_mobil")),
                "capacity_motorcycle": _int(p.get("kapasitas_motor")),
                "capacity_bus_truck": _int(p.get("kapasitas_bus_truk")),
                "lat": float(lat[i]),
                "lon": float(lon[i]),
                "kode_kelurahan": index.codes[idx[i]] if idx[i] >= 0 else None,
            }
        )
    return RefResult(pa.Table.from_pylist(rows), [], len(feats))


def issues_table(issues: Iterable[RefIssue], loaded_at: datetime | None = None) -> pa.Table:
    at = loaded_at or datetime.now(UTC)
    rows = [{**i.__dict__, "loaded_at": at} for i in issues]
    schema = pa.schema(
        [
            ("source_file", pa.string()), ("row_number", pa.int32()), ("field", pa.string()),
            ("value", pa.string()), ("reason", pa.string()), ("action", pa.string()),
            ("loaded_at", pa.timestamp("us", tz="UTC")),
        ]
    )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


def geojson_feature(geometry_json: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": mapping(shape(json.loads(geometry_json))), "properties": properties}


def count_source_rows(path: Path, delimiter: str = ",") -> int:
    """Rows in a CSV file excluding the header (for row-count checks)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.DictReader(io.StringIO(fh.read()), delimiter=delimiter))

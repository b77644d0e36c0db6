"""Synthetic Jaki activity for one day, with ground truth, in the export formats Jaki delivers.

Structure (all vectorised numpy; a million usage events take about a second):

* users live in kelurahan in proportion to the real Dukcapil 2019 population; usage follows a
  diurnal curve (morning and evening peaks) scaled by weekday, with optional Ramadan (sahur peak,
  iftar dip) and public-holiday shapes; each user has a log-normal activity level;
* complaints follow the same rhythm, except flood complaints which follow an hourly rain series
  and, where given, the cameras' flood scores per kelurahan, and favour kelurahan that flooded in
  2024 (BPBD data); resolution times are log-normal per category;
* hospital-bed snapshots use the real hospitals of RS Online (Kemenkes) and their bed totals;
  parking snapshots use the real Jakarta parking locations and capacities;
* points (complaints, panic presses) scatter around real kelurahan centroids (boundary polygons).

Exports carry the personal fields a real export would (names, phone numbers, raw user ids,
phone numbers in free text), so ingestion's privacy rules are exercised; :func:`corrupt_export`
adds a configurable share of malformed rows and returns which lines it broke and how.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from ingest.jaki import schemas as S

REF = Path(str(resources.files("ingest.reference") / "data"))
WIB_OFFSET = "+07:00"

# usage share per hour of day (WIB), before weekday/holiday scaling
DIURNAL = np.array(
    [
        0.6,
        0.35,
        0.25,
        0.25,
        0.5,
        1.2,
        2.6,
        4.6,
        6.0,
        6.0,
        5.6,
        5.4,
        5.8,
        5.6,
        5.2,
        5.3,
        5.9,
        6.6,
        7.2,
        7.4,
        7.0,
        5.8,
        3.8,
        1.9,
    ]
)
RAMADAN = np.array(
    [
        0.8,
        0.6,
        1.9,
        3.6,
        3.0,
        1.0,
        1.6,
        3.6,
        5.2,
        5.6,
        5.3,
        5.0,
        5.0,
        4.8,
        4.6,
        5.0,
        5.4,
        5.6,
        3.0,
        4.8,
        6.8,
        7.2,
        6.2,
        3.0,
    ]
)
HOLIDAY = np.array(
    [
        0.9,
        0.6,
        0.4,
        0.3,
        0.4,
        0.7,
        1.2,
        2.2,
        3.8,
        5.2,
        6.2,
        6.6,
        6.6,
        6.4,
        6.2,
        6.2,
        6.4,
        6.8,
        7.0,
        7.0,
        6.6,
        5.6,
        4.0,
        2.2,
    ]
)
WEEKDAY_SCALE = np.array([1.0, 1.0, 1.0, 1.0, 0.97, 0.85, 0.78])  # Mon..Sun
FEATURE_WEIGHTS = {
    "home": 0.22,
    "news": 0.12,
    "cctv": 0.10,
    "complaints": 0.10,
    "jakcare": 0.06,
    "hospital_beds": 0.04,
    "fast_cash": 0.03,
    "parking": 0.05,
    "panic_button": 0.004,
    "transport": 0.14,
    "payments": 0.09,
    "events": 0.046,
}
ACTION_WEIGHTS = {"open": 0.30, "view": 0.38, "search": 0.12, "submit": 0.06, "share": 0.04, "close": 0.10}
CATEGORY_WEIGHTS = {
    "flood": 0.04,
    "fire": 0.01,
    "waste": 0.20,
    "damaged_road": 0.14,
    "illegal_parking": 0.13,
    "crowd_disturbance": 0.07,
    "drainage": 0.09,
    "street_lighting": 0.07,
    "fallen_tree": 0.04,
    "traffic": 0.06,
    "noise": 0.05,
    "public_facility": 0.06,
    "other": 0.04,
}
RESOLUTION_MEDIAN_H = {
    "flood": 6,
    "fire": 2,
    "waste": 20,
    "damaged_road": 96,
    "illegal_parking": 8,
    "crowd_disturbance": 3,
    "drainage": 72,
    "street_lighting": 48,
    "fallen_tree": 10,
    "traffic": 6,
    "noise": 12,
    "public_facility": 120,
    "other": 48,
}
DESCRIPTIONS = {
    "flood": "Air setinggi {n} cm masuk ke jalan, mohon pompa dinyalakan",
    "fire": "Ada asap tebal dari bangunan dekat gang {n}",
    "waste": "Sampah menumpuk sudah {n} hari belum diangkut",
    "damaged_road": "Jalan berlubang sedalam {n} cm, berbahaya untuk motor",
    "illegal_parking": "Parkir liar di bahu jalan, {n} mobil menghalangi",
    "crowd_disturbance": "Kerumunan sekitar {n} orang, mengganggu ketertiban",
    "drainage": "Saluran air tersumbat sepanjang {n} meter",
    "street_lighting": "Lampu jalan mati {n} titik",
    "fallen_tree": "Pohon tumbang menutup {n} lajur",
    "traffic": "Lampu lalu lintas rusak, macet {n} menit",
    "noise": "Kebisingan sampai jam {n} malam",
    "public_facility": "Fasilitas taman rusak {n} unit",
    "other": "Mohon ditindaklanjuti, kejadian ke-{n}",
}
PII_SUFFIXES = (
    " Hubungi saya di 0812{d}",
    " WA +62 813{d}",
    " nama saya Budi",
    " NIK 3173{d}{d}",
    " email warga{d}@mail.com",
)
FIRST_NAMES = ("Budi", "Siti", "Agus", "Dewi", "Rudi", "Ayu", "Joko", "Rina", "Andi", "Putri", "Hendra", "Lestari")
LAST_NAMES = ("Santoso", "Wijaya", "Saputra", "Lubis", "Hasibuan", "Nugroho", "Pratama", "Siregar", "Halim", "Kusuma")


@dataclass(frozen=True)
class Kelurahan:
    codes: np.ndarray  # (K,) str
    population: np.ndarray  # (K,) float
    lat: np.ndarray  # (K,) centroid
    lon: np.ndarray
    flood_events: np.ndarray  # (K,) BPBD 2024 flood events


@functools.cache
def kelurahan() -> Kelurahan:
    """Real kelurahan: population (Dukcapil 2019), centroids (boundary polygons), 2024 floods."""
    with (REF / "population" / "jakarta_kelurahan_population_dukcapil_2019.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes = [r["kode_kemendagri"].strip() for r in rows]
    pop = np.array([float(r["jumlah_penduduk"] or 0) for r in rows])
    names = {r["kelurahan"].strip().lower(): r["kode_kemendagri"].strip() for r in rows}
    geo = json.loads((REF / "boundaries" / "jkt_village_boundary.geojson").read_text(encoding="utf-8"))
    cent: dict[str, tuple[float, float]] = {}
    for f in geo["features"]:
        code = str(f["properties"].get("kode_kelurahan") or "")
        g = f["geometry"]
        rings = g["coordinates"] if g["type"] == "Polygon" else [p[0] for p in g["coordinates"]]
        pts = np.array(
            [pt for ring in rings[:1] for pt in ring] if g["type"] == "Polygon" else [pt for r in rings for pt in r]
        )
        if code and len(pts):
            cent[code] = (float(pts[:, 1].mean()), float(pts[:, 0].mean()))
    lat = np.array([cent.get(c, (-6.2, 106.85))[0] for c in codes])
    lon = np.array([cent.get(c, (-6.2, 106.85))[1] for c in codes])
    floods = np.zeros(len(codes))
    with (REF / "flood" / "banjir.csv").open(encoding="utf-8") as fh:
        idx = {c: i for i, c in enumerate(codes)}
        for r in csv.DictReader(fh):
            hit = names.get(r["kelurahan"].strip().lower())
            if hit is not None:
                floods[idx[hit]] += float(r["jumlah_kejadian"] or 0)
    return Kelurahan(np.array(codes), pop, lat, lon, floods)


@functools.cache
def hospitals() -> list[tuple[str, str, int]]:
    """(kode_rs, name, total beds) of DKI Jakarta hospitals in RS Online (Kemenkes)."""
    with (REF / "health" / "rs_online_kemenkes_dki_jakarta.csv").open(encoding="utf-8") as fh:
        return [
            (r["kode_rs"].strip(), r["nama_rs"].strip(), int(float(r["total_tempat_tidur"] or 0)))
            for r in csv.DictReader(fh)
        ]


@functools.cache
def parking_locations() -> list[dict[str, object]]:
    """Real parking locations (Dishub, parkirjakarta.geojson) with capacities and coordinates."""
    geo = json.loads((REF / "parking" / "parkirjakarta.geojson").read_text(encoding="utf-8"))
    out = []
    for f in geo["features"]:
        p = f["properties"]
        out.append(
            {
                "parking_id": f"PRK-{int(p['id']):03d}",
                "name": p["nama_tempat_parkir"],
                "car": int(p.get("kapasitas_mobil") or 0),
                "motorcycle": int(p.get("kapasitas_motor") or 0),
                "bus_truck": int(p.get("kapasitas_bus_truk") or 0),
                "lon": f["geometry"]["coordinates"][0],
                "lat": f["geometry"]["coordinates"][1],
                "kelurahan_code": p.get("kode_kelurahan_pip"),
            }
        )
    return out


def default_rain(seed: int = 0) -> np.ndarray:
    """An afternoon convective storm (mm/h per WIB hour), the typical Jakarta rainy-season pattern."""
    h = np.arange(24)
    return 18.0 * np.exp(-0.5 * ((h - 15.5) / 1.6) ** 2) + 1.0 * np.exp(-0.5 * ((h - 2) / 1.5) ** 2)


@dataclass(frozen=True)
class JakiSimConfig:
    day: date
    usage_events: int = 1_000_000
    complaints: int = 4_000
    health_requests: int = 1_500
    fast_cash: int = 600
    panic_presses: int = 150
    hospital_every_min: int = 60
    parking_every_min: int = 15
    ramadan: bool = False
    holiday: bool = False
    seed: int = 0
    rain_mm: tuple[float, ...] | None = None  # 24 hourly values (WIB); None = default_rain()
    camera_flood: dict[str, float] = field(default_factory=dict)  # kelurahan_code -> max flood score [0,1]
    users_per_event: float = 0.12


def _hour_profile(cfg: JakiSimConfig) -> np.ndarray:
    prof = RAMADAN if cfg.ramadan else HOLIDAY if cfg.holiday else DIURNAL
    scale = 1.0 if cfg.holiday else WEEKDAY_SCALE[cfg.day.weekday()]
    p = prof * scale
    return p / p.sum()


def day_volume_factor(cfg: JakiSimConfig) -> float:
    """Relative daily volume versus a Monday (weekends and holidays are quieter)."""
    return 0.8 if cfg.holiday else float(WEEKDAY_SCALE[cfg.day.weekday()])


def _times(rng: np.random.Generator, day: date, n: int, hour_p: np.ndarray) -> np.ndarray:
    """(n,) datetime64[ms] local WIB times following ``hour_p``."""
    hours = rng.choice(24, size=n, p=hour_p)
    ms = hours.astype(np.int64) * 3_600_000 + rng.integers(0, 3_600_000, size=n)
    return np.datetime64(day.isoformat(), "ms") + ms.astype("timedelta64[ms]")


def _fmt_times(t: np.ndarray | pl.Series, name: str) -> pl.Series:
    s = pl.Series(name, t) if not isinstance(t, pl.Series) else t.alias(name)
    return s.dt.strftime("%Y-%m-%dT%H:%M:%S%.3f") + WIB_OFFSET


def _fmt_opt(t: np.ndarray, mask: np.ndarray, name: str) -> pl.Series:
    """Formatted times where ``mask``, NULL elsewhere."""
    return pl.select(pl.when(pl.Series(mask)).then(_fmt_times(t, name)).alias(name)).to_series()


def _phones(rng: np.random.Generator, n: int, prefix: str = "628") -> np.ndarray:
    return np.char.add(prefix, rng.integers(10**8, 10**9, size=n).astype(str))


def _jitter(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, metres: float = 350.0
) -> tuple[np.ndarray, np.ndarray]:
    d = metres / 111_320.0
    return lat + rng.normal(0, d, len(lat)), lon + rng.normal(0, d / math.cos(math.radians(6.2)), len(lon))


def generate_usage_events(cfg: JakiSimConfig, n: int | None = None) -> pl.DataFrame:
    """Usage-event export rows (raw user ids = phone numbers, as Jaki accounts use)."""
    rng = np.random.default_rng(cfg.seed)
    n = int(cfg.usage_events if n is None else n)
    kel = kelurahan()
    n_users = max(10, int(n * cfg.users_per_event))
    user_kel = rng.choice(len(kel.codes), size=n_users, p=kel.population / kel.population.sum())
    activity = rng.lognormal(0.0, 1.0, size=n_users)
    user_ids = pl.Series("user_id", _phones(rng, n_users).tolist(), dtype=pl.String)
    users = rng.choice(n_users, size=n, p=activity / activity.sum())
    fw = np.array(list(FEATURE_WEIGHTS.values()))
    aw = np.array(list(ACTION_WEIGHTS.values()))
    times = np.sort(_times(rng, cfg.day, n, _hour_profile(cfg)))
    codes = pl.Series("kelurahan_code", kel.codes.tolist(), dtype=pl.String)

    def pick(values: list[str] | tuple[str, ...], p: np.ndarray, name: str) -> pl.Series:
        return pl.Series(name, list(values), dtype=pl.String).gather(rng.choice(len(values), size=n, p=p / p.sum()))

    return pl.DataFrame(
        [
            pl.select(pl.concat_str(pl.lit(f"ev-{cfg.day:%Y%m%d}-"), pl.int_range(n).cast(pl.String).str.zfill(8)))
            .to_series()
            .alias("event_id"),
            _fmt_times(times, "event_time"),
            pick(list(FEATURE_WEIGHTS), fw, "feature"),
            pick(list(ACTION_WEIGHTS), aw, "action"),
            codes.gather(user_kel[users]),
            pick(S.PLATFORMS, np.array([0.72, 0.25, 0.03]), "platform"),
            user_ids.gather(users),
        ]
    )


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.char.add(
        np.char.add(np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)], " "),
        np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)],
    )


def generate_complaints(cfg: JakiSimConfig) -> pl.DataFrame:
    """CRM tickets; flood tickets follow rain and camera flood scores."""
    rng = np.random.default_rng(cfg.seed + 1)
    kel = kelurahan()
    rain = np.asarray(cfg.rain_mm if cfg.rain_mm is not None else default_rain(cfg.seed), dtype=float)
    cats = np.array(list(CATEGORY_WEIGHTS))
    cw = np.array(list(CATEGORY_WEIGHTS.values()))
    n = cfg.complaints
    # flood share grows with the day's rain (a dry day keeps a small baseline)
    flood_boost = 1.0 + rain.sum() / 10.0
    cw = cw.copy()
    cw[0] *= flood_boost
    cat = cats[rng.choice(len(cats), size=n, p=cw / cw.sum())]
    is_flood = cat == "flood"
    base_p = kel.population / kel.population.sum()
    cam = np.array([cfg.camera_flood.get(c, 0.0) for c in kel.codes])
    flood_p = kel.population * (1.0 + kel.flood_events) * (1.0 + 8.0 * cam)
    flood_p = flood_p / flood_p.sum()
    k = np.where(is_flood, rng.choice(len(kel.codes), size=n, p=flood_p), rng.choice(len(kel.codes), size=n, p=base_p))
    hour_p = _hour_profile(cfg)
    rain_p = (rain + 0.05) / (rain + 0.05).sum()
    t_normal = _times(rng, cfg.day, n, hour_p)
    t_flood = _times(rng, cfg.day, n, rain_p)
    created = np.where(is_flood, t_flood, t_normal)
    order = np.argsort(created, kind="stable")
    cat, k, created = cat[order], k[order], created[order]
    med = np.array([RESOLUTION_MEDIAN_H[c] for c in cat])
    res_h = rng.lognormal(np.log(med), 0.8)
    resolved = rng.random(n) < 0.7
    resolved_at = created + (res_h * 3_600_000).astype("timedelta64[ms]")
    status = np.where(
        resolved,
        np.where(rng.random(n) < 0.8, "resolved", "closed"),
        np.where(rng.random(n) < 0.5, "open", "in_progress"),
    )
    lat, lon = _jitter(rng, kel.lat[k], kel.lon[k])
    desc = np.array(
        [DESCRIPTIONS[c].format(n=int(v)) for c, v in zip(cat, rng.integers(2, 90, n), strict=True)], dtype=object
    )
    pii = rng.random(n) < 0.08
    for i in np.flatnonzero(pii):
        desc[i] = desc[i] + PII_SUFFIXES[i % len(PII_SUFFIXES)].format(d=int(rng.integers(1_000_000, 9_999_999)))
    channels = np.array(S.COMPLAINT_CHANNELS)[rng.choice(5, size=n, p=[0.62, 0.12, 0.12, 0.1, 0.04])]
    return pl.DataFrame(
        {
            "ticket_id": [f"CRM-{cfg.day:%Y%m%d}-{i:06d}" for i in range(n)],
            "created_at": _fmt_times(created, "created_at"),
            "category": cat,
            "description": pl.Series(desc.tolist(), dtype=pl.String),
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "kelurahan_code": kel.codes[k],
            "status": status,
            "resolved_at": _fmt_opt(resolved_at, resolved, "resolved_at"),
            "channel": channels,
            "reporter_id": _phones(rng, n),
            "reporter_name": _names(rng, n),
            "reporter_phone": _phones(rng, n, "08"),
        }
    )


def generate_health_requests(cfg: JakiSimConfig) -> pl.DataFrame:
    rng = np.random.default_rng(cfg.seed + 2)
    kel = kelurahan()
    n = cfg.health_requests
    k = rng.choice(len(kel.codes), size=n, p=kel.population / kel.population.sum())
    created = np.sort(_times(rng, cfg.day, n, _hour_profile(cfg)))
    service = np.array(S.HEALTH_SERVICES)[rng.choice(6, size=n, p=[0.12, 0.4, 0.1, 0.2, 0.1, 0.08])]
    done = rng.random(n) < 0.75
    completed = created + (rng.lognormal(np.log(2.0), 0.7, n) * 3_600_000).astype("timedelta64[ms]")
    hosp = np.array([h[0] for h in hospitals()])
    return pl.DataFrame(
        {
            "request_id": [f"JKC-{cfg.day:%Y%m%d}-{i:06d}" for i in range(n)],
            "created_at": _fmt_times(created, "created_at"),
            "service": service,
            "kelurahan_code": kel.codes[k],
            "status": np.where(done, "completed", np.where(rng.random(n) < 0.7, "assigned", "cancelled")),
            "completed_at": _fmt_opt(completed, done, "completed_at"),
            "kode_rs": pl.Series(hosp[rng.integers(0, len(hosp), n)]).zip_with(
                pl.Series(service == "bed_referral"), pl.Series([None] * n, dtype=pl.String)
            ),
            "user_id": _phones(rng, n),
            "patient_name": _names(rng, n),
            "patient_phone": _phones(rng, n, "08"),
        }
    )


def generate_hospital_beds(cfg: JakiSimConfig) -> pl.DataFrame:
    rng = np.random.default_rng(cfg.seed + 3)
    hs = hospitals()
    steps = np.arange(0, 24 * 60, cfg.hospital_every_min)
    types = (("inpatient", 0.78), ("icu", 0.08), ("isolation", 0.06), ("emergency", 0.08))
    rows: dict[str, list[object]] = {
        k: [] for k in ("snapshot_at", "kode_rs", "hospital_name", "bed_type", "capacity", "available")
    }
    t0 = np.datetime64(cfg.day.isoformat(), "ms")
    times = _fmt_times(t0 + (steps * 60_000).astype("timedelta64[ms]"), "t").to_list()
    for kode, name, total in hs:
        for bt, share in types:
            cap = max(1, round(max(total, 10) * share))
            occ = np.clip(
                0.78 + np.cumsum(rng.normal(0, 0.02, len(steps))) + 0.05 * np.sin(steps / 1440 * 2 * np.pi), 0.3, 1.0
            )
            avail = np.clip(np.round(cap * (1 - occ)), 0, cap).astype(int)
            rows["snapshot_at"] += times
            rows["kode_rs"] += [kode] * len(steps)
            rows["hospital_name"] += [name] * len(steps)
            rows["bed_type"] += [bt] * len(steps)
            rows["capacity"] += [cap] * len(steps)
            rows["available"] += avail.tolist()
    return pl.DataFrame(rows, schema_overrides={"capacity": pl.Int64, "available": pl.Int64})


def generate_parking(cfg: JakiSimConfig) -> pl.DataFrame:
    rng = np.random.default_rng(cfg.seed + 4)
    steps = np.arange(0, 24 * 60, cfg.parking_every_min)
    hour = steps / 60.0
    shape = 0.15 + 0.75 * np.exp(-0.5 * ((hour - 11) / 3.5) ** 2) + 0.35 * np.exp(-0.5 * ((hour - 19) / 2) ** 2)
    t0 = np.datetime64(cfg.day.isoformat(), "ms")
    times = _fmt_times(t0 + (steps * 60_000).astype("timedelta64[ms]"), "t").to_list()
    frames = []
    for loc in parking_locations():
        for vt in S.VEHICLE_TYPES:
            cap = int(loc[vt])  # type: ignore[call-overload]
            if cap <= 0:
                continue
            occ = np.clip(
                np.round(cap * np.clip(shape * day_volume_factor(cfg) + rng.normal(0, 0.04, len(steps)), 0, 1)), 0, cap
            )
            frames.append(
                pl.DataFrame(
                    {
                        "snapshot_at": times,
                        "parking_id": [loc["parking_id"]] * len(steps),
                        "vehicle_type": [vt] * len(steps),
                        "capacity": [cap] * len(steps),
                        "occupied": occ.astype(np.int64),
                    }
                )
            )
    return pl.concat(frames)


def generate_panic(cfg: JakiSimConfig) -> pl.DataFrame:
    rng = np.random.default_rng(cfg.seed + 5)
    kel = kelurahan()
    n = cfg.panic_presses
    k = rng.choice(len(kel.codes), size=n, p=kel.population / kel.population.sum())
    night = np.roll(DIURNAL, 6)
    t = np.sort(_times(rng, cfg.day, n, night / night.sum()))
    lat, lon = _jitter(rng, kel.lat[k], kel.lon[k], 500)
    return pl.DataFrame(
        {
            "panic_id": [f"PNC-{cfg.day:%Y%m%d}-{i:05d}" for i in range(n)],
            "pressed_at": _fmt_times(t, "pressed_at"),
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "kelurahan_code": kel.codes[k],
            "kind": np.array(S.PANIC_KINDS)[rng.choice(7, size=n, p=[0.3, 0.2, 0.08, 0.1, 0.2, 0.07, 0.05])],
            "user_id": _phones(rng, n),
            "name": _names(rng, n),
        }
    )


def generate_fast_cash(cfg: JakiSimConfig) -> pl.DataFrame:
    rng = np.random.default_rng(cfg.seed + 6)
    kel = kelurahan()
    n = cfg.fast_cash
    k = rng.choice(len(kel.codes), size=n, p=kel.population / kel.population.sum())
    t = np.sort(_times(rng, cfg.day, n, _hour_profile(cfg)))
    decided = rng.random(n) < 0.5
    dt = t + (rng.lognormal(np.log(6), 0.5, n) * 3_600_000).astype("timedelta64[ms]")
    status = np.where(decided, np.where(rng.random(n) < 0.7, "approved", "rejected"), "submitted")
    return pl.DataFrame(
        {
            "application_id": [f"FC-{cfg.day:%Y%m%d}-{i:05d}" for i in range(n)],
            "submitted_at": _fmt_times(t, "submitted_at"),
            "program": np.array(S.FAST_CASH_PROGRAMS)[rng.integers(0, 4, n)],
            "amount_idr": (rng.integers(5, 500, n) * 100_000).astype(np.int64),
            "kelurahan_code": kel.codes[k],
            "status": status,
            "decided_at": _fmt_opt(dt, decided, "decided_at"),
            "user_id": _phones(rng, n),
            "applicant_name": _names(rng, n),
        }
    )


GENERATORS = {
    "usage_events": generate_usage_events,
    "complaints": generate_complaints,
    "health_requests": generate_health_requests,
    "hospital_beds": generate_hospital_beds,
    "parking_occupancy": generate_parking,
    "panic_button": generate_panic,
    "fast_cash": generate_fast_cash,
}


def generate_day(cfg: JakiSimConfig) -> dict[str, pl.DataFrame]:
    """Every Jaki export for one simulated day (keys = spec names)."""
    return {name: fn(cfg) for name, fn in GENERATORS.items()}  # type: ignore[operator]


# -- export writing and corruption ---------------------------------------------------------------

ExportFormat = Literal["csv", "jsonl", "parquet"]
LINE_KINDS = ("truncated", "wrong_delimiter", "bad_encoding")
FIELD_KINDS = ("bad_timestamp", "out_of_range", "duplicate_id", "unknown_category")


@dataclass
class Corruption:
    """Ground truth of what :func:`corrupt_export` broke: export line number -> kind."""

    lines: dict[int, str] = field(default_factory=dict)

    def count(self, kind: str | None = None) -> int:
        return len(self.lines) if kind is None else sum(1 for k in self.lines.values() if k == kind)


def _applicable(table: str, fmt: ExportFormat) -> list[str]:
    spec = S.SPECS[table]
    kinds: list[str] = []
    if fmt == "csv":
        kinds += list(LINE_KINDS)
    elif fmt == "jsonl":
        kinds += ["truncated", "bad_encoding"]
    kinds += ["bad_timestamp", "duplicate_id"]
    if "lat" in spec.column_names:
        kinds.append("out_of_range")
    if any(c.allowed for c in spec.columns):
        kinds.append("unknown_category")
    return kinds


def to_export_bytes(df: pl.DataFrame, fmt: ExportFormat) -> bytes:
    buf = io.BytesIO()
    if fmt == "csv":
        df.write_csv(buf)
    elif fmt == "jsonl":
        df.write_ndjson(buf)
    else:
        df.write_parquet(buf)
    return buf.getvalue()


def corrupt_export(
    df: pl.DataFrame, table: str, fmt: ExportFormat, share: float, seed: int = 0, kinds: tuple[str, ...] | None = None
) -> tuple[bytes, Corruption]:
    """Write ``df`` as ``fmt`` with ``share`` of its rows broken (one defect per broken row).

    Line numbers follow the readers' convention: data row i is line i + 2 (header/first = 1 for
    CSV; JSONL line i + 1 is reported as i + 1 ... see below). Returns the bytes and ground truth.
    """
    spec = S.SPECS[table]
    rng = np.random.default_rng(seed)
    n = df.height
    allowed = [k for k in (kinds or _applicable(table, fmt)) if k in _applicable(table, fmt)]
    k = round(share * n)
    truth = Corruption()
    if k == 0 or not allowed or n < 3:
        return to_export_bytes(df, fmt), truth
    idx = np.sort(rng.choice(np.arange(1, n), size=min(k, n - 1), replace=False))
    assign = {int(i): allowed[j % len(allowed)] for j, i in enumerate(idx)}
    tcol = spec.time_column
    cat_col = next((c.name for c in spec.columns if c.allowed and c.required), None)
    if fmt == "csv":
        df = df.with_columns(pl.col(c).cast(pl.String) for c in df.columns if df.schema[c] != pl.String)
    is_bad = np.zeros(n, dtype=bool)
    is_bad[idx] = True
    good_before = np.flatnonzero(~is_bad)
    line_level: dict[int, str] = {}
    edits: dict[str, tuple[list[int], list[object]]] = {}

    def edit(col: str, i: int, value: object) -> None:
        rows, vals = edits.setdefault(col, ([], []))
        rows.append(i)
        vals.append(value)

    key_values = {kc: df.get_column(kc) for kc in spec.keys}
    for i, kind in list(assign.items()):
        if kind == "bad_timestamp":
            edit(tcol, i, "2026-02-30T25:61:00+07:00")
        elif kind == "out_of_range":
            edit("lat", i, "12.5" if fmt == "csv" else 12.5)
        elif kind == "unknown_category" and cat_col is not None:
            edit(cat_col, i, "teleportation")
        elif kind == "duplicate_id":
            n_cands = int(np.searchsorted(good_before, i))
            if n_cands == 0:
                edit(tcol, i, "not-a-time")
                assign[i] = "bad_timestamp"
                continue
            j = int(good_before[rng.integers(0, n_cands)])
            for kc in spec.keys:  # same key as an earlier good row
                edit(kc, i, key_values[kc][j])
        else:
            line_level[i] = kind
    out = df.with_columns(
        df.get_column(col).scatter(rows, pl.Series(vals, dtype=df.schema[col])) for col, (rows, vals) in edits.items()
    )
    data = to_export_bytes(out, fmt)
    offset = 2 if fmt in ("csv", "parquet") else 1
    if line_level:
        lines = data.split(b"\n")
        for i, kind in line_level.items():
            li = i + (1 if fmt == "csv" else 0)
            line = lines[li]
            if kind == "truncated":
                cut = line.rfind(b",") if fmt == "csv" else len(line) // 2
                lines[li] = line[: max(cut, 1)]
            elif kind == "wrong_delimiter":
                lines[li] = line.replace(b",", b";")
            elif kind == "bad_encoding":
                pos = line.find(b",") + 2 if fmt == "csv" else line.find(b'"', 1) + 1
                lines[li] = line[:pos] + b"\xe9\xff" + line[pos:]
        data = b"\n".join(lines)
    truth.lines = {i + offset: kind for i, kind in assign.items()}
    return data, truth


def write_day_to_store(
    store: object,
    cfg: JakiSimConfig,
    *,
    formats: dict[str, ExportFormat] | None = None,
    malformed_share: float = 0.0,
    prefix: str = "landing/jaki",
) -> dict[str, tuple[str, Corruption, pl.DataFrame]]:
    """Generate a day and drop each export into the landing zone; returns key, ground truth, rows."""
    formats = formats or {
        "usage_events": "parquet",
        "complaints": "csv",
        "health_requests": "jsonl",
        "hospital_beds": "csv",
        "parking_occupancy": "parquet",
        "panic_button": "jsonl",
        "fast_cash": "csv",
    }
    out: dict[str, tuple[str, Corruption, pl.DataFrame]] = {}
    for name, df in generate_day(cfg).items():
        fmt = formats.get(name, "csv")
        data, truth = corrupt_export(df, name, fmt, malformed_share, seed=cfg.seed)
        ext = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}[fmt]
        key = f"{prefix}/{name}/dt={cfg.day.isoformat()}/jaki-{name}-{cfg.day:%Y%m%d}.{ext}"
        store.put_bytes(key, data)  # type: ignore[attr-defined]
        out[name] = (key, truth, df)
    return out


def days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def wib_midnight_utc(day: date) -> datetime:
    from datetime import UTC

    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=7)

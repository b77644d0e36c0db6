"""Crafted lake content for the dashboard tests and the dashboard benchmark.

Tables are created here only when the migrations have not created them (``CREATE TABLE IF NOT EXISTS``
with the migrations' columns); rows are inserted by name, so the same data fits the real migrations.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from warehouse.lake import Lake

CONTRACT_TABLES = {
    "frames": "camera_id VARCHAR, captured_at TIMESTAMPTZ, batch_id VARCHAR, seq BIGINT, keyframe_uri VARCHAR, "
    "public_uri VARCHAR, width INTEGER, height INTEGER, status VARCHAR, decode_ms DOUBLE, fetch_ms DOUBLE, "
    "worker_id VARCHAR",
    "frame_scores": "camera_id VARCHAR, captured_at TIMESTAMPTZ, batch_id VARCHAR, fire DOUBLE, smoke DOUBLE, "
    "flood DOUBLE, flood_depth_class INTEGER, persons DOUBLE, crowd_density DOUBLE, crowd_level VARCHAR, "
    "crowd DOUBLE, motion DOUBLE, health VARCHAR, risk_level VARCHAR, risk_hazard VARCHAR, model_version VARCHAR, "
    "features VARCHAR",
    "camera_events": "camera_id VARCHAR, window_start TIMESTAMPTZ, window_end TIMESTAMPTZ, frames_ok INTEGER, "
    "frames_failed INTEGER, persons_max DOUBLE, persons_mean DOUBLE, motion_events INTEGER, fire_frames INTEGER, "
    "smoke_frames INTEGER, flood_frames INTEGER, uptime DOUBLE",
    "camera_health_transitions": 'camera_id VARCHAR, "at" TIMESTAMPTZ, from_status VARCHAR, to_status VARCHAR, '
    "reason VARCHAR",
    "landed_batches": "batch_id VARCHAR, key VARCHAR, camera_count INTEGER, rows BIGINT, landed_at TIMESTAMPTZ, "
    "ingested_at TIMESTAMPTZ",
    "risk_hourly_camera": "hour TIMESTAMPTZ, camera_id VARCHAR, kelurahan_code VARCHAR, frames BIGINT, "
    "fire_max DOUBLE, smoke_max DOUBLE, flood_max DOUBLE, crowd_max DOUBLE, persons_max DOUBLE, "
    "persons_mean DOUBLE, risk_level_max VARCHAR, uptime DOUBLE",
    "risk_hourly_kelurahan": "hour TIMESTAMPTZ, kelurahan_code VARCHAR, cameras BIGINT, fire_max DOUBLE, "
    "smoke_max DOUBLE, flood_max DOUBLE, crowd_max DOUBLE, persons_max DOUBLE, risk_level_max VARCHAR",
    "camera_uptime_daily": "day DATE, camera_id VARCHAR, samples BIGINT, ok BIGINT, uptime DOUBLE, offline BIGINT, "
    "frozen BIGINT, tampered BIGINT",
    "alerts": "alert_id VARCHAR, version INTEGER, camera_id VARCHAR, kelurahan_code VARCHAR, hazard VARCHAR, "
    "level VARCHAR, status VARCHAR, reason VARCHAR, evidence VARCHAR, opened_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, "
    "cap_xml_uri VARCHAR",
    "alert_deliveries": "delivery_id VARCHAR, alert_id VARCHAR, version INTEGER, subscriber_id VARCHAR, "
    "channel VARCHAR, idempotency_key VARCHAR, state VARCHAR, attempts INTEGER, last_error VARCHAR, "
    "next_attempt_at TIMESTAMPTZ, sent_at TIMESTAMPTZ",
    "subscriptions": "subscription_id VARCHAR, name VARCHAR, kind VARCHAR, hazard VARCHAR, area_type VARCHAR, "
    "area_code VARCHAR, lat DOUBLE, lon DOUBLE, radius_m DOUBLE, min_level VARCHAR, channel VARCHAR, "
    "target VARCHAR, active BOOLEAN, created_at TIMESTAMPTZ",
    "jaki_daily_usage": "day DATE, feature VARCHAR, kelurahan_code VARCHAR, events BIGINT, users BIGINT",
    "jaki_complaints_summary": "grain VARCHAR, category VARCHAR, kecamatan VARCHAR, day DATE, complaints BIGINT, resolved BIGINT, "
    "median_resolution_h DOUBLE, p90_resolution_h DOUBLE",
    "jaki_parking_hourly": "parking_id VARCHAR, hour TIMESTAMPTZ, occupancy DOUBLE",
    "jaki_panic_hourly": "kelurahan_code VARCHAR, hour TIMESTAMPTZ, presses BIGINT",
    "jaki_hospital_beds_daily": "day DATE, hospital_name VARCHAR, bed_type VARCHAR, capacity BIGINT, available_last BIGINT",
    "jaki_quarantine": "table_name VARCHAR, source_file VARCHAR, line BIGINT, column_name VARCHAR, value VARCHAR, "
    "reason VARCHAR, quarantined_at TIMESTAMPTZ",
    "coverage_kelurahan": "kode_kelurahan VARCHAR, layer VARCHAR, demand DOUBLE, covered DOUBLE, covered_share DOUBLE, "
    "run_id VARCHAR",
    # written by orchestration/check_results.py (the dashboards need the first seven columns)
    "asset_check_results": "check_name VARCHAR, asset_key VARCHAR, passed BOOLEAN, severity VARCHAR, "
    "description VARCHAR, metadata_json VARCHAR, evaluated_at TIMESTAMPTZ, run_id VARCHAR, job_name VARCHAR, "
    "blocking BOOLEAN, partition_key VARCHAR",
    "placement_candidates": "rank INTEGER, site_id VARCHAR, lat DOUBLE, lon DOUBLE, kode_kelurahan VARCHAR, "
    "cell_id VARCHAR, gain_total DOUBLE, gain_flood_2024 DOUBLE, gain_fire_2024 DOUBLE, reason VARCHAR, reason_en VARCHAR, "
    "method VARCHAR, "
    "budget INTEGER, radius_m DOUBLE, run_id VARCHAR",
}

# Three kelurahan as small squares in central Jakarta: code, name, kecamatan, lon0, lat0.
KELURAHAN = [
    ("31.71.01.1001", "Gambir", "Gambir", 106.81, -6.18),
    ("31.71.01.1002", "Cideng", "Gambir", 106.80, -6.17),
    ("31.74.01.1001", "Kampung Melayu", "Jatinegara", 106.86, -6.22),
]
# Camera id, name, kelurahan index.
CAMERAS = [
    ("CAM-0001", "Bundaran HI", 0),
    ("CAM-0002", "Monas Barat", 0),
    ("CAM-0003", "Cideng Timur", 1),
    ("CAM-0004", "Kali Ciliwung", 2),
    ("CAM-0005", "Jatinegara Pasar", 2),
]
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def ensure_tables(lake: Lake) -> None:
    def _do(cur: object) -> None:
        for name, cols in CONTRACT_TABLES.items():
            cur.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")  # type: ignore[attr-defined]

    lake.write(_do)


def _square(lon: float, lat: float, d: float = 0.01) -> str:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _jpeg(path: Path) -> None:
    import cv2

    img = np.zeros((120, 200, 3), np.uint8)
    img[:, :, 1] = np.linspace(40, 200, 200, dtype=np.uint8)[None, :]
    cv2.putText(img, "CAM-0004", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    path.write_bytes(buf.tobytes())


# (asset key, check name, severity, description) of the crafted asset checks; the last one fails now.
ASSET_CHECKS = [
    ("cameras", "cameras_have_kelurahan", "ERROR", "Every camera inside Jakarta has a kelurahan."),
    ("kelurahan", "kelurahan_codes_unique", "ERROR", "Kelurahan codes are unique Kemendagri codes."),
    ("risk_hourly_camera", "risk_levels_valid", "WARN", "Risk levels are Normal, Waspada, Siaga or Awas."),
]


def asset_check_rows(days: int = 3) -> list[dict[str, object]]:
    """One evaluation per check per day; the newest evaluation of the last check fails."""
    rows: list[dict[str, object]] = []
    for d in range(days):
        for i, (asset, check, severity, desc) in enumerate(ASSET_CHECKS):
            failed = d == 0 and i == len(ASSET_CHECKS) - 1
            rows.append(
                {
                    "check_name": check,
                    "asset_key": asset,
                    "passed": not failed,
                    "severity": severity,
                    "description": desc,
                    "metadata_json": json.dumps({"invalid_rows": 7 if failed else 0}),
                    "evaluated_at": NOW - timedelta(days=d, minutes=10 * (i + 1)),
                }
            )
    return rows


def populate(lake: Lake, data_dir: Path) -> None:
    """Small but complete content: every dashboard section has something to show."""
    ensure_tables(lake)
    lake.append("asset_check_results", asset_check_rows())
    lake.append(
        "kelurahan",
        [
            {
                "kode_kelurahan": code,
                "nama_kelurahan": name,
                "kode_kecamatan": code[:8],
                "nama_kecamatan": kec,
                "kode_kota": code[:5],
                "nama_kota": "Jakarta Pusat" if code.startswith("31.71") else "Jakarta Timur",
                "population": 20000 + i * 5000,
                "households": 6000 + i * 1000,
                "area_km2": 1.2,
                "density_per_km2": (20000 + i * 5000) / 1.2,
                "centroid_lat": lat + 0.005,
                "centroid_lon": lon + 0.005,
                "geometry": _square(lon, lat),
            }
            for i, (code, name, kec, lon, lat) in enumerate(KELURAHAN)
        ],
    )
    lake.append(
        "cameras",
        [
            {
                "camera_id": cid,
                "name": name,
                "operator": "Dishub",
                "lat": KELURAHAN[k][4] + 0.003 + 0.001 * i,
                "lon": KELURAHAN[k][3] + 0.003,
                "kelurahan_code": KELURAHAN[k][0],
                "kelurahan": KELURAHAN[k][1],
                "kecamatan": KELURAHAN[k][2],
                "kota": "Jakarta",
                "active": True,
                "view_radius_m": 60.0,
            }
            for i, (cid, name, k) in enumerate(CAMERAS)
        ],
    )
    keyframe = data_dir / "store" / "public" / "keyframes" / "CAM-0004" / "20261127T075500.jpg"
    _jpeg(keyframe)
    frames, scores = [], []
    for i in range(36):  # 3 hours every 5 minutes
        ts = NOW - timedelta(minutes=5 * (35 - i))
        for cid, _, k in CAMERAS:
            status = "frozen" if cid == "CAM-0003" and i > 30 else "ok"
            flood = 0.85 if cid == "CAM-0004" and i >= 24 else 0.05
            level = "Siaga" if flood > 0.5 else "Normal"
            frames.append(
                {
                    "camera_id": cid,
                    "captured_at": ts,
                    "batch_id": f"b{i:03d}",
                    "seq": i,
                    "public_uri": str(keyframe) if cid == "CAM-0004" and i == 35 else None,
                    "width": 200,
                    "height": 120,
                    "status": status,
                    "decode_ms": 12.0,
                }
            )
            scores.append(
                {
                    "camera_id": cid,
                    "captured_at": ts,
                    "batch_id": f"b{i:03d}",
                    "fire": 0.02,
                    "smoke": 0.03,
                    "flood": flood,
                    "flood_depth_class": 2 if flood > 0.5 else None,
                    "persons": 4.0 + k,
                    "crowd": 0.1,
                    "crowd_level": "A",
                    "motion": 0.2,
                    "health": status,
                    "risk_level": level,
                    "risk_hazard": "flood" if flood > 0.5 else None,
                    "model_version": "test-1",
                    "features": json.dumps({"water_ratio": flood, "brown_ratio": 0.4}),
                }
            )
    lake.append("frames", pa.Table.from_pylist(frames))
    lake.append("frame_scores", pa.Table.from_pylist(scores))
    lake.append(
        "camera_events",
        [
            {
                "camera_id": "CAM-0004",
                "window_start": NOW - timedelta(minutes=5 * (j + 1)),
                "window_end": NOW - timedelta(minutes=5 * j),
                "frames_ok": 5,
                "frames_failed": 0,
                "persons_max": 8.0,
                "persons_mean": 5.0 + j % 3,
                "vehicles_max": 14.0,
                "vehicles_mean": 9.5 + j % 2,
                "cars_mean": 3.0 + j % 2,
                "motorcycles_mean": 6.0,
                "buses_trucks_mean": 0.5,
                "motion_events": 1,
                "fire_frames": 0,
                "smoke_frames": 0,
                "flood_frames": 5 if j < 12 else 0,
                "uptime": 1.0,
            }
            for j in range(24)
        ],
    )
    lake.append(
        "camera_health_transitions",
        [
            {
                "camera_id": "CAM-0003",
                "at": NOW - timedelta(minutes=20),
                "from_status": "ok",
                "to_status": "frozen",
                "reason": "identical frames for 4 min",
            }
        ],
    )
    lake.append(
        "landed_batches",
        [
            {
                "batch_id": f"b{i:03d}",
                "key": f"landing/frames/dt=2026-11-27/w1-b{i:03d}.parquet",
                "camera_count": 5,
                "rows": 5,
                "landed_at": NOW - timedelta(minutes=5 * (35 - i)),
                "ingested_at": NOW - timedelta(minutes=5 * (35 - i) - 1),
            }
            for i in range(36)
        ],
    )
    hours = [NOW - timedelta(hours=h) for h in range(48, 0, -1)]
    lake.append(
        "risk_hourly_camera",
        pa.Table.from_pylist(
            [
                {
                    "hour": h,
                    "camera_id": cid,
                    "kelurahan_code": KELURAHAN[k][0],
                    "frames": 12,
                    "fire_max": 0.02,
                    "smoke_max": 0.04,
                    "flood_max": 0.85 if cid == "CAM-0004" and h > NOW - timedelta(hours=2) else 0.1,
                    "crowd_max": 0.2,
                    "persons_max": 10.0,
                    "persons_mean": 5.0,
                    "risk_level_max": "Siaga" if cid == "CAM-0004" and h > NOW - timedelta(hours=2) else "Normal",
                    "uptime": 0.9,
                }
                for h in hours
                for cid, _, k in CAMERAS
            ]
        ),
    )
    lake.append(
        "risk_hourly_kelurahan",
        [
            {
                "hour": h,
                "kelurahan_code": code,
                "cameras": 2,
                "fire_max": 0.02,
                "smoke_max": 0.04,
                "flood_max": 0.85 if i == 2 and h > NOW - timedelta(hours=2) else 0.1,
                "crowd_max": 0.2,
                "persons_max": 10.0,
                "risk_level_max": "Siaga" if i == 2 and h > NOW - timedelta(hours=2) else "Normal",
            }
            for h in hours
            for i, (code, *_rest) in enumerate(KELURAHAN)
        ],
    )
    lake.append(
        "camera_uptime_daily",
        [
            {
                "day": (NOW - timedelta(days=d)).date(),
                "camera_id": cid,
                "samples": 288,
                "ok": 270,
                "uptime": 270 / 288,
                "offline": 10,
                "frozen": 8,
                "tampered": 0,
            }
            for d in range(7)
            for cid, _, _ in CAMERAS
        ],
    )
    cap = data_dir / "store" / "alerts" / "cap" / "A-1-v1.xml"
    cap.parent.mkdir(parents=True, exist_ok=True)
    cap.write_text(
        '<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>A-1</identifier></alert>'
    )
    lake.append(
        "alerts",
        [
            {
                "alert_id": "A-1",
                "version": 1,
                "camera_id": "CAM-0004",
                "kelurahan_code": KELURAHAN[2][0],
                "hazard": "flood",
                "level": "Siaga",
                "status": "open",
                "reason": "flood 0.85 for 60 min",
                "evidence": json.dumps({"flood": 0.85}),
                "opened_at": NOW - timedelta(hours=1),
                "updated_at": NOW - timedelta(hours=1),
                "cap_xml_uri": str(cap),
            },
            {
                "alert_id": "A-0",
                "version": 1,
                "camera_id": "CAM-0001",
                "kelurahan_code": KELURAHAN[0][0],
                "hazard": "crowd",
                "level": "Waspada",
                "status": "open",
                "reason": "crowd",
                "evidence": "{}",
                "opened_at": NOW - timedelta(days=1),
                "updated_at": NOW - timedelta(days=1),
                "cap_xml_uri": None,
            },
            {
                "alert_id": "A-0",
                "version": 2,
                "camera_id": "CAM-0001",
                "kelurahan_code": KELURAHAN[0][0],
                "hazard": "crowd",
                "level": "Waspada",
                "status": "resolved",
                "reason": "crowd cleared",
                "evidence": "{}",
                "opened_at": NOW - timedelta(days=1),
                "updated_at": NOW - timedelta(hours=20),
                "cap_xml_uri": None,
            },
        ],
    )
    lake.append(
        "alert_deliveries",
        [
            {
                "delivery_id": f"D-{i}",
                "alert_id": "A-1",
                "version": 1,
                "subscriber_id": f"S-{i}",
                "channel": ch,
                "idempotency_key": f"A-1:1:S-{i}",
                "state": st,
                "attempts": 1 if st == "sent" else 3,
                "last_error": None if st == "sent" else "timeout",
                "next_attempt_at": None,
                "sent_at": NOW - timedelta(minutes=55) if st == "sent" else None,
            }
            for i, (ch, st) in enumerate([("email", "sent"), ("webhook", "failed"), ("mqtt", "sent")])
        ],
    )
    lake.append(
        "subscriptions",
        [
            {
                "subscription_id": "S-0",
                "name": "BPBD DKI",
                "kind": "agency",
                "hazard": "flood",
                "min_level": "Waspada",
                "channel": "email",
                "target": "pusdatin@bpbd.example",
                "active": True,
                "created_at": NOW - timedelta(days=30),
            },
            {
                "subscription_id": "S-1",
                "name": "Lurah Kampung Melayu",
                "kind": "area",
                "hazard": None,
                "area_type": "kelurahan",
                "area_code": KELURAHAN[2][0],
                "min_level": "Siaga",
                "channel": "webhook",
                "target": "https://hooks.example/kml",
                "active": True,
                "created_at": NOW - timedelta(days=3),
            },
        ],
    )
    days = [(NOW - timedelta(days=d)).date() for d in range(14, 0, -1)]
    lake.append(
        "jaki_daily_usage",
        [
            {"day": d, "feature": f, "kelurahan_code": code, "events": 50 + 10 * j + i, "users": 20 + j}
            for i, d in enumerate(days)
            for j, f in enumerate(["complaint", "panic_button", "parking", "health"])
            for code, *_ in KELURAHAN
        ],
    )
    lake.append(
        "jaki_complaints_summary",
        [
            {
                "grain": "day",
                "category": c,
                "kecamatan": kec,
                "day": days[-1],
                "complaints": 40 + j,
                "resolved": 30 + j,
                "median_resolution_h": 12.0 + j,
                "p90_resolution_h": 48.0,
            }
            for j, c in enumerate(["banjir", "sampah", "jalan rusak"])
            for kec in ("Gambir", "Jatinegara")
        ],
    )
    lake.append(
        "parking_locations",
        [
            {
                "parking_id": "P-1",
                "name": "IRTI Monas",
                "kind": "off-street",
                "capacity_car": 300,
                "lat": -6.175,
                "lon": 106.82,
                "kode_kelurahan": KELURAHAN[0][0],
            }
        ],
    )
    lake.append(
        "jaki_parking_hourly",
        [
            {"parking_id": "P-1", "hour": NOW - timedelta(hours=h), "occupancy": 0.3 + 0.02 * (h % 24)}
            for h in range(48)
        ],
    )
    lake.append(
        "jaki_panic_hourly",
        [
            {"kelurahan_code": KELURAHAN[h % 3][0], "hour": NOW - timedelta(hours=h), "presses": h % 4}
            for h in range(72)
        ],
    )
    lake.append(
        "jaki_hospital_beds_daily",
        [
            {"day": d, "hospital_name": hname, "bed_type": "ICU", "capacity": 20, "available_last": 5 + i % 5}
            for i, d in enumerate(days)
            for hname in ("RSUD Tarakan", "RSCM")
        ],
    )
    lake.append(
        "jaki_quarantine",
        [
            {
                "table_name": "jaki_complaints",
                "source_file": "complaints_2026-11-26.csv",
                "line": 10 + i,
                "column_name": "kelurahan_code",
                "value": "99.99",
                "reason": "unknown kelurahan code",
                "quarantined_at": NOW - timedelta(hours=3),
            }
            for i in range(4)
        ]
        + [
            {
                "table_name": "jaki_usage_events",
                "source_file": "usage.jsonl",
                "line": 3,
                "column_name": "event_time",
                "value": "yesterday",
                "reason": "unparseable timestamp",
                "quarantined_at": NOW - timedelta(hours=2),
            }
        ],
    )
    lake.append(
        "coverage_kelurahan",
        [
            {
                "kode_kelurahan": code,
                "layer": layer,
                "demand": 100.0,
                "covered": 100.0 * share,
                "covered_share": share,
                "run_id": "cov-1",
            }
            for i, (code, *_) in enumerate(KELURAHAN)
            for layer, share in (("flood", 0.2 + 0.3 * i), ("fire", 0.5), ("population", 0.4))
        ],
    )
    lake.append(
        "placement_candidates",
        [
            {
                "rank": r + 1,
                "site_id": f"site-{r}",
                "lat": -6.215 + 0.002 * r,
                "lon": 106.865,
                "kode_kelurahan": KELURAHAN[2][0],
                "cell_id": f"c{r}",
                "gain_total": 10.0 - r,
                "gain_flood_2024": 6.0 - r / 2,
                "gain_fire_2024": 4.0 - r / 2,
                "reason": "risiko banjir tak terpantau",
                "reason_en": "uncovered flood risk",
                "method": "greedy",
                "budget": 3,
                "radius_m": 150.0,
                "run_id": "run-2026-11-27",
            }
            for r in range(3)
        ],
    )
    lake.append(
        "flood_events_2024",
        [
            {
                "kode_kelurahan": KELURAHAN[2][0],
                "kelurahan": "Kampung Melayu",
                "quarter": 1,
                "month": m,
                "events": 2,
                "water_max_cm": 120.0,
                "people_affected": 300,
            }
            for m in (1, 2, 3)
        ],
    )
    lake.append("fire_incidents_2024", [{"kode_kelurahan": KELURAHAN[0][0], "incidents": 7}])
    lake.append(
        "facilities",
        [
            {
                "facility_id": "public_space-rptra-1",
                "kind": "public_space",
                "subtype": "RPTRA",
                "name": "RPTRA Kenanga",
                "lat": -6.167,
                "lon": 106.807,
                "kode_kelurahan": KELURAHAN[1][0],
            },
            {
                "facility_id": "public_space-rptra-2",
                "kind": "public_space",
                "subtype": "RPTRA",
                "name": "RPTRA Borobudur",
                "lat": -6.2,
                "lon": 106.848,
                "kode_kelurahan": KELURAHAN[0][0],
            },
            {
                "facility_id": "hospital-1",
                "kind": "hospital",
                "subtype": None,
                "name": "RS",
                "lat": -6.18,
                "lon": 106.82,
                "kode_kelurahan": KELURAHAN[0][0],
            },
        ],
    )
    lake.append(
        "reference_issues",
        [
            {
                "source_file": "jakarta_cctv_map_sites.csv",
                "row_number": 12,
                "field": "lat",
                "value": "0",
                "reason": "outside Jakarta",
                "action": "dropped",
                "loaded_at": NOW,
            }
        ],
    )
    rel = data_dir / "store" / "releases" / "2026.11.27"
    rel.mkdir(parents=True, exist_ok=True)
    (rel / "risk_hourly_kelurahan.csv").write_text(
        "hour,kelurahan_code,risk_level_max\n2026-11-27T07:00:00Z,31.74.01.1001,Siaga\n"
    )
    (rel / "datapackage.json").write_text(
        json.dumps(
            {
                "name": "pantau-jakarta",
                "title": "Pantau Jakarta open data",
                "version": "2026.11.27",
                "created": NOW.isoformat(),
                "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
                "resources": [
                    {
                        "name": "risk_hourly_kelurahan",
                        "path": "risk_hourly_kelurahan.csv",
                        "format": "csv",
                        "description": "Hourly risk per kelurahan",
                        "hash": "sha256:abc",
                        "bytes": 80,
                    }
                ],
            }
        )
    )


# Jakarta's 269 kelurahan boundaries (Dukcapil 2019, in the repository): the benchmark draws real
# polygons (~55,000 vertices), not squares, so the map payload and draw cost are the city's.
KELURAHAN_GEOJSON = (
    Path(__file__).resolve().parents[2] / "ingest/reference/data/population/dukcapil_2019_kelurahan.geojson"
)


def _bench_kelurahan(rng: np.random.Generator) -> tuple[list[dict[str, object]], list[object]]:
    """Kelurahan rows and their shapely polygons: the real boundaries, else a grid of squares."""
    from shapely.geometry import box, shape

    if KELURAHAN_GEOJSON.is_file():
        feats = json.loads(KELURAHAN_GEOJSON.read_text())["features"]
        rows, polys = [], []
        for i, f in enumerate(feats):
            props, geom = f["properties"], shape(f["geometry"])
            rows.append(
                {
                    "kode_kelurahan": str(props.get("kode_kemendagri") or f"31.7{1 + i % 5}.{i // 50:02d}.{1000 + i}"),
                    "nama_kelurahan": str(props.get("kelurahan") or f"Kelurahan {i}"),
                    "nama_kecamatan": str(props.get("kecamatan") or f"Kecamatan {i // 10}"),
                    "nama_kota": str(props.get("kab_kota") or "Jakarta"),
                    "population": int(props.get("jumlah_penduduk") or rng.integers(5_000, 80_000)),
                    "centroid_lat": float(geom.centroid.y),
                    "centroid_lon": float(geom.centroid.x),
                    "geometry": json.dumps(f["geometry"]),
                }
            )
            polys.append(geom)
        return rows, polys
    rows, polys = [], []
    for i in range(267):
        lon, lat = 106.70 + 0.26 * (i % 17) / 17, -6.35 + 0.25 * (i // 17) / 16
        rows.append(
            {
                "kode_kelurahan": f"31.7{1 + i % 5}.{i // 50:02d}.{1000 + i}",
                "nama_kelurahan": f"Kelurahan {i}",
                "nama_kecamatan": f"Kecamatan {i // 10}",
                "nama_kota": "Jakarta",
                "population": int(rng.integers(5_000, 80_000)),
                "centroid_lat": lat + 0.0075,
                "centroid_lon": lon + 0.0075,
                "geometry": _square(lon, lat, 0.015),
            }
        )
        polys.append(box(lon, lat, lon + 0.015, lat + 0.015))
    return rows, polys


def _point_in(poly: object, rng: np.random.Generator) -> tuple[float, float]:
    import shapely

    x0, y0, x1, y1 = poly.bounds  # type: ignore[attr-defined]
    for _ in range(200):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(poly, x, y):
            return float(x), float(y)
    c = poly.representative_point()  # type: ignore[attr-defined]
    return float(c.x), float(c.y)


def populate_bench(lake: Lake, n_cameras: int = 1300, days: int = 30, seed: int = 7) -> None:
    """30 days of hourly marts for ``n_cameras`` cameras inside Jakarta's real kelurahan (for bench/)."""
    ensure_tables(lake)
    rng = np.random.default_rng(seed)
    kel_rows, polys = _bench_kelurahan(rng)
    n_kel = len(kel_rows)
    kel_codes = [str(r["kode_kelurahan"]) for r in kel_rows]
    lake.append("kelurahan", kel_rows)
    cam_kel = rng.integers(0, n_kel, n_cameras)
    cam_xy = np.array([_point_in(polys[k], rng) for k in cam_kel])
    cam_ids = [f"CAM-{i:05d}" for i in range(n_cameras)]
    lake.append(
        "cameras",
        pa.table(
            {
                "camera_id": cam_ids,
                "name": [f"Kamera {i}" for i in range(n_cameras)],
                "operator": ["Dishub"] * n_cameras,
                "lat": cam_xy[:, 1],
                "lon": cam_xy[:, 0],
                "kelurahan_code": [kel_codes[k] for k in cam_kel],
                "kelurahan": [kel_rows[k]["nama_kelurahan"] for k in cam_kel],
                "kecamatan": [kel_rows[k]["nama_kecamatan"] for k in cam_kel],
                "kota": [kel_rows[k]["nama_kota"] for k in cam_kel],
                "active": [True] * n_cameras,
            }
        ),
    )
    end = NOW.replace(minute=0)
    hours = np.array(
        [(end - timedelta(hours=h)).replace(tzinfo=None) for h in range(days * 24, 0, -1)], dtype="datetime64[us]"
    )
    levels = np.array(["Normal", "Waspada", "Siaga", "Awas"])
    for chunk in np.array_split(np.arange(n_cameras), 10):
        n = len(chunk) * len(hours)
        flood = rng.beta(1, 12, n)
        lake.append(
            "risk_hourly_camera",
            pa.table(
                {
                    "hour": pa.array(np.repeat(hours[None, :], len(chunk), 0).ravel(), pa.timestamp("us", tz="UTC")),
                    "camera_id": np.repeat(np.array(cam_ids)[chunk], len(hours)),
                    "kelurahan_code": np.repeat(np.array(kel_codes)[cam_kel[chunk]], len(hours)),
                    "frames": np.full(n, 360),
                    "fire_max": rng.beta(1, 30, n),
                    "smoke_max": rng.beta(1, 20, n),
                    "flood_max": flood,
                    "crowd_max": rng.beta(2, 8, n),
                    "persons_max": rng.uniform(0, 60, n),
                    "persons_mean": rng.uniform(0, 20, n),
                    "risk_level_max": levels[np.digitize(flood, [0.5, 0.7, 0.9])],
                    "uptime": rng.uniform(0.8, 1.0, n),
                }
            ),
        )
    n = n_kel * len(hours)
    flood = rng.beta(1, 12, n)
    lake.append(
        "risk_hourly_kelurahan",
        pa.table(
            {
                "hour": pa.array(np.repeat(hours[None, :], n_kel, 0).ravel(), pa.timestamp("us", tz="UTC")),
                "kelurahan_code": np.repeat(np.array(kel_codes), len(hours)),
                "cameras": np.full(n, 5),
                "fire_max": rng.beta(1, 30, n),
                "smoke_max": rng.beta(1, 20, n),
                "flood_max": flood,
                "crowd_max": rng.beta(2, 8, n),
                "persons_max": rng.uniform(0, 60, n),
                "risk_level_max": levels[np.digitize(flood, [0.5, 0.7, 0.9])],
            }
        ),
    )


# -- alerts made by the alerts package itself (acknowledgement tests) ----------------------
# camera index, hazard, level, reason: opened in this order, listed Awas first
ACK_ALERTS = (
    (3, "flood", "Siaga", "flood 0.85 for 15 min"),
    (0, "fire", "Awas", "fire 0.93 for 3 min"),
)


def lurah_subscription(area_code: str) -> Any:
    """The area subscription the tests use: a lurah's e-mail for Siaga and above in one kelurahan."""
    from alerts.subscriptions import SubscriptionSpec

    return SubscriptionSpec(
        name="Lurah Kampung Melayu",
        channel="email",
        target="lurah@kampungmelayu.example",
        area_type="kelurahan",
        area_code=area_code,
        min_level="Siaga",
    )


def open_alerts(ops_url: str, lake: Lake, data_dir: Path) -> list[str]:
    """Open ``ACK_ALERTS`` through the alerts lifecycle, export them to the lake, publish their CAP files.

    Returns the alert ids in ``ACK_ALERTS`` order. Each alert is active in the operational DB at
    ``ops_url`` and in the lake's ``alerts`` table, as the alerts sensor and export job leave them.
    """
    from alerts.db import OpsDB
    from alerts.export import export_alerts_to_lake, publish_cap_and_feed
    from alerts.lifecycle import AlertLifecycle
    from alerts.models import CameraInfo, Decision, Level, utcnow
    from alerts.subscriptions import add_subscription
    from warehouse.object_store import LocalObjectStore

    ops = OpsDB(ops_url)
    ids: list[str] = []
    try:
        add_subscription(ops, lurah_subscription(KELURAHAN[2][0]))
        lifecycle = AlertLifecycle(ops)
        for n, (k, hazard, level, reason) in enumerate(ACK_ALERTS):
            cid, name, kel_i = CAMERAS[k]
            code, kel, kec, lon, lat = KELURAHAN[kel_i]
            camera = CameraInfo(cid, name, lat + 0.005, lon + 0.005, code, kel, code[:8], kec, code[:5])
            at = utcnow() - timedelta(minutes=30 - 10 * n)
            decision = Decision(cid, hazard, "open", Level.parse(level), at, reason, {hazard: 0.9})
            opened = lifecycle.apply(decision, camera)
            assert opened is not None and opened.status == "open"
            ids.append(opened.alert_id)
        export_alerts_to_lake(ops, lake)
        publish_cap_and_feed(ops, LocalObjectStore(data_dir / "store"))
    finally:
        ops.dispose()
    return ids


# local accounts the dashboard tests sign in with: one per role, named after it (argon2id hashes in ops.sqlite)
TEST_PASSWORD = "test-password-only"
TEST_USERS = ("analyst", "operator", "admin")


def add_test_users(root: Path) -> None:
    """``<root>/ops.sqlite`` (created when missing) with one account per role in :data:`TEST_USERS`."""
    from access.accounts import add_user, get_user
    from access.roles import SYSTEM
    from alerts.db import OpsDB, sqlite_url

    ops = OpsDB(sqlite_url(str(root)))
    try:
        for name in TEST_USERS:
            if get_user(ops, name) is None:
                add_user(ops, name, TEST_PASSWORD, name, by=SYSTEM)
    finally:
        ops.dispose()


def build_alerts_data_dir(root: Path) -> list[str]:
    """A migrated lake in ``root`` with ``<root>/ops.sqlite`` holding ``ACK_ALERTS`` (see :func:`open_alerts`)
    and the test accounts (:func:`add_test_users`)."""
    from alerts.db import sqlite_url
    from warehouse.lake import LakeConfig
    from warehouse.migrations import migrate

    lake = Lake(LakeConfig(root=root))
    try:
        migrate(lake)
        ids = open_alerts(sqlite_url(str(root)), lake, root)
    finally:
        lake.close()
    add_test_users(root)
    return ids


def copy_data_dir(src: Path, dst: Path) -> Path:
    """Copy a data folder (lake, store, ops DB) and point the copied lake catalog at the copied files."""
    import shutil
    import sqlite3

    from warehouse.lake import LakeConfig

    shutil.copytree(src, dst)
    cfg = LakeConfig(root=dst)
    db = sqlite3.connect(cfg.catalog_path)
    try:
        with db:
            db.execute("UPDATE ducklake_metadata SET value = ? WHERE key = 'data_path'", (cfg.data_path,))
    finally:
        db.close()
    return dst

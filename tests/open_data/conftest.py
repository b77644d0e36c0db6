"""Fixtures for open-data tests: the source tables of a release, filled with crafted data.

Source tables are created here only when the migrations have not created them (same columns), so the rows fit
the real migrations.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from warehouse.lake import Lake
from warehouse.object_store import LocalObjectStore

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"blurred-thumbnail" + b"\xff\xd9"
PRIVATE_JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"RAW-FACES-AND-PLATES" + b"\xff\xd9"

CONTRACT_DDL = {
    "frames": "CREATE TABLE frames (camera_id VARCHAR, captured_at TIMESTAMPTZ, batch_id VARCHAR, seq BIGINT, "
    "keyframe_uri VARCHAR, public_uri VARCHAR, width INTEGER, height INTEGER, status VARCHAR, decode_ms DOUBLE, "
    "fetch_ms DOUBLE, worker_id VARCHAR)",
    "frame_scores": "CREATE TABLE frame_scores (camera_id VARCHAR, captured_at TIMESTAMPTZ, batch_id VARCHAR, "
    "fire DOUBLE, smoke DOUBLE, flood DOUBLE, flood_depth_class INTEGER, persons DOUBLE, crowd_density DOUBLE, "
    "crowd_level VARCHAR, crowd DOUBLE, motion DOUBLE, health VARCHAR, risk_level VARCHAR, risk_hazard VARCHAR, "
    "model_version VARCHAR, features VARCHAR)",
    "camera_events": "CREATE TABLE camera_events (camera_id VARCHAR, window_start TIMESTAMPTZ, window_end TIMESTAMPTZ, "
    "frames_ok BIGINT, frames_failed BIGINT, persons_max DOUBLE, persons_mean DOUBLE, motion_events BIGINT, "
    "fire_frames BIGINT, smoke_frames BIGINT, flood_frames BIGINT, uptime DOUBLE)",
    "alerts": "CREATE TABLE alerts (alert_id VARCHAR, version INTEGER, camera_id VARCHAR, kelurahan_code VARCHAR, "
    "hazard VARCHAR, level VARCHAR, status VARCHAR, reason VARCHAR, evidence VARCHAR, opened_at TIMESTAMPTZ, "
    "updated_at TIMESTAMPTZ, cap_xml_uri VARCHAR)",
    "jaki_usage_events": "CREATE TABLE jaki_usage_events (event_time TIMESTAMPTZ, feature VARCHAR, action VARCHAR, "
    "kelurahan_code VARCHAR, user_hash VARCHAR)",
    "jaki_daily_usage": "CREATE TABLE jaki_daily_usage (day DATE, feature VARCHAR, kelurahan_code VARCHAR, "
    "events BIGINT, users BIGINT)",
    "jaki_complaints_summary": "CREATE TABLE jaki_complaints_summary (grain VARCHAR, day DATE, category VARCHAR, "
    "kecamatan_code VARCHAR, kecamatan VARCHAR, complaints BIGINT, resolved BIGINT, median_resolution_h DOUBLE, "
    "p90_resolution_h DOUBLE)",
    "jaki_parking_hourly": "CREATE TABLE jaki_parking_hourly (parking_id VARCHAR, vehicle_type VARCHAR, hour TIMESTAMPTZ, "
    "snapshots BIGINT, capacity BIGINT, occupied_mean DOUBLE, occupied_max BIGINT, occupancy DOUBLE)",
    "placement_candidates": "CREATE TABLE placement_candidates (rank INTEGER, site_id VARCHAR, lat DOUBLE, lon DOUBLE, "
    "kode_kelurahan VARCHAR, cell_id VARCHAR, gain_total DOUBLE, gain_flood_2024 DOUBLE, reason VARCHAR, method VARCHAR, "
    "budget INTEGER, radius_m DOUBLE, run_id VARCHAR)",
}


def ensure_table(lake: Lake, name: str) -> None:
    if name not in lake.tables():
        lake.execute(CONTRACT_DDL[name])


def add(lake: Lake, table: str, rows: list[dict[str, Any]]) -> None:
    ensure_table(lake, table) if table in CONTRACT_DDL else None
    cols = lake.columns(table)
    lake.append(table, pa.Table.from_pylist([{c: r.get(c) for c in cols if c in r} for r in rows]))


CAMERAS = [
    {
        "camera_id": "cam-a",
        "name": "Bundaran HI 001",
        "operator": "Diskominfotik",
        "provider": "Bali Tower",
        "stream_url": "https://example.invalid/private/a.m3u8",
        "stream_kind": "hls",
        "lat": -6.195,
        "lon": 106.823,
        "kelurahan_code": "3171011001",
        "kelurahan": "Gambir",
        "kecamatan": "Gambir",
        "kota": "Jakarta Pusat",
        "view_radius_m": 80.0,
        "active": True,
        "zones": "{}",
        "n_channels": 1,
    },
    {
        "camera_id": "cam-b",
        "name": "Kampung Melayu",
        "operator": "BPBD",
        "provider": "Bali Tower",
        "stream_url": "https://example.invalid/private/b.m3u8",
        "stream_kind": "hls",
        "lat": -6.225,
        "lon": 106.866,
        "kelurahan_code": "3172011001",
        "kelurahan": "Kampung Melayu",
        "kecamatan": "Jatinegara",
        "kota": "Jakarta Timur",
        "view_radius_m": 60.0,
        "active": True,
        "zones": "{}",
        "n_channels": 1,
    },
]


def fill_cameras(lake: Lake, store: LocalObjectStore) -> None:
    add(lake, "cameras", CAMERAS)
    store.put_bytes("public/keyframes/cam-a/20261120T001000Z.jpg", JPEG)
    store.put_bytes("keyframes/cam-a/20261120T001000Z.jpg", PRIVATE_JPEG)
    store.put_bytes("keyframes/cam-b/20261120T001000Z.jpg", PRIVATE_JPEG)


def fill_frames(lake: Lake, hours: int = 3, start: datetime = T0) -> None:
    """Two cameras, a frame every 10 minutes; cam-b is offline for its first hour."""
    frames, scores, events = [], [], []
    for cam in ("cam-a", "cam-b"):
        for i in range(hours * 6):
            ts = start + timedelta(minutes=10 * i + 1, seconds=7)
            status = "offline" if cam == "cam-b" and i < 6 else "ok"
            key = f"{cam}/{ts:%Y%m%dT%H%M%SZ}.jpg"
            frames.append(
                {
                    "camera_id": cam,
                    "captured_at": ts,
                    "batch_id": "b1",
                    "seq": i,
                    "keyframe_uri": "keyframes/" + key,
                    # cam-b never has a blurred copy: its thumbnail must stay empty
                    "public_uri": ("public/keyframes/cam-a/20261120T001000Z.jpg" if cam == "cam-a" else None),
                    "width": 640,
                    "height": 360,
                    "status": status,
                }
            )
            if status == "ok":
                scores.append(
                    {
                        "camera_id": cam,
                        "captured_at": ts,
                        "batch_id": "b1",
                        "fire": 0.1 * (i % 3),
                        "smoke": 0.05,
                        "flood": 0.7 if cam == "cam-b" else 0.0,
                        "persons": float(i % 5),
                        "crowd": 0.2,
                        "motion": 0.1,
                        "health": "ok",
                        "risk_level": "Siaga" if cam == "cam-b" else "Normal",
                        "model_version": "t",
                    }
                )
        for w in range(hours * 12):
            ws = start + timedelta(minutes=5 * w)
            events.append(
                {
                    "camera_id": cam,
                    "window_start": ws,
                    "window_end": ws + timedelta(minutes=5),
                    "frames_ok": 1,
                    "frames_failed": 0,
                    "persons_max": 3.0,
                    "persons_mean": 1.0,
                    "motion_events": 1,
                    "fire_frames": 0,
                    "smoke_frames": 0,
                    "flood_frames": 1 if cam == "cam-b" else 0,
                    "uptime": 1.0,
                }
            )
    add(lake, "frames", frames)
    add(lake, "frame_scores", scores)
    add(lake, "camera_events", events)


def jaki_usage_rows() -> list[dict[str, Any]]:
    """Day x feature x kelurahan with one tiny cell (3 events) that must not be back-computable."""
    rows = []
    counts = {
        ("report", "3171011001"): 40,
        ("report", "3172011001"): 3,
        ("report", "3173011001"): 25,
        ("bed", "3171011001"): 50,
        ("bed", "3172011001"): 30,
        ("bed", "3173011001"): 12,
    }
    for (feature, kel), n in counts.items():
        rows.append(
            {
                "day": date(2026, 11, 20),
                "feature": feature,
                "kelurahan_code": kel,
                "events": n,
                "users": max(1, n // 2) if n > 3 else 2,
            }
        )
    return rows


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return fresh_store(tmp_path / "objects")


@pytest.fixture
def filled_lake(lake: Lake, store: LocalObjectStore) -> Lake:
    """A lake with cameras, 3 hours of frames/scores/events and refreshed risk marts."""
    from marts.risk import refresh_risk_marts

    add(lake, "cameras", CAMERAS)
    fill_frames(lake)
    refresh_risk_marts(lake)
    return lake


def fill_rest(lake: Lake) -> None:
    """Alerts, Jaki marts and raw usage events, parking and placement."""
    add(
        lake,
        "alerts",
        [
            {
                "alert_id": "al-1",
                "version": 1,
                "camera_id": "cam-b",
                "kelurahan_code": "3172011001",
                "hazard": "flood",
                "level": "Siaga",
                "status": "open",
                "reason": "flood 0.7 for 10 min",
                "evidence": '{"keyframe_uri": "keyframes/cam-b/20261120T001000Z.jpg", "subscriber_id": "s-9"}',
                "opened_at": T0 + timedelta(minutes=13, seconds=41),
                "updated_at": T0 + timedelta(minutes=13, seconds=41),
                "cap_xml_uri": "alerts/cap/al-1-1.xml",
            },
            {
                "alert_id": "al-1",
                "version": 2,
                "camera_id": "cam-b",
                "kelurahan_code": "3172011001",
                "hazard": "flood",
                "level": "Siaga",
                "status": "resolved",
                "reason": "cleared",
                "evidence": "{}",
                "opened_at": T0 + timedelta(minutes=13, seconds=41),
                "updated_at": T0 + timedelta(hours=2, minutes=2),
                "cap_xml_uri": "alerts/cap/al-1-2.xml",
            },
        ],
    )
    add(lake, "jaki_daily_usage", jaki_usage_rows())
    add(
        lake,
        "jaki_complaints_summary",
        [
            {
                "grain": "day",
                "day": date(2026, 11, 20),
                "category": cat,
                "kecamatan_code": kc,
                "kecamatan": kn,
                "complaints": n,
                "resolved": max(0, n - 2),
                "median_resolution_h": 5.0,
                "p90_resolution_h": 20.0,
            }
            for cat, kc, kn, n in [
                ("banjir", "317101", "Gambir", 30),
                ("banjir", "317201", "Jatinegara", 2),
                ("sampah", "317101", "Gambir", 15),
                ("sampah", "317201", "Jatinegara", 40),
            ]
        ],
    )
    add(
        lake,
        "jaki_parking_hourly",
        [
            {
                "parking_id": "P1",
                "vehicle_type": "car",
                "hour": T0 + timedelta(hours=h),
                "capacity": 100,
                "occupied_mean": 50.0 + 10 * h,
                "occupied_max": 60 + 10 * h,
                "occupancy": 0.5 + 0.1 * h,
            }
            for h in range(3)
        ],
    )
    add(
        lake,
        "parking_locations",
        [{"parking_id": "P1", "name": "IRTI Monas", "lat": -6.18, "lon": 106.83, "kode_kelurahan": "3171011001"}],
    )
    add(
        lake,
        "placement_candidates",
        [
            {
                "rank": r,
                "site_id": f"s{r}",
                "lat": -6.2 - r / 100,
                "lon": 106.8 + r / 100,
                "kode_kelurahan": "3171011001",
                "cell_id": f"c{r}",
                "gain_total": 10.0 - r,
                "gain_flood_2024": 5.0 - r,
                "reason": "uncovered flood risk",
                "method": "greedy",
                "budget": 3,
                "radius_m": 80.0,
                "run_id": "run-1",
            }
            for r in (1, 2, 3)
        ],
    )
    add(
        lake,
        "jaki_usage_events",
        [
            {
                "event_time": T0 + timedelta(minutes=i),
                "feature": "report",
                "kelurahan_code": "3171011001",
                "action": "open",
                "user_hash": f"userhash-{i % 12:04d}",
            }
            for i in range(40)
        ],
    )


def make_lake(root: Path) -> Lake:
    """A migrated lake under ``root``."""
    from warehouse.lake import LakeConfig
    from warehouse.migrations import migrate

    lk = Lake(LakeConfig(root=root))
    migrate(lk)
    return lk


def fresh_store(root: Path) -> LocalObjectStore:
    """An object store holding the crafted keyframes (blurred public one, private raw ones)."""
    st = LocalObjectStore(root)
    st.put_bytes("public/keyframes/cam-a/20261120T001000Z.jpg", JPEG)
    st.put_bytes("keyframes/cam-a/20261120T001000Z.jpg", PRIVATE_JPEG)
    st.put_bytes("keyframes/cam-b/20261120T001000Z.jpg", PRIVATE_JPEG)
    return st


@pytest.fixture(scope="session")
def ro_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    """One fully filled lake per test session, for tests that only read it (the lake is slow to build)."""
    from marts.risk import refresh_risk_marts

    root = tmp_path_factory.mktemp("ro")
    lk = make_lake(root / "pantau-data")
    fill_cameras(lk, fresh_store(root / "objects"))
    fill_frames(lk)
    refresh_risk_marts(lk)
    fill_rest(lk)
    yield lk
    lk.close()

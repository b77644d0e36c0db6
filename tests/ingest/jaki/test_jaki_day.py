"""A simulated day end to end: demo accounting, privacy scan of the whole lake, marts, cross-signals."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.jaki.demo import run_jaki_demo
from ingest.jaki.privacy import PHONE_PATTERN
from ingest.jaki.signals import flood_complaint_context, panic_camera_requests
from marts.jaki import refresh_marts
from simulate.jaki import JakiSimConfig, generate_day
from warehouse.lake import Lake
from warehouse.object_store import LocalObjectStore

pytestmark = pytest.mark.slow  # a whole simulated day through every stage

DAY = date(2026, 11, 24)
EVENTS = 6_000


@pytest.fixture(scope="module")
def demo(lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    store = LocalObjectStore(tmp_path_factory.mktemp("store"))
    return run_jaki_demo(lake, store, DAY, EVENTS, salt="day-test-salt-42", malformed_share=0.01, seed=5)


def _lake_frame(lake: Lake, sql: str, params: list | None = None) -> pl.DataFrame:  # type: ignore[type-arg]
    df = pl.from_arrow(lake.query(sql, params))
    assert isinstance(df, pl.DataFrame)
    return df


def test_demo_accounting_is_exact(demo) -> None:  # type: ignore[no-untyped-def]
    files = demo["files"]
    assert len(files) == 7 and all(f["status"] == "loaded" for f in files)
    for f in files:
        assert f["rows_read"] == f["accepted"] + f["quarantined"]
        assert f["quarantined"] == f["injected_malformed"]
    assert demo["rows_read"] == demo["rows_accepted"] + demo["rows_quarantined"]
    assert demo["marts"]["jaki_daily_usage"] > 0


def test_no_raw_identifier_name_or_phone_in_the_lake(lake: Lake, demo) -> None:  # type: ignore[no-untyped-def]
    raw = generate_day(JakiSimConfig(day=DAY, usage_events=EVENTS, seed=5))
    secrets: set[str] = set()
    for df in raw.values():
        for col in (
            "user_id",
            "reporter_id",
            "reporter_name",
            "reporter_phone",
            "patient_name",
            "patient_phone",
            "name",
            "applicant_name",
        ):
            if col in df.columns:
                secrets |= set(df.get_column(col).drop_nulls().to_list())
    assert len(secrets) > 1000
    secret_arr = pa.array(sorted(secrets))
    names = sorted({s for s in secrets if " " in s})
    checked = 0
    for table in lake.tables():
        cols = [
            r["column_name"]
            for r in lake.query(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'lake' AND table_name = ? "
                "AND data_type = 'VARCHAR'",
                [table],
            ).to_pylist()
        ]
        if not cols:
            continue
        every = ", ".join(f'"{c}"' for c in cols)  # one scan per table over all its text columns
        values = lake.query(
            f'SELECT DISTINCT v FROM (SELECT unnest([{every}]) AS v FROM "{table}") WHERE v IS NOT NULL'
        ).column(0)
        checked += len(values)
        assert not pa.compute.any(pa.compute.is_in(values, value_set=secret_arr)).as_py(), table
        s = pl.Series(values.to_pylist(), dtype=pl.String)
        s = s.filter(~s.str.contains(r"^[0-9a-f]{64}$"))  # hashes/checksums: digit runs are not phones
        assert not s.str.contains(PHONE_PATTERN).any(), table
        assert not s.str.contains_any(names).any(), table
    assert checked > 1000
    data_dir = Path(lake.config.data_path)
    files = list(data_dir.rglob("*.parquet"))
    assert files
    for f in files:
        t = pq.read_table(f)
        for name in t.column_names:
            if pa.types.is_string(t.schema.field(name).type) or pa.types.is_large_string(t.schema.field(name).type):
                assert not pa.compute.any(pa.compute.is_in(t.column(name), value_set=secret_arr)).as_py(), (f, name)
    hashes = _lake_frame(lake, "SELECT DISTINCT user_hash FROM jaki_usage_events")["user_hash"]
    assert hashes.str.contains(r"^[0-9a-f]{64}$").all()


def test_daily_usage_mart_matches_events(lake: Lake, demo) -> None:  # type: ignore[no-untyped-def]
    ev = _lake_frame(
        lake,
        "SELECT feature, kelurahan_code, user_hash, timezone('Asia/Jakarta', event_time) AS local FROM jaki_usage_events WHERE source_file LIKE 'landing/%'",
    )
    ev = ev.filter(pl.col("local").dt.date() == DAY)
    want = ev.group_by("feature", "kelurahan_code").agg(
        pl.len().alias("events"), pl.col("user_hash").n_unique().alias("users")
    )
    got = _lake_frame(lake, "SELECT feature, kelurahan_code, events, users FROM jaki_daily_usage WHERE day = ?", [DAY])
    joined = want.join(got, on=["feature", "kelurahan_code"], how="full", suffix="_m")
    assert joined.height == want.height == got.height
    assert (joined["events"] == joined["events_m"]).all() and (joined["users"] == joined["users_m"]).all()


def test_complaint_resolution_percentiles(lake: Lake, demo) -> None:  # type: ignore[no-untyped-def]
    c = _lake_frame(
        lake,
        "SELECT category, left(kelurahan_code, 8) AS kc, epoch(resolved_at - created_at) / 3600 AS h, status "
        "FROM jaki_complaints WHERE CAST(timezone('Asia/Jakarta', created_at) AS DATE) = ?",
        [DAY],
    )
    top = c.group_by("category", "kc").len().sort("len", descending=True).row(0)
    sub = c.filter(
        (pl.col("category") == top[0]) & (pl.col("kc") == top[1]) & pl.col("status").is_in(["resolved", "closed"])
    )
    m = _lake_frame(
        lake,
        "SELECT complaints, resolved, median_resolution_h, p90_resolution_h FROM jaki_complaints_summary "
        "WHERE grain = 'day' AND day = ? AND category = ? AND kecamatan_code = ?",
        [DAY, top[0], top[1]],
    ).row(0, named=True)
    assert m["complaints"] == top[2] and m["resolved"] == sub.height
    assert m["median_resolution_h"] == pytest.approx(sub["h"].quantile(0.5, "linear"))
    assert m["p90_resolution_h"] == pytest.approx(sub["h"].quantile(0.9, "linear"))
    weekly = lake.scalar("SELECT sum(complaints) FROM jaki_complaints_summary WHERE grain = 'week'")
    assert weekly == c.height


def test_other_marts(lake: Lake, demo) -> None:  # type: ignore[no-untyped-def]
    presses = lake.scalar("SELECT count(*) FROM jaki_panic_button WHERE source_file LIKE 'landing/%'")
    assert lake.scalar("SELECT sum(presses) FROM jaki_panic_hourly") == presses
    p = _lake_frame(lake, "SELECT occupancy, occupied_max, capacity FROM jaki_parking_hourly")
    assert p.height > 0 and p["occupancy"].is_between(0, 1).all() and (p["occupied_max"] <= p["capacity"]).all()
    h = _lake_frame(
        lake, "SELECT snapshots, available_min, capacity FROM jaki_hospital_beds_daily WHERE day = ?", [DAY]
    )
    assert h.height > 100 and (h["available_min"] <= h["capacity"]).all()
    before = _lake_frame(lake, "SELECT * FROM jaki_daily_usage ORDER BY ALL")
    refresh_marts(lake, DAY, DAY)  # idempotent
    assert _lake_frame(lake, "SELECT * FROM jaki_daily_usage ORDER BY ALL").equals(before)


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


def test_panic_presses_request_nearby_cameras(lake: Lake, demo) -> None:  # type: ignore[no-untyped-def]
    presses = _lake_frame(lake, "SELECT panic_id, lat, lon FROM jaki_panic_button ORDER BY panic_id LIMIT 3").rows()
    cams = []
    for i, (_pid, lat, lon) in enumerate(presses):
        for j, dist in enumerate((50.0, 250.0, 2000.0)):  # north of the press by ~dist metres
            cams.append({"camera_id": f"TESTCAM-{i}-{j}", "lat": lat + dist / 111_195.0, "lon": lon, "active": True})
    lake.append("cameras", pa.Table.from_pylist(cams))
    radius = 300.0
    got = panic_camera_requests(lake, radius_m=radius, now=datetime(2026, 11, 25, tzinfo=UTC))
    all_p = _lake_frame(lake, "SELECT panic_id, lat, lon FROM jaki_panic_button").rows()
    want = {
        (pid, c["camera_id"])
        for pid, plat, plon in all_p
        for c in cams
        if _haversine(plat, plon, c["lat"], c["lon"]) <= radius
    }
    have = set(zip(got.column("panic_id").to_pylist(), got.column("camera_id").to_pylist(), strict=True))
    assert have == want and len(want) >= 6
    prio = dict(zip(got.column("camera_id").to_pylist(), got.column("priority").to_pylist(), strict=True))
    assert prio["TESTCAM-0-0"] == 1 and prio["TESTCAM-0-1"] == 2 and "TESTCAM-0-2" not in prio
    assert panic_camera_requests(lake, radius_m=radius).num_rows == 0  # exactly once
    assert lake.scalar("SELECT count(*) FROM camera_priority_requests") == len(want)


def test_flood_complaint_context(lake: Lake, demo) -> None:  # type: ignore[no-untyped-def]
    fl = _lake_frame(lake, "SELECT kelurahan_code, status FROM jaki_complaints WHERE category = 'flood'")
    code, n = fl.group_by("kelurahan_code").len().sort("len", descending=True).row(0)
    ctx = flood_complaint_context(lake, code, since=datetime(2026, 11, 23, tzinfo=UTC))
    assert ctx.complaints == n and ctx.corroborates
    assert (
        ctx.open_complaints
        == fl.filter((pl.col("kelurahan_code") == code) & pl.col("status").is_in(["open", "in_progress"])).height
    )
    later = flood_complaint_context(lake, code, since=datetime(2026, 11, 26, tzinfo=UTC))
    assert later.complaints == 0 and not later.corroborates

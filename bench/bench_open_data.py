"""Open-data benchmarks: release build time and datastore_search latency.

1. Release build for 30 days x 1,300 cameras (hourly marts synthesised in the lake: 936,000 camera-hours,
   172,800 kelurahan-hours, 39,000 camera-days, 80,100 Jaki usage cells with suppression).
2. ``datastore_search`` latency p50/p95 over HTTP on a 10,000,000-row Parquet dataset, for a mix of
   first pages, filters, sorts, deep offsets and text search.

Run: ``.venv/bin/python bench/bench_open_data.py [--rows 10000000] [--days 30] [--cameras 1300]``
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import requests

from open_data.api import ApiServer
from open_data.release import build_release
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore

T0 = "2026-10-01 00:00:00+00"
SYNTH_CAMERA_HOURS = """
INSERT INTO risk_hourly_camera BY NAME
SELECT TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_hours(h) AS hour, 'cam-' || lpad(c::VARCHAR, 4, '0') AS camera_id,
       '31710' || lpad((c % 267)::VARCHAR, 5, '0') AS kelurahan_code, 360 AS frames, 350 - (c % 7) AS frames_ok,
       (350 - (c % 7)) / 360 AS uptime, ((h * 7 + c) % 100) / 100.0 AS fire_max, ((h * 3 + c) % 100) / 200.0 AS smoke_max,
       ((h + c * 5) % 100) / 100.0 AS flood_max, ((h * 11 + c) % 100) / 100.0 AS crowd_max,
       (h + c) % 40 AS persons_max, ((h + c) % 40) / 3.0 AS persons_mean,
       ['Normal', 'Normal', 'Normal', 'Waspada', 'Siaga', 'Awas'][1 + (h + c) % 6] AS risk_level_max,
       (h * c) % 30 AS motion_events, 0 AS fire_frames, (h + c) % 2 AS smoke_frames, (h + c) % 5 AS flood_frames
FROM range(?) t(h), range(?) u(c)
"""
SYNTH_KELURAHAN_HOURS = """
INSERT INTO risk_hourly_kelurahan BY NAME
SELECT hour, kelurahan_code, count(*) AS cameras, max(fire_max) AS fire_max, max(smoke_max) AS smoke_max,
       max(flood_max) AS flood_max, max(crowd_max) AS crowd_max, max(persons_max) AS persons_max,
       max(risk_level_max) AS risk_level_max, sum(frames) AS frames, avg(uptime) AS uptime_mean,
       sum(motion_events) AS motion_events, sum(fire_frames) AS fire_frames, sum(smoke_frames) AS smoke_frames,
       sum(flood_frames) AS flood_frames
FROM risk_hourly_camera GROUP BY hour, kelurahan_code
"""
SYNTH_UPTIME = """
INSERT INTO camera_uptime_daily
SELECT CAST(hour AS DATE), camera_id, sum(frames), sum(frames_ok), sum(frames_ok) / sum(frames),
       sum(frames - frames_ok), 0, 0, 0, 0, 0
FROM risk_hourly_camera GROUP BY ALL
"""
SYNTH_CAMERAS = """
INSERT INTO cameras (camera_id, name, operator, provider, stream_kind, lat, lon, kelurahan_code, active)
SELECT 'cam-' || lpad(c::VARCHAR, 4, '0'), 'Camera ' || c, 'Diskominfotik', 'Bali Tower', 'hls',
       -6.35 + (c % 100) / 400.0, 106.7 + (c // 100) / 50.0, '31710' || lpad((c % 267)::VARCHAR, 5, '0'), true
FROM range(?) u(c)
"""
SYNTH_USAGE = """
INSERT INTO jaki_daily_usage
SELECT DATE '2026-10-01' + d::INTEGER, 'feature-' || f, '31710' || lpad(k::VARCHAR, 5, '0'),
       (d * 13 + f * 7 + k) % 60, ((d * 13 + f * 7 + k) % 60) // 2
FROM range(?) a(d), range(10) b(f), range(267) c(k)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_release(work: Path, days: int, cameras: int) -> None:
    lake = Lake(LakeConfig(root=work / "pantau-data"))
    migrate(lake)
    hours = days * 24
    t = time.perf_counter()

    def _fill(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(SYNTH_CAMERAS, [cameras])
        cur.execute(SYNTH_CAMERA_HOURS, [hours, cameras])
        cur.execute(SYNTH_KELURAHAN_HOURS)
        cur.execute(SYNTH_UPTIME)
        cur.execute(SYNTH_USAGE, [days])

    lake.write(_fill)
    rows = {
        t: lake.scalar(f"SELECT count(*) FROM {t}")
        for t in ("risk_hourly_camera", "risk_hourly_kelurahan", "camera_uptime_daily", "jaki_daily_usage")
    }
    print(f"synthesised marts in {time.perf_counter() - t:.1f} s: {rows}")
    store = LocalObjectStore(work / "store")
    timings = []
    for i in range(2):
        t = time.perf_counter()
        res = build_release(lake, store, version=f"bench-{i}", previous=None)
        timings.append(time.perf_counter() - t)
        print(
            f"release build {i + 1}: {timings[-1]:.1f} s, {res.total_rows:,} rows, {res.total_bytes / 1e6:.1f} MB in "
            f"{sum(len(d['files']) for d in res.datasets)} data files; SHA256SUMS sha256 {res.checksums_sha256[:16]}"
        )
    same = {k: v for k, v in res.files.items() if k.startswith("data/")}
    first = json.loads((store.root / "releases/bench-0/release.json").read_text())
    identical = all(
        d["files"][f]["sha256"] == same[d["files"][f]["path"]] for d in first["datasets"] for f in d["files"]
    )
    print(
        f"release build time ({days} days x {cameras} cameras): best {min(timings):.1f} s; data files identical across builds: {identical}"
    )
    lake.close()


def bench_api(work: Path, n_rows: int, repeats: int) -> None:
    root = work / "api"
    rel = root / "releases" / "bench"
    (rel / "data").mkdir(parents=True)
    path = rel / "data" / "risk_hourly_camera.parquet"
    t = time.perf_counter()
    con = duckdb.connect()
    con.execute(
        f"""COPY (
          SELECT TIMESTAMPTZ '{T0}' + to_hours(i // 1300) AS hour, 'cam-' || lpad((i % 1300)::VARCHAR, 4, '0') AS camera_id,
                 '31710' || lpad((i % 267)::VARCHAR, 5, '0') AS kelurahan_code, (hash(i) % 1000) / 1000.0 AS flood_max,
                 (hash(i * 7) % 1000) / 1000.0 AS fire_max, (hash(i * 13) % 40)::BIGINT AS persons_max,
                 ['Normal', 'Waspada', 'Siaga', 'Awas'][1 + i % 4] AS risk_level_max
          FROM range({int(n_rows)}) r(i)) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"""
    )
    con.close()
    print(f"wrote {n_rows:,}-row Parquet ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
    schema = [
        ["hour", "datetime"],
        ["camera_id", "string"],
        ["kelurahan_code", "string"],
        ["flood_max", "number"],
        ["fire_max", "number"],
        ["persons_max", "integer"],
        ["risk_level_max", "string"],
    ]
    f = {"path": "data/risk_hourly_camera.parquet", "bytes": path.stat().st_size, "sha256": "0" * 64}
    ds = {"name": "risk_hourly_camera", "title": "bench", "rows": n_rows, "schema": schema, "files": {"parquet": f}}
    (rel / "release.json").write_text(
        json.dumps({"version": "bench", "snapshot_id": 1, "snapshot_time": "2026-11-01T00:00:00Z", "datasets": [ds]})
    )
    (rel / "datapackage.json").write_text(json.dumps({"resources": []}))
    queries: dict[str, Any] = {
        "first page": {"resource_id": "risk_hourly_camera", "limit": 100},
        "filter camera": {"resource_id": "risk_hourly_camera", "filters": {"camera_id": "cam-0042"}, "limit": 100},
        "filter + sort": {
            "resource_id": "risk_hourly_camera",
            "filters": {"kelurahan_code": "3171000042"},
            "sort": "flood_max desc, hour",
            "limit": 100,
        },
        "deep offset": {"resource_id": "risk_hourly_camera", "offset": n_rows // 2, "limit": 100},
        "text search": {"resource_id": "risk_hourly_camera", "q": "cam-0999", "limit": 100},
        "fields + in-filter": {
            "resource_id": "risk_hourly_camera",
            "fields": ["hour", "flood_max"],
            "filters": {"risk_level_max": ["Siaga", "Awas"]},
            "limit": 1000,
        },
    }
    all_ms: list[float] = []
    with ApiServer(root, free_port()) as server, requests.Session() as http:
        url = server.url + "/api/3/action/datastore_search"
        http.post(url, json=queries["first page"], timeout=120).raise_for_status()  # warm-up
        for name, body in queries.items():
            ms = []
            for _ in range(repeats):
                t = time.perf_counter()
                r = http.post(url, json=body, timeout=120)
                ms.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
            all_ms += ms
            total = r.json()["result"]["total"]
            print(
                f"  {name:20s} p50 {statistics.median(ms):7.1f} ms  p95 {sorted(ms)[int(0.95 * (len(ms) - 1))]:7.1f} ms  (total {total:,})"
            )
    all_ms.sort()
    print(
        f"datastore_search on {n_rows:,} rows, {len(all_ms)} requests over HTTP: "
        f"p50 {statistics.median(all_ms):.1f} ms, p95 {all_ms[int(0.95 * (len(all_ms) - 1))]:.1f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--cameras", type=int, default=1300)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--skip-release", action="store_true")
    ap.add_argument("--skip-api", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pantau-bench-") as tmp:
        if not args.skip_release:
            bench_release(Path(tmp), args.days, args.cameras)
        if not args.skip_api:
            bench_api(Path(tmp), args.rows, args.repeats)


if __name__ == "__main__":
    main()

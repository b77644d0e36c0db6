"""Open-data benchmarks: release build time (from scratch and a day added) and datastore_search latency.

1. Releases for ``--days`` x ``--cameras`` (hourly marts synthesised in the lake: camera-hours,
   kelurahan-hours, camera-days, Jaki usage cells with suppression). Each run builds the release of the
   base snapshot from scratch (no previous release), then the release of the next snapshot, one day
   later, against it: unchanged partitions are reused by checksum. The added day completes a 31-day
   month, the costliest day to add with monthly partitions. ``--verify`` also rebuilds the second
   snapshot from scratch and compares every data file.
2. ``datastore_search`` latency p50/p95 over HTTP on a ``--rows`` dataset in the release layout (monthly
   partitions of 5,000 cameras' hourly rows, sorted and counted as a release writes them), for a mix of
   first pages, filters, sorts, deep offsets and text search; the API runs in its own process
   (DuckDB limited to 2 threads and 1 GB) and its memory is printed.

The synthesised lake and the API dataset are cached under ``--cache`` (default
``/tmp/pantau-bench-cache``) and reused by later runs. Every figure is printed with the load average.

Run: ``.venv/bin/python bench/bench_open_data.py [--days 365 --cameras 5000 --rows 100000000] [--runs 3]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import requests

from open_data import formats
from open_data.datasets import DATASETS_BY_NAME
from open_data.release import COUNTS_SCHEMA, _counts_bytes, build_release, value_counts
from warehouse.lake import MIGRATIONS_DIR, Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore

CACHE_VERSION = 2
T0 = datetime(2026, 10, 31, tzinfo=UTC)  # a year from here ends on 30 October: day 366 completes October
SYNTH_CAMERA_HOURS = """
INSERT INTO risk_hourly_camera BY NAME
SELECT ?::TIMESTAMPTZ + to_hours(h) AS hour, 'cam-' || lpad(c::VARCHAR, 4, '0') AS camera_id,
       '31710' || lpad((c % 267)::VARCHAR, 5, '0') AS kelurahan_code, 360 AS frames, 350 - (c % 7) AS frames_ok,
       (350 - (c % 7)) / 360 AS uptime, ((h * 7 + c) % 100) / 100.0 AS fire_max, ((h * 3 + c) % 100) / 200.0 AS smoke_max,
       ((h + c * 5) % 100) / 100.0 AS flood_max, ((h * 11 + c) % 100) / 100.0 AS crowd_max,
       (h + c) % 40 AS persons_max, ((h + c) % 40) / 3.0 AS persons_mean,
       ['Normal', 'Normal', 'Normal', 'Waspada', 'Siaga', 'Awas'][1 + (h + c) % 6] AS risk_level_max,
       (h * c) % 30 AS motion_events, 0 AS fire_frames, (h + c) % 2 AS smoke_frames, (h + c) % 5 AS flood_frames
FROM range(?, ?) t(h), range(?) u(c)
"""
SYNTH_KELURAHAN_HOURS = """
INSERT INTO risk_hourly_kelurahan BY NAME
SELECT hour, kelurahan_code, count(*) AS cameras, max(fire_max) AS fire_max, max(smoke_max) AS smoke_max,
       max(flood_max) AS flood_max, max(crowd_max) AS crowd_max, max(persons_max) AS persons_max,
       max(risk_level_max) AS risk_level_max, sum(frames) AS frames, avg(uptime) AS uptime_mean,
       sum(motion_events) AS motion_events, sum(fire_frames) AS fire_frames, sum(smoke_frames) AS smoke_frames,
       sum(flood_frames) AS flood_frames
FROM risk_hourly_camera WHERE hour >= ? GROUP BY hour, kelurahan_code
"""
SYNTH_UPTIME = """
INSERT INTO camera_uptime_daily
SELECT CAST(hour AS DATE), camera_id, sum(frames), sum(frames_ok), sum(frames_ok) / sum(frames),
       sum(frames - frames_ok), 0, 0, 0, 0, 0
FROM risk_hourly_camera WHERE hour >= ? GROUP BY ALL
"""
SYNTH_CAMERAS = """
INSERT INTO cameras (camera_id, name, operator, provider, stream_kind, lat, lon, kelurahan_code, active)
SELECT 'cam-' || lpad(c::VARCHAR, 4, '0'), 'Camera ' || c, 'Diskominfotik', 'Bali Tower', 'hls',
       -6.35 + (c % 100) / 400.0, 106.7 + (c // 100) / 50.0, '31710' || lpad((c % 267)::VARCHAR, 5, '0'), true
FROM range(?) u(c)
"""
SYNTH_USAGE = """
INSERT INTO jaki_daily_usage
SELECT ?::DATE + d::INTEGER, 'feature-' || f, '31710' || lpad(k::VARCHAR, 5, '0'),
       (d * 13 + f * 7 + k) % 60, ((d * 13 + f * 7 + k) % 60) // 2
FROM range(?, ?) a(d), range(10) b(f), range(267) c(k)
"""
API_ROWS = """
SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_hours(h) AS hour, 'cam-' || lpad(c::VARCHAR, 4, '0') AS camera_id,
       '31710' || lpad((c % 267)::VARCHAR, 5, '0') AS kelurahan_code, (hash(h * 5000 + c) % 1000) / 1000.0 AS flood_max,
       (hash((h * 5000 + c) * 7) % 1000) / 1000.0 AS fire_max, (hash((h * 5000 + c) * 13) % 40)::BIGINT AS persons_max,
       ['Normal', 'Waspada', 'Siaga', 'Awas'][1 + (h * 5000 + c) % 4] AS risk_level_max
FROM range(?, ?) r(h), range(?) u(c)
ORDER BY kelurahan_code, camera_id, hour, flood_max, fire_max, persons_max, risk_level_max
"""
API_CAMERAS = 5000


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def synth_lake(cache: Path, days: int, cameras: int) -> tuple[Path, int, int]:
    """A lake with ``days`` of marts (snapshot ``base``) and one more day (snapshot ``next``), cached."""
    schema = hashlib.sha256(",".join(sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))).encode()).hexdigest()[:8]
    root = cache / f"lake-v{CACHE_VERSION}-{days}d-{cameras}c-{schema}"  # rebuilt when the lake schema changes
    done = root / "snapshots.json"
    if done.is_file():
        snaps = json.loads(done.read_text())
        print(f"synthesised lake reused from {root}")
        return root, int(snaps["base"]), int(snaps["next"])
    shutil.rmtree(root, ignore_errors=True)
    lake = Lake(LakeConfig(root=root))
    migrate(lake)
    t = time.perf_counter()

    def _day_range(first: int, last: int) -> Any:
        def fill(cur: duckdb.DuckDBPyConnection) -> None:
            since = T0 + timedelta(days=first)
            if first == 0:
                cur.execute(SYNTH_CAMERAS, [cameras])
            cur.execute(SYNTH_CAMERA_HOURS, [T0, first * 24, last * 24, cameras])
            cur.execute(SYNTH_KELURAHAN_HOURS, [since])
            cur.execute(SYNTH_UPTIME, [since])
            cur.execute(SYNTH_USAGE, [T0.date(), first, last])

        return fill

    lake.write(_day_range(0, days))
    base = lake.snapshot_id()
    lake.write(_day_range(days, days + 1))
    nxt = lake.snapshot_id()
    rows = {
        t: lake.scalar(f"SELECT count(*) FROM {t}")
        for t in ("risk_hourly_camera", "risk_hourly_kelurahan", "camera_uptime_daily", "jaki_daily_usage")
    }
    lake.close()
    done.write_text(json.dumps({"base": base, "next": nxt, "rows": rows}))
    print(f"synthesised marts in {time.perf_counter() - t:.1f} s (cached in {root}): {rows}")
    return root, base, nxt


def bench_release(work: Path, cache: Path, days: int, cameras: int, runs: int, verify: bool) -> None:
    root, base, nxt = synth_lake(cache, days, cameras)
    lake = Lake(LakeConfig(root=root))
    scratch_s: list[float] = []
    day_s: list[float] = []
    try:
        for run in range(runs):
            store = LocalObjectStore(work / f"store-{run}")
            load = load_average()
            t, c = time.perf_counter(), time.process_time()
            full = build_release(lake, store, base, version="base", previous=None)
            scratch_s.append(time.perf_counter() - t)
            scratch_cpu = time.process_time() - c
            t, c = time.perf_counter(), time.process_time()
            day = build_release(lake, store, nxt, version="next", previous="base")
            day_s.append(time.perf_counter() - t)
            day_cpu = time.process_time() - c
            print(
                f"run {run + 1}: from scratch {scratch_s[-1]:.1f} s, {scratch_cpu:.0f} CPU-s ({full.total_rows:,} rows, "
                f"{full.total_bytes / 1e9:.2f} GB, {full.partitions_built} partitions); a day added "
                f"{day_s[-1]:.1f} s, {day_cpu:.1f} CPU-s ({day.partitions_built} partitions built, "
                f"{day.partitions_reused} reused, {day.partitions_checked} scanned for checksums); "
                f"{load} before the run, {load_average()} after",
                flush=True,
            )
            if verify and run == 0:
                other = LocalObjectStore(work / "verify")
                t = time.perf_counter()
                again = build_release(lake, other, nxt, version="next", previous=None)
                data = {k: v for k, v in day.files.items() if k.startswith("data/")}
                same = data == {k: v for k, v in again.files.items() if k.startswith("data/")}
                print(
                    f"  the day-added release equals a full rebuild of its snapshot ({len(data)} data files, "
                    f"rebuilt in {time.perf_counter() - t:.1f} s): {same}"
                )
                shutil.rmtree(work / "verify")
            shutil.rmtree(work / f"store-{run}")
    finally:
        lake.close()
    print(
        f"release, {days} days x {cameras} cameras: from scratch median {median(scratch_s):.1f} s "
        f"(runs {', '.join(f'{x:.1f}' for x in scratch_s)}); a day added median {median(day_s):.1f} s "
        f"(runs {', '.join(f'{x:.1f}' for x in day_s)}); {load_average()}"
    )


def api_dataset(cache: Path, n_rows: int) -> Path:
    """``n_rows`` hourly rows of 5,000 cameras as a release writes them: a Parquet file and counts per month."""
    root = cache / f"api-v{CACHE_VERSION}-{n_rows}"
    if (root / "releases" / "bench" / "release.json").is_file():
        print(f"API dataset reused from {root}")
        return root
    shutil.rmtree(root, ignore_errors=True)
    rel = root / "releases" / "bench"
    base = "data/risk_hourly_camera/"
    (rel / base / "parquet").mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    t = time.perf_counter()
    hours = -(-n_rows // API_CAMERAS)  # whole hours of every camera
    start = datetime(2024, 1, 1, tzinfo=UTC)
    parts: list[dict[str, Any]] = []
    counts: list[pa.Table] = []
    h0, month = 0, 0
    while h0 < hours:
        lo = datetime(start.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        hi = datetime(start.year + (month + 1) // 12, (month + 1) % 12 + 1, 1, tzinfo=UTC)
        h1 = min(hours, int((hi - start).total_seconds() // 3600))
        table = con.execute(API_ROWS, [h0, h1, API_CAMERAS]).to_arrow_table()
        key = f"{lo:%Y-%m}"
        data = formats.to_parquet(table, partition=True)
        path = f"{base}parquet/{key}.parquet"
        (rel / path).write_bytes(data)
        counted, vc = value_counts(formats.normalise(table), key)
        counts.append(vc)
        parts.append(
            {
                "key": key,
                "rows": table.num_rows,
                "counted": counted,
                "files": {"parquet": {"path": path, "bytes": len(data), "sha256": "0" * 64}},
            }
        )
        print(
            f"  {key}: {table.num_rows:,} rows, {len(data) / 1e6:.0f} MB ({time.perf_counter() - t:.0f} s)", flush=True
        )
        h0, month = h1, month + 1
    con.close()
    (rel / base / "counts.parquet").write_bytes(_counts_bytes(counts or [COUNTS_SCHEMA.empty_table()]))
    spec = DATASETS_BY_NAME["risk_hourly_camera"]
    schema = [
        [f.name, formats.frictionless_type(f.type)] for f in pq.read_schema(rel / parts[0]["files"]["parquet"]["path"])
    ]
    total = sum(p["rows"] for p in parts)
    ds = {
        "name": "risk_hourly_camera",
        "title": spec.title,
        "rows": total,
        "schema": schema,
        "files": {
            "parquet": {
                "path": f"{base}parquet/",
                "bytes": sum(p["files"]["parquet"]["bytes"] for p in parts),
                "sha256": "0" * 64,
                "parts": [p["files"]["parquet"]["path"] for p in parts],
            }
        },
        "partitioning": {
            "column": "hour",
            "grain": "month",
            "sort": list(spec.partition.sort) if spec.partition else [],
        },
        "partitions": parts,
        "counts": {"path": f"{base}counts.parquet", "bytes": 0, "sha256": "0" * 64},
    }
    manifest = {"version": "bench", "snapshot_id": 1, "snapshot_time": "2026-11-01T00:00:00Z", "datasets": [ds]}
    (rel / "datapackage.json").write_text(json.dumps({"resources": []}))
    (rel / "release.json").write_text(json.dumps(manifest))  # last: marks the dataset complete
    size = sum(p["files"]["parquet"]["bytes"] for p in parts)
    print(
        f"wrote {total:,} rows in {len(parts)} monthly partitions ({size / 1e9:.2f} GB) in {time.perf_counter() - t:.0f} s"
    )
    return root


def queries(n_rows: int) -> dict[str, dict[str, Any]]:
    rid = "risk_hourly_camera"
    return {
        "first page": {"resource_id": rid, "limit": 100},
        "filter camera": {"resource_id": rid, "filters": {"camera_id": "cam-0042"}, "limit": 100},
        "filter camera, newest first": {
            "resource_id": rid,
            "filters": {"camera_id": "cam-4242"},
            "sort": "hour desc",
            "limit": 100,
        },
        "filter + sort": {
            "resource_id": rid,
            "filters": {"kelurahan_code": "3171000042"},
            "sort": "flood_max desc, hour",
            "limit": 100,
        },
        "two filters": {
            "resource_id": rid,
            "filters": {"camera_id": "cam-0778", "risk_level_max": ["Siaga", "Awas"]},
            "limit": 100,
        },
        "filter hour": {"resource_id": rid, "filters": {"hour": "2025-03-03T05:00:00Z"}, "limit": 100},
        "deep offset": {"resource_id": rid, "offset": n_rows // 2, "limit": 100},
        "newest first, page 100": {"resource_id": rid, "sort": "hour desc", "offset": 9_900, "limit": 100},
        "text search": {"resource_id": rid, "q": "cam-0999", "limit": 100},
        "text search, many values": {"resource_id": rid, "q": "Siaga", "limit": 100},
        "fields + in-filter": {
            "resource_id": rid,
            "fields": ["hour", "flood_max"],
            "filters": {"risk_level_max": ["Siaga", "Awas"]},
            "limit": 1000,
        },
    }


# an unfiltered sort by a score over every row: no statistic can skip rows of uniformly spread scores
FULL_SORT = {"resource_id": "risk_hourly_camera", "sort": "flood_max desc", "limit": 100}


def _memory(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


def p95(xs: list[float]) -> float:
    return sorted(xs)[int(0.95 * (len(xs) - 1))]


def bench_api(cache: Path, n_rows: int, repeats: int, runs: int) -> None:
    root = api_dataset(cache, n_rows)
    port = free_port()
    code = (  # one client sends every request: the per-client rate limit is lifted for the measurement
        "import sys, uvicorn; from open_data.api import create_app; "
        "app = create_app(sys.argv[1], threads=2, memory_limit='1GB', rate=1e6, burst=10**6); "
        "uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[2]), log_level='warning')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(root), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/api/3/action/datastore_search"
    mix = queries(n_rows)
    p50s: list[float] = []
    p95s: list[float] = []
    try:
        with requests.Session() as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    http.get(f"http://127.0.0.1:{port}/api/3/action/status_show", timeout=5)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("the API did not start") from None
                    time.sleep(0.2)
            rss0, _ = _memory(proc.pid)
            t = time.perf_counter()
            http.post(url, json=mix["first page"], timeout=300).raise_for_status()  # opens the dataset
            print(f"API started ({rss0} MB); first request {1000 * (time.perf_counter() - t):.0f} ms")
            for run in range(runs):
                load = load_average()
                all_ms: list[float] = []
                for name, body in mix.items():
                    ms = []
                    for _ in range(repeats):
                        t = time.perf_counter()
                        r = http.post(url, json=body, timeout=300)
                        ms.append((time.perf_counter() - t) * 1000)
                        r.raise_for_status()
                    all_ms += ms
                    total = r.json()["result"]["total"]
                    print(
                        f"  {name:28s} p50 {median(ms):7.1f} ms  p95 {p95(ms):7.1f} ms  (total {total:,})", flush=True
                    )
                p50s.append(median(all_ms))
                p95s.append(p95(all_ms))
                rss, hwm = _memory(proc.pid)
                print(
                    f"run {run + 1}: {len(all_ms)} requests, p50 {p50s[-1]:.1f} ms, p95 {p95s[-1]:.1f} ms; "
                    f"API process RSS {rss} MB (peak {hwm} MB); {load} before the run",
                    flush=True,
                )
            ms = []
            for _ in range(3):
                t = time.perf_counter()
                http.post(url, json=FULL_SORT, timeout=300).raise_for_status()
                ms.append((time.perf_counter() - t) * 1000)
            print(f"  outside the mix: unfiltered sort by flood_max over every row, median {median(ms):.0f} ms")
            rss, hwm = _memory(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(
        f"datastore_search on {n_rows:,} rows over HTTP, {runs} runs of {len(mix)} queries x {repeats}: "
        f"p50 {median(p50s):.1f} ms, p95 {median(p95s):.1f} ms (median of runs; p95 per run "
        f"{', '.join(f'{x:.0f}' for x in p95s)}); API process RSS {rss} MB, peak {hwm} MB "
        f"(DuckDB 2 threads, 1 GB limit); {load_average()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--cameras", type=int, default=1300)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "pantau-bench-cache")
    ap.add_argument("--verify", action="store_true", help="compare the day-added release with a full rebuild")
    ap.add_argument("--skip-release", action="store_true")
    ap.add_argument("--skip-api", action="store_true")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPUs; {load_average()}")
    with tempfile.TemporaryDirectory(prefix="pantau-bench-", dir=args.cache) as tmp:
        if not args.skip_release:
            bench_release(Path(tmp), args.cache, args.days, args.cameras, args.runs, args.verify)
        if not args.skip_api:
            bench_api(args.cache, args.rows, args.repeats, args.runs)


if __name__ == "__main__":
    main()

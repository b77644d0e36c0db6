"""Query time on a day of 30-second capture batches, before and after compaction (``warehouse.upkeep``).

Lands one day of micro-batches the way the landing sensor does (one lake commit per 30-second batch, so one
small Parquet file per batch in ``frames``), then times three typical reads on a fresh, attached read-only handle (median of
``--repeat`` runs each): the day's per-camera roll-up, one camera's last hour, and a point count. Then runs
``compact_lake`` (merge to the 64 MB target) and times the same reads again.

Run: ``.venv/bin/python bench/bench_compaction.py [--batches 2880] [--cameras 100] [--catalog sqlite]``
(2,880 batches = 24 h of 30 s; each batch holds 3 samples per camera, i.e. a 10 s capture interval).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.upkeep import compact_lake

DAY = datetime(2026, 11, 20, tzinfo=UTC)
QUERIES = {
    "day_rollup_per_camera": (
        "SELECT camera_id, count(*) AS n, count(*) FILTER (WHERE status = 'ok') AS ok, avg(decode_ms) AS decode_ms "
        "FROM frames WHERE captured_at >= ? AND captured_at < ? GROUP BY camera_id ORDER BY camera_id",
        [DAY, DAY + timedelta(days=1)],
    ),
    "one_camera_last_hour": (
        "SELECT captured_at, status, decode_ms FROM frames WHERE camera_id = ? AND captured_at >= ? "
        "ORDER BY captured_at",
        ["cam-0007", DAY + timedelta(hours=23)],
    ),
    "count_day": ("SELECT count(*) FROM frames WHERE captured_at >= ?", [DAY]),
}


def batch(i: int, cameras: int, rng: np.random.Generator) -> pa.Table:
    t0 = DAY + timedelta(seconds=30 * i)
    times = [t0 + timedelta(seconds=10 * k) for k in range(3) for _ in range(cameras)]
    n = len(times)
    return pa.table(
        {
            "camera_id": [f"cam-{c:04d}" for _ in range(3) for c in range(cameras)],
            "captured_at": pa.array(times, pa.timestamp("us", tz="UTC")),
            "batch_id": [f"b{i:05d}"] * n,
            "seq": np.arange(n, dtype=np.int64) + i * n,
            "status": np.where(rng.random(n) < 0.95, "ok", "offline").tolist(),
            "decode_ms": rng.gamma(2.0, 4.0, n),
            "width": np.full(n, 640, np.int32),
            "height": np.full(n, 360, np.int32),
        }
    )


def time_queries(cfg: LakeConfig, repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, (sql, params) in QUERIES.items():
        runs = []
        for _ in range(repeat):
            lake = Lake(cfg, read_only=True)  # a fresh handle: no cached file metadata
            try:
                lake.scalar("SELECT 1")  # attach (extension load, catalog attach) is not part of the query
                t = time.perf_counter()
                lake.query(sql, params)
                runs.append((time.perf_counter() - t) * 1000)
            finally:
                lake.close()
        out[name] = round(statistics.median(runs), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=2880)
    ap.add_argument("--cameras", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--root", type=Path, default=None)
    args = ap.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="pantau-bench-compaction-"))
    cfg = LakeConfig(root=root)
    lake = Lake(cfg)
    migrate(lake)
    rng = np.random.default_rng(7)
    t = time.perf_counter()
    for i in range(args.batches):
        lake.append("frames", batch(i, args.cameras, rng))
    land_s = time.perf_counter() - t
    rows = lake.scalar("SELECT count(*) FROM frames")
    files_before = lake.data_file_count("frames")
    lake.close()

    before = time_queries(cfg, args.repeat)
    lake = Lake(cfg)
    t = time.perf_counter()
    result = compact_lake(lake, tables=["frames"])
    compact_s = time.perf_counter() - t
    files_after = lake.data_file_count("frames")
    lake.close()
    after = time_queries(cfg, args.repeat)

    report = {
        "batches": args.batches,
        "rows": rows,
        "landing_s": round(land_s, 1),
        "files_before": files_before,
        "files_after": files_after,
        "compaction_s": round(compact_s, 1),
        "bytes_before": result[0]["bytes_before"] if result else None,
        "bytes_after": result[0]["bytes_after"] if result else None,
        "query_ms_before": before,
        "query_ms_after": after,
        "speedup": {k: round(before[k] / max(after[k], 0.01), 1) for k in before},
        "load_average": os.getloadavg(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

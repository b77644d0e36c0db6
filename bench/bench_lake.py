"""Lake throughput: append 1,000,000 rows x 10 columns, then a group-by over 10,000,000 rows.

Usage: python bench/bench_lake.py [--pg] [--rows N] [--groupby-rows N] [--runs K]
--pg runs the scale-out configuration (PostgreSQL catalog at 127.0.0.1:5432 + S3 on a loopback moto server).
Prints medians over K runs.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa

from warehouse.lake import Lake, LakeConfig, S3Config

DDL = (
    "CREATE TABLE bench (camera_id VARCHAR, captured_at TIMESTAMPTZ, fire DOUBLE, smoke DOUBLE, flood DOUBLE, "
    "crowd DOUBLE, persons INTEGER, motion DOUBLE, status VARCHAR, kelurahan_code VARCHAR)"
)


def make_batch(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    cams = np.array([f"cam-{i:04d}" for i in range(1300)])
    kel = np.array([f"31.7{i % 5 + 1}.0{i % 9 + 1}.100{i % 8 + 1}" for i in range(267)])
    t0 = np.datetime64("2026-11-01T00:00:00", "us")
    return pa.table(
        {
            "camera_id": cams[rng.integers(0, 1300, n)],
            "captured_at": pa.array(t0 + rng.integers(0, 30 * 86400 * 10**6, n).astype("timedelta64[us]"),
                                    pa.timestamp("us", tz="UTC")),
            "fire": rng.random(n), "smoke": rng.random(n), "flood": rng.random(n), "crowd": rng.random(n),
            "persons": rng.integers(0, 200, n).astype(np.int32), "motion": rng.random(n),
            "status": np.array(["ok", "offline", "frozen"])[rng.integers(0, 3, n)],
            "kelurahan_code": kel[rng.integers(0, 267, n)],
        }
    )  # fmt: skip


def pg_config(root: Path) -> tuple[LakeConfig, object]:
    import psycopg2
    from minio import Minio
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    bucket = "bench-" + uuid.uuid4().hex[:8]
    Minio(f"{host}:{port}", "k", "s", secure=False).make_bucket(bucket)
    db = "pantau_bench_" + uuid.uuid4().hex[:8]
    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{db}"')
    cfg = LakeConfig(
        catalog="postgres", root=root, postgres_dsn=f"host=127.0.0.1 dbname={db} user=postgres",
        s3=S3Config(f"{host}:{port}", "k", "s", bucket),
    )  # fmt: skip
    return cfg, server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--groupby-rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's request log
    mode = "postgres+s3" if args.pg else "embedded (sqlite catalog)"
    append_rates, gb_times = [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            server = None
            cfg = LakeConfig(root=Path(tmp))
            if args.pg:
                cfg, server = pg_config(Path(tmp))
            lake = Lake(cfg)
            lake.execute(DDL)
            batch = make_batch(args.rows, run)
            t = time.perf_counter()
            lake.append("bench", batch)
            dt = time.perf_counter() - t
            append_rates.append(args.rows / dt)
            # fill to groupby-rows with further 1M appends
            have = args.rows
            while have < args.groupby_rows:
                n = min(1_000_000, args.groupby_rows - have)
                lake.append("bench", make_batch(n, 1000 + have))
                have += n
            ro = Lake(cfg, read_only=True)
            t = time.perf_counter()
            ro.query(
                "SELECT kelurahan_code, date_trunc('hour', captured_at) AS h, count(*), max(fire), avg(persons) "
                "FROM bench GROUP BY ALL"
            )
            gb_times.append(time.perf_counter() - t)
            lake.close()
            ro.close()
            if server is not None:
                server.stop()  # type: ignore[attr-defined]
        print(f"run {run + 1}: append {append_rates[-1]:,.0f} rows/s, group-by {gb_times[-1]:.2f} s")
    print(f"[{mode}] append {args.rows:,} rows x 10 cols: median {statistics.median(append_rates):,.0f} rows/s")
    print(f"[{mode}] group-by over {args.groupby_rows:,} rows: median {statistics.median(gb_times):.2f} s")


if __name__ == "__main__":
    main()

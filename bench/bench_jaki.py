"""Jaki ingestion and mart benchmark.

Prints: generation time; ingest of N usage events (default 1,000,000) from CSV and from Parquet
into a fresh lake, validation included (vectorised row checks + Great Expectations table contract
on a sample, and GE on the full batch for comparison); mart refresh over D days (default 30).

    .venv/bin/python bench/bench_jaki.py [--events 1000000] [--days 30] [--day-events 200000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from ingest.jaki.ingest import JakiConfig, ingest_bytes
from marts.jaki import refresh_marts
from simulate.jaki import (
    JakiSimConfig,
    corrupt_export,
    days,
    generate_day,
    generate_usage_events,
    to_export_bytes,
)
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate


def _fresh_lake(root: Path) -> Lake:
    lake = Lake(LakeConfig(root=root))
    migrate(lake)
    return lake


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--day-events", type=int, default=200_000, help="usage events per day for the mart benchmark")
    ap.add_argument("--malformed", type=float, default=0.001)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other jobs share these CPUs)")
    salt = "bench-salt-not-secret"
    cfg = JakiConfig(salt=salt, ge_sample_rows=50_000)

    t = time.perf_counter()
    import great_expectations  # noqa: F401  (one-off import cost, reported separately)

    print(f"great_expectations import: {time.perf_counter() - t:.1f} s (once per process)")

    sim = JakiSimConfig(day=date(2026, 11, 23), usage_events=args.events)
    t = time.perf_counter()
    events = generate_usage_events(sim)
    print(f"generate {events.height:,} usage events: {time.perf_counter() - t:.2f} s")
    payloads = {}
    for fmt in ("csv", "parquet"):
        data, truth = corrupt_export(events, "usage_events", fmt, args.malformed, seed=1)  # type: ignore[arg-type]
        payloads[fmt] = (data, truth)

    with tempfile.TemporaryDirectory() as tmp:
        warm = _fresh_lake(Path(tmp) / "warm")  # warm GE context and caches outside the timed runs
        small = to_export_bytes(events.head(1000), "csv")
        ingest_bytes(warm, small, "usage_events", "warm.csv", cfg)
        warm.close()
        for fmt, (data, truth) in payloads.items():
            lake = _fresh_lake(Path(tmp) / fmt)
            t, cpu = time.perf_counter(), time.process_time()
            st = ingest_bytes(lake, data, "usage_events", f"usage.{fmt}", cfg)
            dt, dcpu = time.perf_counter() - t, time.process_time() - cpu
            print(
                f"ingest {fmt:7s}: {st.rows_read:,} rows in {dt:.2f} s wall, {dcpu:.2f} s CPU (all threads) "
                f"= {st.rows_read / dt:,.0f} rows/s "
                f"(read {st.seconds_read:.2f}, checks+hash {st.seconds_check:.2f}, GE sample {st.seconds_ge:.2f}, "
                f"write {st.seconds_write:.2f}); accepted {st.rows_accepted:,}, quarantined {st.rows_quarantined:,} "
                f"(injected {truth.count():,}), balanced={st.balanced}"
            )
            lake.close()
        data, truth = payloads["parquet"]
        lake = _fresh_lake(Path(tmp) / "full-ge")
        full = JakiConfig(salt=salt, ge_sample_rows=None)
        t = time.perf_counter()
        st = ingest_bytes(lake, data, "usage_events", "usage-full-ge.parquet", full)
        dt = time.perf_counter() - t
        print(
            f"ingest parquet with GE on all {st.ge_rows_validated:,} accepted rows: {dt:.2f} s "
            f"(GE {st.seconds_ge:.2f} s) = {st.rows_read / dt:,.0f} rows/s"
        )
        lake.close()

        if args.days <= 0:
            return
        lake = _fresh_lake(Path(tmp) / "marts")
        t = time.perf_counter()
        rows = 0
        for d in days(date(2026, 10, 1), args.days):
            day = generate_day(JakiSimConfig(day=d, usage_events=args.day_events, seed=d.toordinal()))
            for name, df in day.items():
                fmt = "parquet"
                st = ingest_bytes(
                    lake, to_export_bytes(df, fmt), name, f"{name}-{d}.{fmt}", JakiConfig(salt=salt, run_ge=False)
                )
                rows += st.rows_accepted
        print(
            f"loaded {args.days} days ({rows:,} rows, {args.day_events:,} usage events/day): {time.perf_counter() - t:.1f} s"
        )
        t = time.perf_counter()
        counts = refresh_marts(lake, date(2026, 10, 1), days(date(2026, 10, 1), args.days)[-1])
        print(f"mart refresh over {args.days} days: {time.perf_counter() - t:.2f} s -> {counts}")
        lake.close()


if __name__ == "__main__":
    main()

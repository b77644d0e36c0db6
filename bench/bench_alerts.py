"""Alerts benchmarks (embedded default: SQLite ops DB + DuckLake on a SQLite catalog).

1. Latency from frame capture to first delivery (p50/p95): a capture thread lands frame_scores
   micro-batches into the lake in real time, a sensor thread runs the urgent-alert cycle every
   ``--sensor-interval`` seconds (as the Dagster sensor does) and dispatches, and a signed webhook
   receiver on loopback timestamps each first delivery. Latency is measured both from the capture
   of the first hazard frame and from the frame that completed the confirmation.
2. Deliveries per second through the outbox to a webhook on loopback.

Usage: .venv/bin/python bench/bench_alerts.py [--incidents 12] [--sensor-interval 10] [--deliveries 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa

from alerts.channels import ChannelRegistry, WebhookPolicy, verify_webhook
from alerts.db import OpsDB
from alerts.engine import AlertEngine
from alerts.lifecycle import AlertLifecycle
from alerts.models import CameraInfo, Decision, Level
from alerts.outbox import Dispatcher, RetryPolicy
from alerts.subscriptions import SubscriptionSpec, add_subscription
from warehouse.lake import MIGRATIONS_DIR, Lake, LakeConfig
from warehouse.migrations import migrate

SECRET = "bench-secret"
POLICY = WebhookPolicy(allowed_schemes=("http",), allowlist=("127.0.0.1/32",))  # the loopback receivers
SCORES_DDL = (
    "CREATE TABLE IF NOT EXISTS frame_scores (camera_id VARCHAR, captured_at TIMESTAMPTZ, batch_id VARCHAR,"
    " fire DOUBLE, smoke DOUBLE, flood DOUBLE, flood_depth_class INTEGER, persons DOUBLE, crowd_density DOUBLE,"
    " crowd_level VARCHAR, crowd DOUBLE, motion DOUBLE, health VARCHAR, risk_level VARCHAR, risk_hazard VARCHAR,"
    " model_version VARCHAR, features VARCHAR)"
)
SCHEMA = pa.schema(
    [
        ("camera_id", pa.string()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("fire", pa.float64()),
        ("smoke", pa.float64()),
        ("flood", pa.float64()),
        ("crowd", pa.float64()),
        ("health", pa.string()),
    ]
)


class Receiver:
    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.payloads: dict[str, dict[str, Any]] = {}
        self.count = 0
        self.lock = threading.Lock()
        rx = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                key = verify_webhook(dict(self.headers.items()), body, SECRET, now)
                payload = json.loads(body)
                with rx.lock:
                    rx.count += 1
                    if key not in rx.first and payload.get("msg_type") == "Alert":
                        rx.first[key] = now
                        rx.payloads[key] = payload
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_lake(root: Path, cameras: int) -> None:
    mig = root / "migrations"
    mig.mkdir()
    for f in MIGRATIONS_DIR.glob("*.sql"):
        if f.name.startswith(("0001_", "04")):
            shutil.copy(f, mig / f.name)
    lake = Lake(LakeConfig(root=root / "data"))
    migrate(lake, mig)
    lake.execute(SCORES_DDL)
    cams = [
        {
            "camera_id": f"cam-{i:04d}",
            "name": f"CCTV {i}",
            "lat": -6.2 + i * 1e-3,
            "lon": 106.8,
            "kelurahan_code": "31.71.01.1001",
        }
        for i in range(cameras)
    ]
    lake.append("cameras", pa.Table.from_pylist(cams))
    lake.close()


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def bench_latency(args: argparse.Namespace, root: Path) -> None:
    make_lake(root, args.cameras)
    ops = OpsDB(f"sqlite:///{root / 'data' / 'ops.sqlite'}")
    rx = Receiver()
    add_subscription(
        ops,
        SubscriptionSpec(
            name="Gulkarmat", kind="agency", hazard="fire", channel="webhook", target=rx.url, secret=SECRET
        ),
        webhook_policy=POLICY,
    )
    rng = random.Random(7)
    t_start = time.time() + 2
    duration = args.incidents * args.incident_spacing + 20
    # incident k: camera k fires from start_k for 15 s
    incidents = {
        f"cam-{k:04d}": t_start + 5 + k * args.incident_spacing + rng.uniform(0, 3) for k in range(args.incidents)
    }
    stop = threading.Event()
    first_hazard: dict[str, float] = {}
    cycle_s: list[float] = []
    append_s: list[float] = []

    def capture() -> None:
        lake = Lake(LakeConfig(root=root / "data"))
        last = time.time()
        while not stop.is_set():
            stop.wait(args.batch_interval)
            now = time.time()
            rows = []
            t = last
            while t + args.frame_interval <= now:  # one frame per camera per frame_interval
                t += args.frame_interval
                for i in range(args.cameras):
                    cid = f"cam-{i:04d}"
                    start = incidents.get(cid)
                    burning = start is not None and start <= t < start + 15
                    if burning and cid not in first_hazard:
                        first_hazard[cid] = t
                    rows.append(
                        {
                            "camera_id": cid,
                            "captured_at": datetime.fromtimestamp(t, UTC),
                            "fire": 0.9 if burning else 0.05,
                            "smoke": 0.0,
                            "flood": 0.0,
                            "crowd": 0.0,
                            "health": "ok",
                        }
                    )
            last = t
            if rows:
                t_append = time.monotonic()
                lake.append("frame_scores", pa.Table.from_pylist(rows, schema=SCHEMA))
                append_s.append(time.monotonic() - t_append)
        lake.close()

    def sensor() -> None:
        lake = Lake(LakeConfig(root=root / "data"), read_only=True)
        engine = AlertEngine(ops, lake)
        channels = ChannelRegistry.default(webhook_policy=POLICY)
        d = Dispatcher(ops, channels, RetryPolicy(), concurrency=4)
        cursor = None
        while not stop.is_set():
            t0 = time.monotonic()
            res = engine.run_cycle(cursor)
            cursor = res.cursor
            d.run_until_idle()
            cycle_s.append(time.monotonic() - t0)
            stop.wait(max(0.0, args.sensor_interval - (time.monotonic() - t0)))
        d.close()
        lake.close()

    threads = [threading.Thread(target=capture), threading.Thread(target=sensor)]
    for th in threads:
        th.start()
    deadline = time.time() + duration + 30
    while time.time() < deadline and len(rx.first) < args.incidents:
        time.sleep(0.5)
    stop.set()
    for th in threads:
        th.join()
    rx.close()
    from_first, from_confirm = [], []
    for key, arrived in rx.first.items():
        p = rx.payloads[key]
        cam = p["camera"]["camera_id"]
        confirmed_at = datetime.fromisoformat(p["evidence"]["captured_at"]).timestamp()
        from_confirm.append(arrived - confirmed_at)
        from_first.append(arrived - first_hazard[cam])
    print(
        f"latency, embedded default (SQLite ops DB, DuckLake/SQLite), {len(rx.first)}/{args.incidents} incidents delivered"
    )
    print(
        f"  settings: frame every {args.frame_interval}s/camera, {args.cameras} cameras, micro-batch every {args.batch_interval}s, sensor every {args.sensor_interval}s, confirm 3 frames"
    )
    if from_first:
        print(
            f"  first hazard frame -> first delivery:      p50 {statistics.median(from_first):6.2f} s   p95 {pct(from_first, 0.95):6.2f} s   max {max(from_first):6.2f} s"
        )
        print(
            f"  confirming frame   -> first delivery:      p50 {statistics.median(from_confirm):6.2f} s   p95 {pct(from_confirm, 0.95):6.2f} s   max {max(from_confirm):6.2f} s"
        )
    if cycle_s:
        print(
            f"  sensor cycle (read lake + rules + transitions + dispatch): p50 {statistics.median(cycle_s):5.2f} s  p95 {pct(cycle_s, 0.95):5.2f} s  ({len(cycle_s)} cycles)"
        )
        print(
            f"  landing a micro-batch into the lake:                       p50 {statistics.median(append_s):5.2f} s  p95 {pct(append_s, 0.95):5.2f} s"
        )
    ops.dispose()


def bench_throughput(args: argparse.Namespace, root: Path, url: str | None = None) -> None:
    ops = OpsDB(url or f"sqlite:///{root / 'tput.sqlite'}")
    rx = Receiver()
    subs = 20
    for i in range(subs):
        add_subscription(
            ops,
            SubscriptionSpec(
                name=f"s{i}", kind="agency", hazard="fire", channel="webhook", target=rx.url, secret=SECRET
            ),
            webhook_policy=POLICY,
        )
    lc = AlertLifecycle(ops, validate=False)
    n_alerts = max(1, args.deliveries // subs)
    t0 = time.perf_counter()
    now = datetime.now(UTC) - timedelta(seconds=1)
    for i in range(n_alerts):
        lc.apply(
            Decision(f"cam-{i}", "fire", "open", Level.SIAGA, now, "bench", {"score": 0.8}),
            CameraInfo(f"cam-{i}", lat=-6.2, lon=106.8),
        )
    t_enqueue = time.perf_counter() - t0
    total = n_alerts * subs
    for conc in args.concurrency:
        if conc != args.concurrency[0]:  # re-arm the same rows for the next run
            from alerts.db import deliveries_t

            with ops.begin() as conn:
                conn.execute(deliveries_t.update().values(state="pending", next_attempt_at=now, sent_at=None))
        d = Dispatcher(ops, ChannelRegistry.default(webhook_policy=POLICY), RetryPolicy(), concurrency=conc)
        t0 = time.perf_counter()
        st = d.run_until_idle(limit=200)
        dt = time.perf_counter() - t0
        d.close()
        print(
            f"outbox -> loopback webhook ({ops.engine.dialect.name}), concurrency {conc:2d}: {st.sent}/{total} sent in {dt:.2f} s = {st.sent / dt:7.1f} deliveries/s"
        )
    print(
        f"  (enqueue: {n_alerts} alert transitions with CAP + {total} outbox rows in {t_enqueue:.2f} s = {total / t_enqueue:.0f} rows/s)"
    )
    rx.close()
    ops.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=12)
    ap.add_argument("--incident-spacing", type=float, default=6.0)
    ap.add_argument("--cameras", type=int, default=50)
    ap.add_argument("--frame-interval", type=float, default=1.0)
    ap.add_argument("--batch-interval", type=float, default=2.0)
    ap.add_argument("--sensor-interval", type=float, default=10.0)
    ap.add_argument("--deliveries", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--postgres-url", default=None, help="also measure the outbox on PostgreSQL (an empty database)")
    ap.add_argument("--skip-latency", action="store_true")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pantau-bench-alerts-"))
    try:
        if not args.skip_latency:
            bench_latency(args, root)
        bench_throughput(args, root)
        if args.postgres_url:
            bench_throughput(args, root, args.postgres_url)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

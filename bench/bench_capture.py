"""Capture capacity of one worker process: per-frame cost, sustained cameras at 1 frame / 10 s, memory/camera.

Run: ``.venv/bin/python bench/bench_capture.py [--quick]``

1. Per-frame cost of fetch + decode + health (+ pass-through analyzer; + the vision CameraAnalyzer when it is
   importable) for JPEG snapshots over loopback HTTP at 640x360 and 1280x720, single thread; frames/s per core =
   1 / CPU seconds per frame of this process (the server runs in another process).
2. Sustained load: ``run_worker`` with N cameras at ``--interval`` seconds (same samples/s as 5x as many cameras at
   10 s), for several N; a load is sustained when >= 95 % of the due samples were taken. Reported as cameras at
   one frame per 10 s.
3. Memory per camera: RSS growth per camera between a small and a large worker (readers, health state, analyzer).

Frames come from a separate server process that serves pre-rendered simulator frames (``SimCamera``), so the
renderer does not eat the worker's CPU. The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = textwrap.dedent(
    """
    import sys, cv2, itertools, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from simulate.scene import SimCamera
    w, h = int(sys.argv[1]), int(sys.argv[2])
    cam = SimCamera("bench", seed=3, width=w, height=h, fps=10)
    frames = [cv2.imencode(".jpg", cam.frame_at(t / 10)[0], [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
              for t in range(20)]
    counter = itertools.count()
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def do_GET(self):
            body = frames[next(counter) % len(frames)]
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    srv.request_queue_size = 1024
    print(srv.server_address[1], flush=True)
    srv.serve_forever()
    """
)


def start_server(w: int, h: int) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(w), str(h)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def per_frame(base: str, n: int) -> dict[str, float]:
    from ingest.cameras.health import CameraHealth
    from ingest.cameras.passthrough import PassthroughAnalyzer
    from ingest.cameras.readers import open_stream

    reader = open_stream(f"{base}/cam/x.jpg", "snapshot", connect_timeout_s=5, read_timeout_s=10)
    health = CameraHealth()
    ana = PassthroughAnalyzer("x")
    out: dict[str, float] = {}
    for _ in range(3):  # warm-up
        ana.process(reader.read(), time.time(), "ok")
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        reader.read()
    c1 = time.process_time()
    for _ in range(n):
        f = reader.read()
        health.observe_frame(f, time.time())
    c2 = time.process_time()
    for _ in range(n):
        f = reader.read()
        s = health.observe_frame(f, time.time())
        ana.process(f, time.time(), s.status)
    c3, w3 = time.process_time(), time.perf_counter()
    out["fetch_decode_ms"] = (c1 - c0) / n * 1000
    out["fetch_decode_health_ms"] = (c2 - c1) / n * 1000
    out["with_passthrough_ms"] = (c3 - c2) / n * 1000
    out["wall_ms"] = (w3 - w0) / (3 * n) * 1000
    try:
        from ingest.cameras.passthrough import default_analyzer_factory

        real = default_analyzer_factory()("x")
        if type(real).__name__ != "PassthroughAnalyzer":
            for _ in range(3):
                real.process(reader.read(), time.time(), "ok")
            c4 = time.process_time()
            for _ in range(n):
                f = reader.read()
                s = health.observe_frame(f, time.time())
                real.process(f, time.time(), s.status)
            out["with_vision_ms"] = (time.process_time() - c4) / n * 1000
    except Exception as exc:  # the vision pipeline is optional here
        print(f"  (vision analyzer not measured: {exc})")
    from privacy import blur_image

    f = reader.read()
    blur_image(f)  # loads CenterFace
    c5 = time.process_time()
    for _ in range(max(3, n // 10)):
        blur_image(f)
    out["public_copy_blur_ms"] = (time.process_time() - c5) / max(3, n // 10) * 1000
    reader.close()
    return out


def sustained(base: str, n_cams: int, interval_s: float, duration_s: float, analyzer: str) -> dict[str, float]:
    import io
    import tempfile

    import pyarrow.parquet as pq

    from ingest.cameras.passthrough import PassthroughAnalyzer, default_analyzer_factory
    from ingest.cameras.registry import CameraSpec
    from ingest.cameras.worker import WorkerConfig, run_worker
    from warehouse.object_store import LocalObjectStore

    cams = [CameraSpec(f"c{i:05d}", f"{base}/cam/c{i}.jpg", "snapshot") for i in range(n_cams)]
    warmup = 2 * interval_s
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalObjectStore(tmp)
        t_start = time.time()
        c0, w0 = time.process_time(), time.perf_counter()
        stats = run_worker(
            cams,
            store,
            interval_s=interval_s,
            flush_every_s=10.0,
            max_runtime_s=warmup + duration_s,
            analyzer_factory=PassthroughAnalyzer if analyzer == "passthrough" else default_analyzer_factory(),
            config=WorkerConfig(max_threads=32, keyframe_every_s=1e9, read_timeout_s=10),
            blur=None,
        )
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        ts = []
        for o in store.list("landing/"):
            ts += [
                t.timestamp()
                for t in pq.read_table(io.BytesIO(store.get_bytes(o.key))).column("captured_at").to_pylist()
            ]
    # steady state: after the warm-up (first samples create analyzers, connections), before the tail
    t_run = min(ts) if ts else t_start  # the loop starts after the worker's one-time warm-up
    lo, hi = t_run + warmup, t_run + warmup + duration_s - interval_s
    taken = sum(1 for t in ts if lo <= t < hi)
    due = n_cams * (hi - lo) / interval_s
    return {
        "samples": taken,
        "due": round(due),
        "ratio": taken / max(due, 1),
        "ok": stats.statuses.get("ok", 0),
        "cpu_util": cpu / wall,
        "rss_mb": rss_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--interval", type=float, default=2.0, help="sampling interval of the load test (s)")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--steps", type=str, default="", help="comma-separated camera counts for the load test")
    ap.add_argument(
        "--analyzer",
        choices=["auto", "passthrough"],
        default="auto",
        help="auto = the vision CameraAnalyzer when importable",
    )
    args = ap.parse_args()
    n = 20 if args.quick else 60
    print(f"load average before: {os.getloadavg()}  cpus: {os.cpu_count()}")

    print("\n1) per frame, single thread, JPEG snapshot over loopback HTTP (CPU ms of the worker process)")
    for w, h in ((640, 360), (1280, 720)):
        proc, base = start_server(w, h)
        try:
            r = per_frame(base, n)
        finally:
            proc.terminate()
            proc.wait()
        fps = 1000 / r["fetch_decode_health_ms"]
        line = ", ".join(f"{k}={v:.2f}" for k, v in r.items())
        print(f"  {w}x{h}: {line}  -> fetch+decode+health {fps:.0f} frames/s per core")

    print(
        f"\n2) sustained load, 640x360, analyzer {args.analyzer}, interval {args.interval}s, {args.duration:.0f}s/step"
    )
    proc, base = start_server(640, 360)
    best = 0
    try:
        steps = (
            [int(x) for x in args.steps.split(",")]
            if args.steps
            else ([25, 50] if args.quick else [50, 75, 100, 150, 200, 300])
        )
        rss0 = rss_mb()
        small = None
        for nc in steps:
            r = sustained(base, nc, args.interval, args.duration, args.analyzer)
            eq10 = int(nc * 10 / args.interval)
            ok = r["ratio"] >= 0.95
            print(
                f"  {nc:4d} cameras @ {args.interval}s (= {eq10:5d} @ 10s): {r['samples']}/{r['due']} samples "
                f"({r['ratio']:.0%}), worker CPU {r['cpu_util']:.2f} cores, RSS {r['rss_mb']:.0f} MB "
                f"{'SUSTAINED' if ok else 'falls behind'}"
            )
            if ok:
                best = max(best, eq10)
            if small is None:
                small = (nc, r["rss_mb"])
            last = (nc, r["rss_mb"])
            if not ok:
                break
    finally:
        proc.terminate()
        proc.wait()
    print(f"\n  => one worker process sustains about {best} cameras at 1 frame / 10 s on this machine")

    print("\n3) memory per camera (state kept between samples)")
    import numpy as np

    from ingest.cameras.health import CameraHealth
    from ingest.cameras.passthrough import PassthroughAnalyzer, default_analyzer_factory
    from ingest.cameras.readers import open_stream

    factory = PassthroughAnalyzer if args.analyzer == "passthrough" else default_analyzer_factory()
    frame = np.random.default_rng(0).integers(0, 255, (360, 640, 3), dtype=np.uint8)
    n_mem = 300
    factory("warm").process(frame, 0.0, "ok")
    before = rss_mb()
    keep = []
    for i in range(n_mem):
        h = CameraHealth()
        a = factory(str(i))
        for t in range(5):
            s = h.observe_frame(frame, float(t))
            a.process(frame, float(t), s.status)
        keep.append((h, a, open_stream(f"http://127.0.0.1:9/c{i}.jpg", "snapshot")))
    per_cam_kb = (rss_mb() - before) * 1024 / n_mem
    print(f"  per-camera state (health + {type(a).__name__} + idle reader): {per_cam_kb:.1f} KB")
    if small is not None and last[0] > small[0]:
        grow = (last[1] - small[1]) * 1024 / (last[0] - small[0])
        print(f"  RSS growth per camera in the load test (incl. in-flight buffers): {grow:.1f} KB (base {rss0:.0f} MB)")
    print(f"\nload average after: {os.getloadavg()}")
    del keep


if __name__ == "__main__":
    main()

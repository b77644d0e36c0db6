"""Fetch + decode (+ health) throughput of the stream readers against the simulator over loopback HTTP.

Run: .venv/bin/python bench/bench_stream_decode.py [--seconds 4] [--cameras 4]

The simulator (SimServer) runs in a separate process so the figures are the reader side only: for each protocol
(snapshot, MJPEG) and size (640x360, 1280x720) the client reads frames from several cameras round-robin for a fixed
time and reports wall frames/s and *CPU* per frame of the reading process, i.e. frames/s per core = 1000 / cpu_ms.
If ``ingest.cameras.health`` exists, a second pass adds ``CameraHealth.observe_frame`` per frame. It also prints
simulator render rates (frames/s per core for ``SimCamera.render`` and ``frame_at``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from typing import Any

SIZES = [(640, 360), (1280, 720)]


def _serve(q: Any, stop: Any, n: int) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from simulate.scene import SimCamera
    from simulate.servers import SimServer

    cams = []
    for w, h in SIZES:
        cams += [SimCamera(f"c{w}-{i}", seed=i, width=w, height=h, fps=25.0) for i in range(n)]
    with SimServer(cams) as srv:
        q.put(srv.port)
        stop.wait()


def _health_factory() -> Any:
    try:
        from ingest.cameras.health import CameraHealth
    except ImportError:
        return None
    return CameraHealth


def bench_protocol(port: int, kind: str, w: int, n: int, seconds: float, health_cls: Any) -> dict[str, float]:
    from ingest.cameras.readers import open_stream

    suffix = {"snapshot": "snapshot.jpg", "mjpeg": "mjpeg?fps=25"}[kind]
    readers = [
        open_stream(f"http://127.0.0.1:{port}/cam/c{w}-{i}/{suffix}", kind, connect_timeout_s=5, read_timeout_s=10)
        for i in range(n)
    ]
    healths = [health_cls() for _ in range(n)] if health_cls is not None else None
    for r in readers:  # connect + warm up
        r.read()
    frames = 0
    fetch_ms = decode_ms = 0.0
    c0, t0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for i, r in enumerate(readers):
            img = r.read()
            fetch_ms += r.last_fetch_ms
            decode_ms += r.last_decode_ms
            if healths is not None:
                healths[i].observe_frame(img, time.time())
            frames += 1
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    for r in readers:
        r.close()
    return {
        "frames": frames,
        "wall_fps": frames / wall,
        "cpu_ms": 1000.0 * cpu / frames,
        "fps_per_core": frames / cpu if cpu > 0 else float("inf"),
        "decode_ms": decode_ms / frames,
    }


def bench_render(seconds: float) -> None:
    from simulate.scene import Incident, Script, SimCamera

    script = Script(incidents=(Incident("fire", 0.0), Incident("crowd", 0.0, ramp_s=5.0, peak=60)))
    for w, h in SIZES:
        for label, sc in (("street", Script()), ("fire+crowd", script)):
            cam = SimCamera("r", seed=1, width=w, height=h, fps=25.0, script=sc)
            for fn_name in ("render", "frame_at"):
                fn = getattr(cam, fn_name)
                k = 0
                c0 = time.process_time()
                while time.process_time() - c0 < seconds / 4:
                    fn(10.0 + k / 25.0)
                    k += 1
                cpu = time.process_time() - c0
                print(f"  simulator {w}x{h} {label:10s} {fn_name:8s}: {k / cpu:7.1f} frames/s per core")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--cameras", type=int, default=4)
    args = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    ctx = mp.get_context("spawn")
    q, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(q, stop, args.cameras), daemon=True)
    proc.start()
    port = q.get(timeout=60)
    health_cls = _health_factory()
    print(f"stream fetch+decode, {args.cameras} cameras round-robin, {args.seconds:.0f} s each, cv2 threads=1")
    print(
        f"{'protocol':9s} {'size':9s} {'health':6s} {'frames':>6s} {'wall fps':>9s} {'cpu ms/f':>9s} {'fps/core':>9s} {'decode ms (wall)':>16s}"
    )
    try:
        for w, h in SIZES:
            for kind in ("snapshot", "mjpeg"):
                for hc in (None, health_cls) if health_cls is not None else (None,):
                    res = bench_protocol(port, kind, w, args.cameras, args.seconds, hc)
                    print(
                        f"{kind:9s} {w}x{h:<5d} {'yes' if hc else 'no':6s} {res['frames']:6.0f} {res['wall_fps']:9.1f} "
                        f"{res['cpu_ms']:9.2f} {res['fps_per_core']:9.1f} {res['decode_ms']:16.2f}"
                    )
                    if hc is not None:
                        per_core = res["fps_per_core"]
                        print(
                            f"{'':26s}-> at 1 frame / 10 s: ~{per_core * 10:.0f} cameras per core (fetch+decode+health)"
                        )
    finally:
        stop.set()
        proc.join(timeout=10)
    bench_render(args.seconds)


if __name__ == "__main__":
    main()

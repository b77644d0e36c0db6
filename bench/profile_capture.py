"""Where the capture path spends its CPU: ``bench_scale.py`` under py-spy, CPU-ms per sample by stage.

Runs ``bench/bench_scale.py`` for one camera count with one capture worker, samples the worker process and
the ingesting bench process with py-spy (``pip install py-spy``; not a project dependency), drops stacks
that wait (socket reads, queue and lock waits, fsync), and splits the worker's measured CPU-ms per sample
by stage: HTTP fetch, JPEG decode, health checks, scoring (``analytics/vision``: the detectors), keyframes,
landing (Arrow + Parquet + store) and the sampling loop. Ingestion is measured by the bench itself.

The split applies the busy samples' shares to the CPU the bench measured, less the start-up samples' share
(imports and model sessions of each camera's first sample), so it approximates the steady state.

Run: ``.venv/bin/python bench/profile_capture.py [--cameras 300 --duration 60]``
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# the first rule that matches a frame, walking from the innermost frame outwards, names the stage
STAGES: list[tuple[str, Callable[[str], bool]]] = [
    ("scoring (analytics/vision, detectors)", lambda f: "analytics/vision/" in f),
    ("health checks", lambda f: "ingest/cameras/health.py" in f),
    ("keyframes (JPEG encode + store)", lambda f: "_keyframes" in f),
    ("landing (Arrow + Parquet + store)", lambda f: "CaptureWorker.flush" in f),
    ("JPEG decode", lambda f: "decode_jpeg" in f or "imdecode" in f),
    ("HTTP fetch", lambda f: "readers/http.py" in f or "requests/" in f or "urllib3/" in f or "http/client" in f),
    ("sampling loop and threads", lambda f: "ingest/cameras/" in f),
]
# innermost frames that wait rather than compute
WAITS = ("SocketIO.readinto", "Condition.wait", "_worker (concurrent/futures/thread.py:8", "Event.wait", "select")
WAIT_CALLS = ("put_bytes (warehouse/object_store.py", "create_connection", "time.sleep", "Thread.join")
# one-off work of a camera's first sample (imports, ONNX session creation): left out of the per-sample split
STARTUP = ("importlib._bootstrap", "_create_inference_session")


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy not found: pip install py-spy (into this virtual environment)")
    return found


def stage_shares(raw: Path) -> tuple[dict[str, float], int, int, int]:
    """(share of busy samples per stage, busy, waiting and start-up samples) of a py-spy raw profile."""
    busy: collections.Counter[str] = collections.Counter()
    waiting = startup = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        leaf = frames[-1] if frames else ""
        if leaf.startswith(WAITS) or any(w in leaf for w in WAIT_CALLS):
            waiting += n
            continue
        if any(s in f for f in frames for s in STARTUP):
            startup += n
            continue
        stage = next((name for f in reversed(frames) for name, rule in STAGES if rule(f)), "other (interpreter)")
        busy[stage] += n
    total = sum(busy.values()) or 1
    return {k: v / total for k, v in busy.most_common()}, sum(busy.values()), waiting, startup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cameras", type=int, default=300)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--rate", type=int, default=50, help="py-spy samples per second")
    args = ap.parse_args()
    spy = py_spy()
    out = Path(tempfile.mkdtemp(prefix="pantau-profile-"))
    cmd = [sys.executable, str(REPO / "bench" / "bench_scale.py"), "--cameras", str(args.cameras), "--workers", "1"]
    bench = subprocess.Popen(
        [*cmd, "--duration", str(args.duration)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    worker = None
    deadline = time.monotonic() + 180
    while worker is None and time.monotonic() < deadline and bench.poll() is None:
        for child in Path(f"/proc/{bench.pid}/task").glob("*/children"):
            for pid in child.read_text().split():
                if "run_worker" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                    worker = int(pid)
        time.sleep(0.5)
    if worker is None:
        bench.kill()
        raise SystemExit("the capture worker did not start")
    time.sleep(min(10.0, args.duration / 4))  # past start-up (model loading, first connections)
    seconds = str(int(args.duration * 0.6))
    spies = [
        subprocess.Popen([spy, "record", "-p", str(pid), "-d", seconds, "-r", str(args.rate), "-f", "raw", "-o",
                          str(out / f"{name}.txt"), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, pid in (("worker", worker), ("bench", bench.pid))
    ]  # fmt: skip
    stdout, _ = bench.communicate()
    for s in spies:
        s.wait(timeout=60)
    result = next(json.loads(line) for line in stdout.splitlines() if line.startswith("{"))
    shares, busy, waiting, startup = stage_shares(out / "worker.txt")
    cpu_ms = float(result["capture_cpu_ms_per_sample"])
    ingest_ms = float(result["ingest_cpu_ms_per_row"])
    one, five, _ = os.getloadavg()
    print(
        f"{args.cameras} cameras, {result['achieved_pct']} % of samples, load average {result['load_avg']} "
        f"(now {one:.1f}, {five:.1f}); worker profile: {busy} busy samples; left out: {waiting} waiting, "
        f"{startup} start-up (imports, model sessions)"
    )
    steady = cpu_ms * busy / max(busy + startup, 1)  # the start-up share of the measured CPU, taken out
    print(f"{'stage':42s} {'share':>6s} {'CPU-ms/sample':>14s}")
    for stage, share in shares.items():
        print(f"{stage:42s} {100 * share:5.1f}% {share * steady:14.2f}")
    print(f"{'start-up (imports, model sessions)':42s} {'':6s} {cpu_ms - steady:14.2f}")
    print(f"{'lake ingestion (bench process, measured)':42s} {'':6s} {ingest_ms:14.2f}")
    detectors = shares.get("scoring (analytics/vision, detectors)", 0.0) * steady
    print(
        f"steady state {steady + ingest_ms:.2f} CPU-ms per sample (capture {steady:.2f} + ingestion {ingest_ms:.2f}); "
        f"without the detectors {steady + ingest_ms - detectors:.2f}; whole run incl. start-up {cpu_ms + ingest_ms:.2f}"
    )
    if os.environ.get("PANTAU_PROFILE_KEEP"):
        print(f"raw profiles kept in {out}")
    else:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()

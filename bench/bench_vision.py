"""Vision benchmark: full scoring path (all detectors + learned head + risk fusion) frames/s per core, and the
memory of one camera's temporal state.

Run: .venv/bin/python bench/bench_vision.py [--frames 200] [--cameras 20]
Pins onnxruntime/OpenCV to one thread so the figure is per core. Frames are realistic synthetic street scenes
(moving blobs over a textured road) at 640x360 and 1280x720, round-robin over several cameras.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np

from analytics.vision.pipeline import CameraAnalyzer


def frames_for(w: int, h: int, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.normal(100, 20, (h // 8, w // 8, 3)).clip(0, 255).astype(np.uint8)
    base = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    out = []
    for i in range(n):
        img = base.copy()
        for k in range(6):
            x = int((i * 7 * (k + 1) + k * 90) % (w - 60))
            cv2.rectangle(img, (x, h // 2 + k * 20), (x + 50, h // 2 + k * 20 + 25), (40 * k, 80, 200 - 20 * k), -1)
        out.append((img.astype(np.int16) + rng.integers(-3, 4, img.shape)).clip(0, 255).astype(np.uint8))
    return out


def bench(w: int, h: int, n_frames: int, n_cams: int) -> tuple[float, float]:
    """-> (frames/s by wall clock, frames/s by this process's CPU time = per busy core)."""
    cams = [CameraAnalyzer(f"cam-{i}") for i in range(n_cams)]
    frames = frames_for(w, h, 16, 0)
    for i, cam in enumerate(cams):  # warm-up (also loads the ONNX sessions)
        for j in range(4):
            cam.process(frames[(i + j) % len(frames)], float(j))
    t0, c0 = time.perf_counter(), time.process_time()
    for k in range(n_frames):
        cams[k % n_cams].process(frames[k % len(frames)], 100.0 + k)
    return n_frames / (time.perf_counter() - t0), n_frames / (time.process_time() - c0)


def head_cost(w: int, h: int, n: int = 40) -> float:
    """CPU ms of one backbone + heads run on a w x h frame (the learned stage; the analyzer runs it on every
    ``head_every``-th frame of a camera, every QUIET_HEAD_EVERY-th on quiet frames)."""
    from analytics.vision.head import load_heads, run_heads

    heads = load_heads()
    img = frames_for(w, h, 1, 2)[0]
    run_heads([img], heads)
    c0 = time.process_time()
    for _ in range(n):
        run_heads([img], heads)
    return 1000.0 * (time.process_time() - c0) / n


def state_memory(n_frames: int = 20) -> tuple[int, int]:
    cam = CameraAnalyzer("mem")
    frames = frames_for(640, 360, n_frames, 1)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i, f in enumerate(frames):
        cam.process(f, float(i))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    traced = sum(s.size_diff for s in after.compare_to(before, "filename"))
    return cam.memory_bytes(), traced


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--cameras", type=int, default=20)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (shared machine)")
    for w, h in ((640, 360), (1280, 720)):
        print(f"{w}x{h}: backbone + heads {head_cost(w, h):.2f} ms CPU per run")
        wall, cpu = bench(w, h, args.frames, args.cameras)
        print(
            f"{w}x{h}: {cpu:.1f} frames/s per core by CPU time ({1000.0 / cpu:.2f} ms CPU/frame); "
            f"{wall:.1f} frames/s wall clock; {args.cameras} cameras round-robin"
        )
    arrays, traced = state_memory()
    print(
        f"temporal state per camera: {arrays / 1024:.0f} KiB in arrays (traced growth incl. risk/histories: {traced / 1024:.0f} KiB)"
    )
    print(f"5,000 cameras: {5000 * arrays / 2**30:.2f} GiB of state")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

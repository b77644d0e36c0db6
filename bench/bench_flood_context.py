"""Flood context benchmark: time to Awas for a simulated street flood, with and without a water gate at Siaga.

Run: .venv/bin/python bench/bench_flood_context.py [--step 5] [--seed 7]

The simulator's street camera floods (no rain, nobody complained); its frames are scored by the real vision
pipeline (``CameraAnalyzer``) twice: once with no context, once with the water-gate context the capture worker
passes when a gate upstream reads Siaga. Context is evidence, never a veto: without it the image evidence alone
must still reach Awas; with it confirmation is shorter. Prints seconds from the incident's start to Awas.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from analytics.vision.pipeline import CameraAnalyzer
from simulate.evaluate import capture_health, sim_camera, sim_vision_config

INCIDENT_START_S = 20.0
GATE_CONTEXT = {"flood": "water gate Pintu Air Manggarai at Siaga 2 (Posko Banjir)"}


def time_to_awas(context: dict[str, str] | None, step_s: float, seed: int, duration_s: float) -> float | None:
    cam = sim_camera("bench-flood", {"incidents": [("flood", INCIDENT_START_S, 60.0, 200.0)]}, seed, 640, 360)
    an = CameraAnalyzer("bench-flood", sim_vision_config())
    health = capture_health()
    for t in np.arange(0.0, duration_s, step_s):
        img, _truth = cam.frame_at(float(t))
        fs = an.process(img, float(t), health=health(img, float(t)), context=context)
        if fs.level_flood == "Awas":
            return float(t) - INCIDENT_START_S
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--step", type=float, default=5.0, help="seconds between sampled frames")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--duration", type=float, default=200.0)
    args = ap.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, ctx in (("no context (no rain, no complaint, no gate)", None), ("water gate at Siaga", GATE_CONTEXT)):
        t0 = time.perf_counter()
        tta = time_to_awas(ctx, args.step, args.seed, args.duration)
        took = time.perf_counter() - t0
        shown = "never" if tta is None else f"{tta:.0f} s"
        print(f"time to Awas, {label}: {shown} after the flood starts (1 frame / {args.step:g} s; {took:.1f} s CPU)")


if __name__ == "__main__":
    main()

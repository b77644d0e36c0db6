"""Vehicle counts of the road_users detector: accuracy and cost per frame.

Run: .venv/bin/python bench/bench_vehicle_counts.py [--images ../shared/data/vision] [--seeds 7,11,23]

1. Simulator ground truth: each seed's street scene (cars, angkot, buses, motorbikes in four lanes) sampled every
   2.5 s over 100 s through a CameraAnalyzer in time order; the per-frame ``vehicles`` count against the scene's
   ``vehicles`` truth (MAE, mean truth, mean count, Pearson r).
2. Labelled CC BY 4.0 images (optional, ``--images``): the traffic-camera (atl) and Indonesian road (hwy) images of
   the shared set with YOLO vehicle boxes; count per class (car, motorcycle, bus/truck) against the boxes. The
   images used are written with their provenance (source repository, commit, licence) to ``--provenance``. The
   count heads were fitted on these sources, so this figure is in-sample: the out-of-source figure is
   ``pantau eval PATH --by-source``.
3. Cost per frame: the counts read the scene head's backbone run of the same frame; the script times the detector on
   a frame whose head result is cached (its own cost) and the whole scoring path with it.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np

from analytics.vision.frame import Frame
from analytics.vision.head import head_outputs
from analytics.vision.pipeline import CameraAnalyzer, score_image
from analytics.vision.road_users import RoadUserDetector
from analytics.vision.state import CameraState
from simulate.scene import SimCamera

# YOLO class ids of the two traffic sources of the shared set (its README) -> count class
BOXES: dict[str, dict[int, str | None]] = {
    "atl": {0: "motorcycle", 1: "bus_truck", 2: "car", 3: "bus_truck"},
    "hwy": {0: "bus_truck", 1: "car", 2: "motorcycle", 3: None, 4: "bus_truck"},
}
CLASSES = ("car", "motorcycle", "bus_truck")


def simulator(seeds: list[int], duration_s: float = 100.0, step_s: float = 2.5) -> None:
    truth: list[float] = []
    pred: list[float] = []
    for seed in seeds:
        cam = SimCamera(f"sim-{seed}", seed=seed, width=640, height=360)
        an = CameraAnalyzer(f"sim-{seed}")
        t = 0.0
        while t < duration_s:
            img, gt = cam.render(t)
            an.process(img, t)
            feats = an.score_frame(Frame(img, t))["road_users"].features
            truth.append(float(gt.vehicles))
            pred.append(float(feats["vehicles"]))
            t += step_s
    y, p = np.array(truth), np.array(pred)
    r = float(np.corrcoef(y, p)[0, 1]) if y.std() > 0 and p.std() > 0 else math.nan
    print(
        f"simulator ({len(y)} frames, seeds {','.join(map(str, seeds))}): vehicles MAE {np.abs(y - p).mean():.2f}, "
        f"mean truth {y.mean():.2f}, mean count {p.mean():.2f}, Pearson r {r:.2f}"
    )


def labelled(root: Path, provenance: Path) -> None:
    rows = list(csv.DictReader((root / "MANIFEST.csv").open(newline="", encoding="utf-8")))
    used: list[dict[str, str]] = []
    err: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        tag = Path(r["file"]).name.split("_", 1)[0]
        if tag not in BOXES or not r.get("boxes_file"):
            continue
        boxes = root / r["boxes_file"]
        img = cv2.imread(str(root / r["file"]))
        if img is None or not boxes.exists():
            continue
        truth = dict.fromkeys(CLASSES, 0.0)
        for line in boxes.read_text().splitlines():
            parts = line.split()
            if parts:
                cls = BOXES[tag].get(int(float(parts[0])))
                if cls:
                    truth[cls] += 1
        got = score_image(img)
        per = err.setdefault(tag, {c: [] for c in (*CLASSES, "vehicles", "truth")})
        for c in CLASSES:
            per[c].append(abs(got[c] - truth[c]))
        per["vehicles"].append(abs(got["vehicles"] - sum(truth.values())))
        per["truth"].append(sum(truth.values()))
        used.append({k: r[k] for k in ("file", "source_repo", "source_path", "commit", "license")})
    provenance.parent.mkdir(parents=True, exist_ok=True)
    with provenance.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["file", "source_repo", "source_path", "commit", "license"])
        w.writeheader()
        w.writerows(used)
    for tag, per in sorted(err.items()):
        n = len(per["vehicles"])
        print(
            f"labelled {tag} ({n} images, in-sample): MAE car {np.mean(per['car']):.2f}, motorcycle "
            f"{np.mean(per['motorcycle']):.2f}, bus/truck {np.mean(per['bus_truck']):.2f}, all vehicles "
            f"{np.mean(per['vehicles']):.2f} (mean {np.mean(per['truth']):.1f} vehicles/image)"
        )
    print(f"images used and their provenance: {provenance}")


def cost(n: int = 200) -> None:
    cam = SimCamera("cost", seed=3, width=640, height=360)
    frames = [cam.render(i * 0.5)[0] for i in range(16)]
    det, state = RoadUserDetector(), CameraState()
    cached = [Frame(f, float(i)) for i, f in enumerate(frames)]
    for fr in cached:
        head_outputs(fr)  # the scene head's backbone run, which the full path does anyway
    c0 = time.process_time()
    for k in range(n):
        det.score(cached[k % len(cached)], state)
    own = (time.process_time() - c0) / n * 1000
    c0 = time.process_time()
    for k in range(n // 4):
        head_outputs(Frame(frames[k % len(frames)], 1000.0 + k))
    head = (time.process_time() - c0) / (n // 4) * 1000
    an = CameraAnalyzer("cost-full")
    for j in range(4):
        an.process(frames[j], float(j))
    c0 = time.process_time()
    for k in range(n // 2):
        an.process(frames[k % len(frames)], 10.0 + k)
    full = (time.process_time() - c0) / (n // 2) * 1000
    print(
        f"cost per 640x360 frame (CPU ms, one thread): counts on top of the head {own:.3f}; "
        f"backbone + heads alone {head:.1f}; whole scoring path incl. counts {full:.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=Path, default=None, help="the shared vision set (MANIFEST.csv, labels/)")
    ap.add_argument("--provenance", type=Path, default=Path(__file__).parent / "data" / "vehicle_eval_set.csv")
    ap.add_argument("--seeds", default="7,11,23")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (shared machine)")
    simulator([int(s) for s in args.seeds.split(",")])
    if args.images is not None:
        labelled(args.images, args.provenance)
    cost()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

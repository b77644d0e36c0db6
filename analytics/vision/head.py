"""Pantau's shipped learned heads (ONNX, trained by the scripts in analytics/vision/training/).

* ``scene_cnn.onnx``: EfficientNet-Lite0 features (ImageNet, frozen) + linear heads -> scene probabilities and
  log1p(person count). Image input 128 x 128 RGB, (x - 127) / 128.
  Its optional ``log_people`` output (``training/train_count.py``) is log(persons) *given that people are present*,
  calibrated for relative error by ``count_calibration.json`` (``people = c * exp(log_people) ** b``).
* ``scene_head.onnx`` / ``count_head.onnx``: MLPs on the hand-crafted colour/texture descriptor.

The scene probabilities are the mean of the two models (an ensemble of a pretrained CNN and colour/texture
statistics). The person count starts from the mean of both count heads in log space (trained on empty roads too:
it tells "nobody" from "people"); where that count sees people (>= 1.5) the calibrated people count takes over,
blended in linearly from 0.5 persons. Either model alone is used when the other is missing.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from analytics.vision.base import frame_cache
from analytics.vision.frame import Frame
from analytics.vision.plugins import OnnxPlugin, load_plugin

log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent / "models"
SCENE_CLASSES = ("fire", "smoke", "flood", "crowd", "normal")
CNN_SIZE = 128
CNN_WEIGHT = 0.5


@dataclass(frozen=True)
class PeopleCalibration:
    """``people = c * n ** b`` for the CNN's people count n; ``max_trained``: the largest count it was fitted on."""

    b: float = 1.0
    c: float = 1.0
    max_trained: float = math.inf

    def __call__(self, n: float) -> float:
        return self.c * max(n, 0.0) ** self.b


@dataclass
class _Heads:
    scene: OnnxPlugin | None
    count: OnnxPlugin | None
    cnn: ort.InferenceSession | None
    people: PeopleCalibration | None = None


def _people_calibration(d: Path, cnn: ort.InferenceSession | None) -> PeopleCalibration | None:
    if cnn is None or "log_people" not in {o.name for o in cnn.get_outputs()}:
        return None
    path = d / "count_calibration.json"
    if not path.is_file():
        return PeopleCalibration()
    cal = json.loads(path.read_text())
    return PeopleCalibration(float(cal["b"]), float(cal["c"]), float(cal.get("train_count_range", [0, math.inf])[1]))


def people_count_range(models_dir: Path = MODELS_DIR) -> float:
    """Largest person count the shipped count heads were trained on (inf when unknown): beyond it, a count from
    the heads is an extrapolation and foreground-area density is the better estimate."""
    heads = _heads(str(models_dir))
    return heads.people.max_trained if heads.people is not None else math.inf


@functools.lru_cache(maxsize=4)
def _heads(models_dir: str) -> _Heads:
    d = Path(models_dir)
    scene = count = None
    cnn = None
    try:
        scene, count = load_plugin(d / "scene_head.json"), load_plugin(d / "count_head.json")
    except FileNotFoundError as exc:
        log.warning("descriptor heads unavailable (%s)", exc)
    if (d / "scene_cnn.onnx").is_file():
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        cnn = ort.InferenceSession(str(d / "scene_cnn.onnx"), sess_options=opts, providers=["CPUExecutionProvider"])
    return _Heads(scene, count, cnn, _people_calibration(d, cnn))


def cnn_input(bgr: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (1, 3, 128, 128) float32 RGB normalised as (x - 127) / 128."""
    sq = cv2.resize(bgr, (CNN_SIZE, CNN_SIZE), interpolation=cv2.INTER_AREA)
    x = (sq[..., ::-1].astype(np.float32) - 127.0) * (1.0 / 128.0)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def head_outputs(frame: Frame, models_dir: Path = MODELS_DIR) -> dict[str, float]:
    """Scene probabilities (fire, smoke, flood, crowd, normal) and ``count`` (persons) for a frame; NaN when no
    shipped weights are found. Cached per frame (the analyzer may also pre-fill the cache from a recent frame)."""
    cache = frame_cache(frame)
    got = cache.get("head")
    if isinstance(got, dict):
        return got
    heads = _heads(str(models_dir))
    out = {k: math.nan for k in (*SCENE_CLASSES, "count")}
    desc_p = heads.scene.raw(frame) if heads.scene is not None else None
    if heads.cnn is not None:
        names = ["probs", "log_count", "log_people"] if heads.people is not None else ["probs", "log_count"]
        got = heads.cnn.run(names, {"image": cnn_input(frame.bgr)})
        probs, log_count = got[0], got[1]
        for i, k in enumerate(SCENE_CLASSES):
            p = float(probs[0, i])
            out[k] = p if desc_p is None else CNN_WEIGHT * p + (1.0 - CNN_WEIGHT) * desc_p[k]
        lc = max(0.0, float(log_count[0, 0]))
        if heads.count is not None:  # ensemble in log space with the descriptor count head
            lc = 0.5 * lc + 0.5 * float(np.log1p(max(0.0, heads.count.raw(frame)["count"])))
        n0 = float(np.expm1(lc))
        if heads.people is not None:  # where the heads see people, the calibrated people count takes over
            w = min(1.0, max(0.0, n0 - 0.5))
            n0 = (1.0 - w) * n0 + w * heads.people(float(np.exp(got[2][0, 0])))
        out["count"] = n0
    elif desc_p is not None:
        out.update(desc_p)
        if heads.count is not None:
            out["count"] = heads.count.raw(frame)["count"]
    cache["head"] = out
    return out

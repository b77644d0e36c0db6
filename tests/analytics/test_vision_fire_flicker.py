"""Fire/smoke false positives on normal streets: orange facades, lane lines, lamps, vehicles, rain, background
ghosts (regression).

Each case is a synthetic 640x360 street sequence (1 frame per second) with flame-coloured things that are not
fire. Before the fix, colour toggles at the edges of orange facades / yellow lane lines (sensor noise, vehicles
crossing the line, rain streaks) counted as "flicker" anywhere in the frame and a flicker floor of 0.5 held the
score at 0.5-0.7; the first frames of a stream (no history) scored on the learned head alone (0.5-0.6 at
night). A real flickering flame must still score high.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from vision_synth import flame_blob

from analytics.vision import detectors
from analytics.vision.base import FrameMaps
from analytics.vision.detectors import fire_blobs
from analytics.vision.frame import Frame
from analytics.vision.pipeline import CameraAnalyzer

W, H = 640, 360
N = 24
WARM = 7  # frames before the temporal evidence settles (the analyzer's risk warm-up)

ORANGE = (40, 140, 240)  # BGR facade / bus
YELLOW = (30, 200, 230)  # BGR lane line


def base_street(night: bool = False) -> np.ndarray:
    """(360, 640, 3) street: orange and other facades on top, grey road with a thin yellow centre line."""
    img = np.full((H, W, 3), (40, 30, 20) if night else (200, 170, 120), np.uint8)
    cols = [ORANGE, (150, 150, 150), ORANGE, (90, 160, 90), ORANGE]
    for i, c in enumerate(cols):
        x0 = i * 128
        cv2.rectangle(img, (x0, 60), (x0 + 120, 180), c, -1)
        for wx in range(x0 + 10, x0 + 110, 25):
            cv2.rectangle(img, (wx, 80), (wx + 12, 100), (60, 60, 60), -1)
    img[180:] = (90, 90, 90)
    cv2.rectangle(img, (0, 268), (W, 271), YELLOW, -1)  # 4 px line: about 1 px at the working size
    if night:  # orange sodium lamps with a glow
        for x in (100, 350, 600):
            cv2.circle(img, (x, 50), 22, (60, 170, 255), -1)
    return img


def sensor(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    return (img.astype(np.float32) + rng.normal(0, sigma, img.shape)).clip(0, 255).astype(np.uint8)


def sequence(kind: str, seed: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    night = kind in ("night_lamps", "night_flicker_fire")
    base = base_street(night)
    out = []
    for i in range(N):
        img = base.copy()
        if kind == "vehicles_over_lane_line":
            for lane, speed in ((250, 90), (262, -70)):
                x = (40 + speed * i) % (W + 200) - 100
                cv2.rectangle(img, (x, lane), (x + 90, lane + 40), (50, 50, 60), -1)
        elif kind == "moving_orange_bus":
            x = -150 + 45 * i
            cv2.rectangle(img, (x, 200), (x + 150, 250), ORANGE, -1)
            cv2.rectangle(img, (x + 10, 205), (x + 140, 220), (70, 60, 50), -1)
        elif kind == "rain_over_parked_orange_bus":
            cv2.rectangle(img, (200, 200), (380, 255), ORANGE, -1)
            for _ in range(260):
                x, y = int(rng.integers(0, W)), int(rng.integers(0, H - 12))
                cv2.line(img, (x, y), (x + 2, y + 12), (210, 210, 210), 1)
        elif kind == "pedestrians_before_facades":
            for k in range(6):
                x = int((60 + 110 * k + 8 * i * (1 if k % 2 else -1)) % W)
                cv2.rectangle(img, (x, 140), (x + 10, 200), (30, 30, 150), -1)
        elif kind in ("flicker_fire", "night_flicker_fire") and i >= 4:
            img = flame_blob(img, rng, (300, 150), 60)
        out.append(sensor(img, rng, 8.0 if night else 4.0))
    return out


@pytest.mark.parametrize(
    ("kind", "fire_high"),
    [
        ("quiet_day", False),
        ("night_lamps", False),
        ("vehicles_over_lane_line", False),
        ("moving_orange_bus", False),
        ("rain_over_parked_orange_bus", False),
        pytest.param(
            "pedestrians_before_facades",
            False,
            marks=pytest.mark.xfail(
                strict=True,
                reason="known limit: thin figures walking in front of an orange facade blend with its colour at "
                "160x90 and still read as in-place flicker (needs occluder tracking)",
            ),
        ),
        ("flicker_fire", True),
        ("night_flicker_fire", True),
    ],
)
def test_fire_score_on_streams(kind: str, fire_high: bool) -> None:
    an = CameraAnalyzer("cam-fire-regression")
    scores = [an.process(f, float(i)).fire for i, f in enumerate(sequence(kind))]
    if fire_high:
        assert np.median(scores[WARM:]) >= 0.5, scores
    else:  # every frame, the first ones (no history yet: head only) included
        assert max(scores) < 0.3, scores


@pytest.mark.parametrize(
    ("kind", "expect_blob"),
    [
        ("vehicles_over_lane_line", False),
        ("rain_over_parked_orange_bus", False),
        ("quiet_day", False),
        ("flicker_fire", True),
    ],
)
def test_fire_blobs_in_place_flicker(kind: str, expect_blob: bool) -> None:
    """The per-blob flicker: thin lines, noise and occlusions give none; a flame gives a strong one."""
    frames = [FrameMaps.of(Frame(f)) for f in sequence(kind)[4:12]]
    fp = np.zeros(frames[0].flame.shape, np.float32)
    best = []
    for prev, cur in itertools.pairwise(frames):
        fp += 0.35 * (prev.flame.astype(np.float32) - fp)
        blobs = fire_blobs(cur.flame, fp, cur.gray, prev.flame, prev.gray)
        best.append(max((b.flicker for b in blobs), default=0.0))
    if expect_blob:
        assert np.mean(best) > 0.6, best
    else:
        assert max(best) < 0.2, best


def ghost_sequence(seed: int = 5) -> list[np.ndarray]:
    """A street whose first frames show parked vehicles that then drive off (the young background keeps
    their ghosts), with traffic passing afterwards."""
    rng = np.random.default_rng(seed)
    base = base_street()
    out = []
    for i in range(N):
        img = base.copy()
        for k, x0 in enumerate((40, 230, 420)):
            x = x0 + (0 if i < 3 else 60 * (i - 2) * (1 if k % 2 else -1))
            cv2.rectangle(img, (x, 200 + 30 * k), (x + 120, 240 + 30 * k), (200, 200, 205), -1)
            cv2.rectangle(img, (x + 10, 205 + 30 * k), (x + 110, 215 + 30 * k), (40, 40, 40), 2)
        out.append(sensor(img, rng, 4.0))
    return out


@pytest.mark.parametrize(
    ("settle_frames", "expect_alarm"),
    [
        (None, False),  # shipped setting: smoke waits for the background to settle
        # without the settle guard too: a drive-off ghost changes the scene with a sharp outline (smoke-v2 checks
        # the border of every candidate region), where smoke-v1 read it as grey, edge-softening smoke
        (0, False),
    ],
)
def test_smoke_ignores_young_background_ghosts(
    monkeypatch: pytest.MonkeyPatch, settle_frames: int | None, expect_alarm: bool
) -> None:
    if settle_frames is not None:
        monkeypatch.setattr(detectors, "SMOKE_SETTLE_FRAMES", settle_frames)
    an = CameraAnalyzer("cam-smoke-ghosts")
    scores = [an.process(f, float(i)).smoke for i, f in enumerate(ghost_sequence())]
    assert (max(scores) >= 0.5) == expect_alarm, scores

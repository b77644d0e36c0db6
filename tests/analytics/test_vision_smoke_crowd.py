"""Smoke as a soft, spreading, semi-transparent veil (and what is not smoke); crowd counts of dense, occluding
crowds under ground-plane perspective; the relative-error calibration of the people count."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from vision_synth import H, W, noisy, street

from analytics.vision.config import CameraVisionConfig
from analytics.vision.head import PeopleCalibration
from analytics.vision.pipeline import CameraAnalyzer, FrameScores
from analytics.vision.training.train_count import fit_power_calibration, mape, weighted_median

N_FRAMES = 22
EVENT = 8  # the event starts after the background has settled (SMOKE_SETTLE_FRAMES)


def sky_street(seed: int) -> np.ndarray:
    """(180, 320, 3) street with a blue sky band on top (the synthetic street of vision_synth below it)."""
    img = street(seed)
    sky = np.linspace(0, 1, 40, dtype=np.float32)[:, None, None]
    img[:40] = (np.array([215, 160, 95]) * (1 - sky) + np.array([235, 210, 180]) * sky).astype(np.uint8)
    return img


def veil(img: np.ndarray, alpha: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    a = alpha[..., None]
    return (img.astype(np.float32) * (1 - a) + np.array(colour, np.float32) * a).clip(0, 255).astype(np.uint8)


def smoke_case(kind: str, seed: int = 2) -> list[np.ndarray]:
    """Frames of one case; the event grows from frame EVENT on."""
    rng = np.random.default_rng(seed)
    base = sky_street(seed)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    out = []
    for i in range(N_FRAMES):
        img = base.copy()
        k = i - EVENT
        if k >= 0 and kind == "soft_plume":  # rises from a roof, spreads and drifts right, semi-transparent
            cx, cy = 120 + 4 * k, 70 - 2 * k
            sx, sy = 14 + 3 * k, 12 + 2 * k
            dens = np.exp(-((xx - cx) ** 2) / (2 * sx * sx) - ((yy - cy) ** 2) / (2 * sy * sy))
            img = veil(img, np.minimum(0.75, 0.8 * dens), (185, 185, 182))
        elif k >= 0 and kind == "grey_wall":  # a grey truck parks in front: hard edges and its own outline
            cv2.rectangle(img, (90, 95), (230, 150), (150, 150, 152), -1)
            cv2.rectangle(img, (100, 102), (220, 118), (60, 60, 60), 2)
        elif k >= 0 and kind == "overcast":  # the blue sky turns grey
            img[:40] = veil(img[:40], np.full((40, W), min(0.9, 0.15 * (k + 1)), np.float32), (200, 200, 200))
        elif k >= 0 and kind == "dusk":  # the whole scene darkens a little (exposure)
            img = (img.astype(np.float32) * (1 - 0.03 * k)).astype(np.uint8)
        out.append(noisy(img, rng, 3.0))
    return out


def run(frames: list[np.ndarray], config: CameraVisionConfig | None = None) -> list[FrameScores]:
    an = CameraAnalyzer("cam-smoke", config)
    return [an.process(f, float(i) * 2.0) for i, f in enumerate(frames)]


@pytest.mark.parametrize(
    ("kind", "expect_smoke"),
    [
        ("soft_plume", True),  # soft, semi-transparent, spreading: smoke
        ("grey_wall", False),  # grey but hard-edged, adds edges: a vehicle or a wall
        pytest.param(
            "overcast",
            False,
            marks=pytest.mark.xfail(
                strict=True,
                reason="known limit: a sky turning grey up to the roofline looks like a veil over a flat background "
                "(the roofline step is too soft at 160x90 to count as an outline)",
            ),
        ),  # the sky greys uniformly up to a hard roofline: weather
        ("dusk", False),  # a global brightness change
        ("quiet", False),
    ],
)
def test_smoke_is_a_soft_veil(kind: str, expect_smoke: bool) -> None:
    scores = [s.smoke for s in run(smoke_case(kind))]
    tail = scores[-4:]
    if expect_smoke:
        assert min(tail) >= 0.5, scores
    else:
        assert max(scores[EVENT:]) < 0.5, scores


def test_smoke_plume_is_flagged_as_it_grows() -> None:
    """The plume is recognised within a few frames of appearing and keeps the background from learning it."""
    scores = run(smoke_case("soft_plume"))
    first = next(i for i, s in enumerate(scores) if s.smoke >= 0.5)
    assert EVENT <= first <= EVENT + 8  # it must first cover about 2 % of the view for 3 frames
    assert all(s.smoke >= 0.5 for s in scores[first + 2 :])


def person(img: np.ndarray, x: int, feet: int, shirt: tuple[int, ...]) -> None:
    """A standing figure whose height follows the ground-plane perspective (0.18 H at the bottom, 0 at y = 0)."""
    h = 0.18 * feet
    w = max(2, int(0.14 * h))
    cv2.line(img, (x - w // 2, int(feet - 0.45 * h)), (x - w // 2, feet), (50, 45, 40), max(1, w // 2))
    cv2.line(img, (x + w // 2, int(feet - 0.45 * h)), (x + w // 2, feet), (50, 45, 40), max(1, w // 2))
    cv2.rectangle(img, (x - w, int(feet - 0.82 * h)), (x + w, int(feet - 0.45 * h)), shirt, -1)
    cv2.circle(img, (x, int(feet - 0.9 * h)), max(1, int(0.085 * h)), (80, 120, 170), -1)


def crowd_frames(n_people: int, seed: int = 4) -> list[np.ndarray]:
    """A quiet street, then ``n_people`` gather on the pavement and the near lanes and stand (swaying)."""
    rng = np.random.default_rng(seed)
    base = street(seed)
    ground = int(0.55 * H)
    base[ground:] = cv2.GaussianBlur(base[ground:], (0, 0), 2.0)  # paving: finer than the camera resolves
    spots = [(int(rng.normal(0.45, 0.2) * W), int(rng.uniform(0.7, 0.98) * H)) for _ in range(n_people)]
    spots = [(min(W - 4, max(4, x)), y) for x, y in spots]
    shirts = [tuple(int(c) for c in rng.integers(20, 240, 3)) for _ in range(n_people)]
    spots.sort(key=lambda p: p[1])  # far first: nearer people occlude them
    out = []
    for i in range(16):
        img = base.copy()
        if i >= 6:
            for j, (x, y) in enumerate(spots[: n_people * (i - 5) // 4]):
                person(img, x + int(2 * math.sin(i + j)), y, shirts[j])
        out.append(noisy(img, rng, 2.0))
    return out


#: the figures drawn above cover about 0.25 % of the frame when their feet are at the bottom: the camera's
#: calibration (CameraVisionConfig.person_area_frac), as a city would measure it on one of its cameras
FIGURES = CameraVisionConfig(person_area_frac=0.0025)


@pytest.mark.parametrize(("n_people", "tolerance"), [(0, 3.0), (12, 0.5), (40, 0.3), (80, 0.35)])
def test_crowd_count_under_perspective(n_people: int, tolerance: float) -> None:
    """Dense, occluding crowds are counted within tolerance (relative; absolute persons for an empty street)."""
    scores = run(crowd_frames(n_people), FIGURES)
    got = float(np.mean([s.persons for s in scores[-3:]]))
    if n_people == 0:
        assert got <= tolerance, got
    else:
        assert abs(got - n_people) / n_people <= tolerance, (got, n_people)


def test_dense_crowd_raises_crowd_risk_and_fruin_level() -> None:
    cfg = CameraVisionConfig(walk_roi=((0, 0.6), (1, 0.6), (1, 1), (0, 1)), walk_area_m2=40.0, person_area_frac=0.0025)
    last = run(crowd_frames(80), cfg)[-1]
    assert last.crowd >= 0.5
    assert last.crowd_level in ("C", "D", "E", "F")  # ~2 persons per m^2 of pavement
    assert last.risk_hazard == "crowd"


@pytest.mark.parametrize(
    ("values", "weights", "median"),
    [([1, 2, 3], [1, 1, 1], 2), ([1, 2, 3], [10, 1, 1], 1), ([1, 2, 3], [1, 1, 10], 3), ([5.0], [2.0], 5.0)],
)
def test_weighted_median(values: list[float], weights: list[float], median: float) -> None:
    assert weighted_median(np.array(values, float), np.array(weights, float)) == median


@pytest.mark.parametrize(
    ("n", "y", "b", "c"),
    [
        ([1, 2, 4, 8], [2, 4, 8, 16], 1.0, 2.0),  # a pure rescaling is found exactly
        ([1, 4, 9, 16], [3, 6, 9, 12], 0.5, 3.0),  # a power law too
        ([1, 5, 9, 2], [3, 3, 3, 3], 0.0, 3.0),  # uninformative heads: the constant
    ],
)
def test_power_calibration_is_mape_optimal(n: list[float], y: list[float], b: float, c: float) -> None:
    bb, cc, err = fit_power_calibration(np.array(n, float), np.array(y, float))
    assert (bb, cc) == (pytest.approx(b), pytest.approx(c))
    assert err == pytest.approx(0.0, abs=1e-9)


def test_mape_prefers_the_lower_weighted_median() -> None:
    """For counts 3 (x3) and 6 (x2) the MAPE-optimal constant is 3, not the mean or the median of the logs."""
    y = np.array([3, 3, 3, 6, 6], float)
    c = weighted_median(y, 1.0 / y)
    assert c == 3.0
    assert mape(np.full_like(y, c), y) < mape(np.full_like(y, float(np.exp(np.log(y).mean()))), y)


@pytest.mark.parametrize(("b", "c", "n", "out"), [(1.0, 1.0, 7.0, 7.0), (0.5, 2.0, 16.0, 8.0), (0.0, 3.0, 50.0, 3.0)])
def test_people_calibration(b: float, c: float, n: float, out: float) -> None:
    assert PeopleCalibration(b, c)(n) == pytest.approx(out)

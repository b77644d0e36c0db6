"""Smoke as a soft, spreading, semi-transparent veil (and what is not smoke); crowd counts of dense, occluding
crowds under ground-plane perspective; the relative-error (MAPE) scale of the count head."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from vision_synth import H, W, noisy, street

from analytics.vision.config import CameraVisionConfig
from analytics.vision.detectors import CrowdDetector
from analytics.vision.features import gradient_magnitude
from analytics.vision.pipeline import CameraAnalyzer, FrameScores
from analytics.vision.training.loso import mape_scale

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
    ("pred", "true", "scale"),
    [
        ([1, 2, 4, 8], [2, 4, 8, 16], 2.0),  # a pure rescaling is found exactly
        ([3, 3, 3, 3], [3, 3, 3, 6], 1.0),  # MAPE prefers the lower counts' ratio (weighted median, not mean)
        ([1, 1, 1], [5, 5, 5], 5.0),
    ],
)
def test_mape_scale_is_mape_optimal(pred: list[float], true: list[float], scale: float) -> None:
    p, t = np.array(pred, float), np.array(true, float)
    c = mape_scale(p, t)
    assert c == pytest.approx(scale)
    mape = float(np.mean(np.abs(c * p - t) / t))
    for other in (0.8 * c, 1.25 * c):
        assert mape <= float(np.mean(np.abs(other * p - t) / t)) + 1e-12


def vehicle(img: np.ndarray, x: int, ground: int, kind: str, colour: tuple[int, ...], night: bool) -> None:
    """A side view of a car, bus or motorbike with rider whose size follows the same perspective as ``person``."""
    s = ground / H
    length, height = {"car": (0.16, 0.09), "bus": (0.34, 0.17), "motorbike": (0.07, 0.05)}[kind]
    ln, ht = int(length * W * s), int(height * H * s)
    wheel = max(2, int(0.02 * H * s))
    top = ground - ht
    cv2.rectangle(img, (x, top), (x + ln, ground - wheel), colour, -1)
    if kind == "bus":
        for wx in range(x + 3, x + ln - 8, max(6, ln // 6)):
            cv2.rectangle(img, (wx, top + 2), (wx + max(3, ln // 8), top + ht // 3), (100, 80, 60), -1)
    elif kind == "car":
        cv2.rectangle(img, (x + ln // 4, top - ht // 2), (x + 3 * ln // 4, top), colour, -1)
        cv2.rectangle(img, (x + ln // 4 + 2, top - ht // 2 + 2), (x + 3 * ln // 4 - 2, top), (90, 70, 50), -1)
    else:  # the rider sits on the motorbike
        cv2.rectangle(img, (x + ln // 3, top - 2 * ht), (x + 2 * ln // 3, top), (60, 60, 90), -1)
        cv2.circle(img, (x + ln // 2, top - 2 * ht - 2), max(2, wheel), (30, 30, 200), -1)
    for wx in (x + ln // 5, x + 4 * ln // 5):
        cv2.circle(img, (wx, ground - wheel), wheel, (15, 15, 15), -1)
    if night:  # headlight and its glare, tail light
        glow = np.zeros_like(img)
        cv2.circle(glow, (x + ln, ground - ht // 2), max(4, 2 * wheel), (200, 240, 255), -1)
        img[:] = cv2.add(img, cv2.GaussianBlur(glow, (0, 0), 3.0))
        cv2.circle(img, (x, ground - ht // 2), max(1, wheel // 2), (30, 30, 230), -1)


def traffic_frames(case: str, n_people: int, seed: int = 5, n_frames: int = 24) -> list[np.ndarray]:
    """A street with three lanes of traffic (cars, buses, motorbikes with riders) and ``n_people`` pedestrians on
    the pavement, one frame every ~2 s. ``night``: dark, lit by headlights; ``jam``: the traffic stops for a while
    (stop-and-go) and moves on."""
    rng = np.random.default_rng(seed)
    base = street(seed)
    ground = int(0.55 * H)
    base[ground:] = cv2.GaussianBlur(base[ground:], (0, 0), 2.0)
    night = case == "night"
    if night:
        base = (base.astype(np.float32) * 0.3).astype(np.uint8)
    lanes = (int(0.68 * H), int(0.8 * H), int(0.92 * H))
    kinds = ("car", "car", "bus", "motorbike", "motorbike", "car")
    cars = [
        (lane, float(rng.uniform(-0.3, 1.0) * W), kinds[int(rng.integers(len(kinds)))], rng.integers(30, 230, 3))
        for lane in lanes
        for _ in range(4)
    ]
    speed = {lanes[0]: 55.0, lanes[1]: -70.0, lanes[2]: 90.0}  # px per frame at 320 wide
    walkers = [(float(rng.uniform(0.05, 0.95) * W), float(rng.choice([-6.0, 6.0]))) for _ in range(n_people)]
    out = []
    pos = 0.0
    for i in range(n_frames):
        moving = not (case == "jam" and 8 <= i < 16)  # stopped for 8 frames
        pos += 1.0 if moving else 0.0
        img = base.copy()
        for lane, x0, kind, col in sorted(cars, key=lambda c: c[0]):
            span = W * 1.4
            x = int((x0 + pos * speed[lane]) % span - 0.3 * W)
            colour = tuple(int(c * (0.35 if night else 1.0)) for c in col)
            vehicle(img, x, lane, kind, colour, night)
        for j, (x, v) in enumerate(walkers):
            shirt = (40, 40, 180) if j % 2 else (200, 200, 200)
            person(
                img,
                int(x + v * i) % W,
                int(0.99 * H) - 2 * (j % 3),
                tuple(int(c * (0.4 if night else 1)) for c in shirt),
            )
        out.append(noisy(img, rng, 4.0 if night else 2.0))
    return out


@pytest.mark.parametrize(
    ("case", "n_people"),
    [
        ("day", 3),  # a busy street: lanes of vehicles merge into large foreground blobs
        ("day", 0),  # traffic only (motorbike riders are not pedestrians)
        ("night", 2),  # headlights and their glare
        ("jam", 3),  # stop-and-go: a queue of vehicles stands still for 8 frames, then drives on
    ],
)
def test_traffic_is_not_a_crowd(case: str, n_people: int) -> None:
    """Ordinary traffic with a few pedestrians: the count stays within about twice the truth (+2) and the crowd
    score below the Waspada alert score (0.6) on every frame."""
    scores = run(traffic_frames(case, n_people), FIGURES)
    crowd = [s.crowd for s in scores]
    persons = [s.persons for s in scores[6:]]
    assert max(crowd) < 0.6, crowd
    assert float(np.mean(persons)) <= 2 * n_people + 2, persons
    assert max(persons) <= 3 * n_people + 4, persons


@pytest.mark.parametrize(
    ("stripes", "head_agree", "counted"),
    [
        ("vertical", 0.0, True),  # upright texture (legs, torsos, gaps between people): a crowd
        ("horizontal", 0.0, False),  # roofs, windows, bumpers: a lane of vehicles
        ("horizontal", 1.0, True),  # ...unless the learned head sees a crowd there
        ("horizontal", 0.5, True),  # partly
    ],
)
def test_merged_blob_counts_when_upright_or_head_agrees(stripes: str, head_agree: float, counted: bool) -> None:
    gray = np.zeros((90, 160), np.float32)
    rows, cols = np.mgrid[0:90, 0:160]
    pattern = (cols // 2) % 2 if stripes == "vertical" else (rows // 2) % 2
    gray[55:85, 60:100] = 0.2 + 0.5 * pattern[55:85, 60:100]
    grad, gx, _ = gradient_magnitude(gray)
    fg = np.zeros((90, 160), bool)
    fg[55:85, 60:100] = True  # a merged blob (not solid-wide: a solid wide blob is a vehicle anyway)
    bc = CrowdDetector().blob_count(fg, fg, grad, np.zeros_like(grad), gx, head_agree)
    full = CrowdDetector().blob_count(fg, fg, grad, np.zeros_like(grad))
    assert bc.n_single == 0 and full.merged > 5.0
    if not counted:
        assert bc.merged == 0.0 and bc.crowdlike == 0.0
    elif head_agree == 0.5:
        assert bc.merged == pytest.approx(0.5 * full.merged)
    else:
        assert bc.merged == pytest.approx(full.merged)

"""Simulator: determinism, shapes, ground-truth progression, incidents and faults visible in the pixels."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from simulate.scenario import demo_scenario, load_sites
from simulate.scene import Fault, GroundTruth, Incident, Script, SimCamera, depth_class

W, H = 320, 180


def cam(script: Script | None = None, seed: int = 7, cid: str = "cam-a", w: int = W, h: int = H) -> SimCamera:
    return SimCamera(cid, seed=seed, width=w, height=h, fps=10.0, script=script)


@pytest.mark.parametrize(
    ("depth", "cls"),
    [
        (0.0, None),
        (-1.0, None),
        (0.5, 1),
        (9.9, 1),
        (10.0, 2),
        (70.0, 2),
        (70.5, 3),
        (150.0, 3),
        (150.1, 4),
        (300.0, 4),
    ],
)
def test_depth_class_table(depth: float, cls: int | None) -> None:
    assert depth_class(depth) == cls


@pytest.mark.parametrize(("w", "h"), [(640, 360), (1280, 720), (320, 180)])
def test_frame_shape_and_dtype(w: int, h: int) -> None:
    frame, truth = cam(w=w, h=h).frame_at(1.0)
    assert frame.shape == (h, w, 3)
    assert frame.dtype == np.uint8
    assert isinstance(truth, GroundTruth)
    assert truth.frame_index == 10


def test_same_seed_same_frame_in_any_order() -> None:
    script = Script(incidents=(Incident("fire", 1.0), Incident("crowd", 0.0, ramp_s=5, peak=40)))
    a, b = cam(script), cam(script)
    fa, ta = a.frame_at(3.0)
    b.frame_at(9.0)  # render other times first: random access must not change the result
    b.frame_at(0.5)
    fb, tb = b.frame_at(3.0)
    assert np.array_equal(fa, fb)
    assert ta == tb
    # within one frame interval the frame is identical
    assert np.array_equal(a.render(3.0)[0], a.render(3.04)[0])


def test_different_seed_or_time_differs() -> None:
    f1 = cam(seed=1).render(2.0)[0]
    f2 = cam(seed=2).render(2.0)[0]
    f3 = cam(seed=1).render(2.5)[0]
    assert np.abs(f1.astype(int) - f2.astype(int)).mean() > 5
    assert np.abs(f1.astype(int) - f3.astype(int)).mean() > 0.5  # traffic moved


def test_flood_rises_through_classes_2_to_4() -> None:
    c = cam(Script(incidents=(Incident("flood", start_s=2.0, ramp_s=40.0, peak=190.0),)))
    truths = [c.truth_at(t) for t in np.arange(0.0, 50.0, 0.5)]
    classes = [t.flood_depth_class for t in truths]
    assert classes[0] is None
    seen = [k for k in classes if k is not None]
    assert seen == sorted(seen), "depth class never goes down while the water rises"
    assert {1, 2, 3, 4} <= set(seen)
    depths = [t.flood_depth_cm for t in truths]
    assert all(b >= a for a, b in itertools.pairwise(depths))


def brown_share(frame: np.ndarray) -> float:
    """Share of lower-half pixels that look like muddy water (hue orange-brown, moderate saturation)."""
    hsv = cv2.cvtColor(frame[frame.shape[0] // 2 :], cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return float(((h >= 8) & (h <= 25) & (s > 60) & (v > 60)).mean())


def test_flood_water_visible_and_rising_on_the_pole() -> None:
    c = cam(Script(incidents=(Incident("flood", start_s=1.0, ramp_s=20.0, peak=180.0),)))
    dry, mid, deep = (c.frame_at(t)[0] for t in (0.5, 8.0, 25.0))
    assert brown_share(dry) < 0.25
    assert brown_share(mid) > 0.6
    assert brown_share(deep) > max(0.85, brown_share(mid))


def test_crowd_count_rises_to_dense() -> None:
    c = cam(Script(pedestrians=3, incidents=(Incident("crowd", start_s=5.0, ramp_s=20.0, peak=120),)))
    counts = [c.truth_at(t).persons for t in (0.0, 4.0, 10.0, 15.0, 25.0, 30.0)]
    assert counts[0] <= 5
    assert counts[-1] >= 110
    crowd_part = [n - 3 for n in counts[2:]]
    assert crowd_part == sorted(crowd_part) or max(counts[2:]) - min(counts[2:]) > 50


def test_crowd_changes_pixels_more_than_background() -> None:
    c = cam(Script(pedestrians=0, traffic=0.0, incidents=(Incident("crowd", start_s=1.0, ramp_s=5.0, peak=100),)))
    empty = c.render(0.5)[0].astype(int)
    full = c.render(10.0)[0].astype(int)
    assert np.abs(full - empty).mean() > 5


def test_fire_smoke_then_flames_and_colours() -> None:
    c = cam(Script(incidents=(Incident("fire", start_s=2.0, ramp_s=20.0, x=0.4),)))
    before, smoke_only, burning = (c.truth_at(t) for t in (1.0, 3.0, 12.0))
    assert (before.fire, before.smoke) == (False, False)
    assert (smoke_only.fire, smoke_only.smoke) == (False, True)
    assert (burning.fire, burning.smoke) == (True, True)

    def flame_mask(img: np.ndarray) -> np.ndarray:
        b, g, r = (img[..., i].astype(int) for i in range(3))
        return (r > 200) & (g > 60) & (b < 120) & (r - b > 120)

    calm = cam(Script())  # same seed and camera, no incident
    assert np.array_equal(c.render(1.0)[0], calm.render(1.0)[0])
    new_flame = flame_mask(c.render(12.0)[0]) & ~flame_mask(calm.render(12.0)[0])
    assert new_flame.sum() > 60
    smoke_diff = np.abs(c.render(3.0)[0].astype(int) - calm.render(3.0)[0].astype(int)).sum(axis=2)
    assert (smoke_diff > 30).sum() > 300  # the plume is visible before the flames


def test_flames_flicker() -> None:
    c = cam(Script(incidents=(Incident("fire", start_s=0.0, ramp_s=4.0),)))
    a, b = c.render(10.0)[0], c.render(10.1)[0]
    roi = (slice(0, int(H * 0.47)), slice(0, int(W * 0.6)))
    assert np.abs(a[roi].astype(int) - b[roi].astype(int)).max() > 60


def test_night_is_darker_and_rain_lowers_contrast() -> None:
    day = cam(Script()).render(1.0)[0]
    night = cam(Script(night=True)).render(1.0)[0]
    assert night.mean() < 0.7 * day.mean()
    rain = cam(Script(rain=True)).render(1.0)[0]
    assert rain.std() < day.std()  # grey sky, darker scene: less contrast
    assert np.abs(rain.astype(int) - day.astype(int)).mean() > 10
    assert cam(Script(rain=True)).truth_at(1.0).rain


@pytest.mark.parametrize("kind", ["frozen", "black", "covered", "moved"])
def test_faults(kind: str) -> None:
    c = cam(Script(faults=(Fault(kind, start_s=2.0, end_s=6.0),)))
    normal = c.render(1.0)[0]
    f3, t3 = c.render(3.0)
    f4, _ = c.render(4.5)
    after, t_after = c.render(7.0)
    assert t3.fault == kind and t_after.fault is None
    if kind == "frozen":
        assert np.array_equal(f3, f4)
        assert np.array_equal(f3, c.render(2.0)[0].copy()) or np.abs(f3.astype(int) - f4.astype(int)).max() == 0
    elif kind == "black":
        assert f3.mean() < 8
    elif kind == "covered":
        assert f3.mean() < 45 and cv2.Laplacian(cv2.cvtColor(f3, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var() < 30
    else:
        assert np.abs(f3.astype(int) - normal.astype(int)).mean() > 25
    assert np.abs(after.astype(int) - f3.astype(int)).mean() > 1


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        Incident("earthquake", 0.0)
    with pytest.raises(ValueError):
        Fault("melted", 0.0)
    with pytest.raises(ValueError):
        SimCamera("x", width=10, height=10)


def test_demo_scenario_maps_real_sites_with_every_hazard() -> None:
    specs = demo_scenario(24, seed=3, duration_s=60.0)
    site_ids = {r["site_id"] for r in load_sites()}
    assert len(specs) == 24
    assert len({s.camera_id for s in specs}) == 24
    assert all(s.camera_id in site_ids for s in specs)
    assert all(-6.5 < s.lat < -5.9 and 106.5 < s.lon < 107.1 for s in specs)
    roles = {s.role for s in specs}
    assert {"fire", "flood", "crowd", "fault:frozen", "fault:black", "fault:covered", "fault:moved"} <= roles
    assert {s.kind for s in specs} == {"mjpeg", "snapshot", "hls"}
    by_role = {s.role: s.camera(W, H, 5.0) for s in specs if s.role in ("fire", "flood", "crowd")}
    end = [c.truth_at(59.0) for c in by_role.values()]
    assert by_role["fire"].truth_at(59.0).fire
    assert by_role["flood"].truth_at(59.0).flood_depth_class == 4
    assert by_role["crowd"].truth_at(59.0).persons >= 100
    assert len(end) == 3
    assert demo_scenario(24, seed=3) == specs  # deterministic


def test_fault_interval_math() -> None:
    f = Fault("black", 1.0, 2.0)
    assert not f.active(0.99) and f.active(1.0) and not f.active(2.0)
    assert Fault("moved", 1.0).active(1e9)

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ingest.cameras.health import CameraHealth, HealthConfig, block_ncc, ncc, uptime_by_window


def scene(seed: int = 0, w: int = 640, h: int = 360, horizon: float = 0.5) -> np.ndarray:
    """A textured street-like (H, W, 3) uint8 BGR picture: sky, buildings, road with markings."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    hz = int(h * horizon)
    img[: hz * 2 // 3] = (200, 170, 140)
    for _ in range(12):
        x = int(rng.integers(0, w - 60))
        bw, bh = int(rng.integers(30, 90)), int(rng.integers(60, 180))
        col = tuple(int(c) for c in rng.integers(40, 200, 3))
        cv2.rectangle(img, (x, hz - bh), (x + bw, hz), col, -1)
        for wy in range(hz - bh + 8, hz - 8, 16):
            cv2.rectangle(img, (x + 6, wy), (x + 12, wy + 6), (230, 230, 120), -1)
    img[hz:] = (80, 80, 80)
    for x in range(0, w, 60):
        cv2.rectangle(img, (x, (hz + h) // 2), (x + 30, (hz + h) // 2 + 5), (240, 240, 240), -1)
    return img


def noisy(img: np.ndarray, seed: int, sigma: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(img.astype(np.float32) + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


BASE = scene(0)
OTHER = scene(7, horizon=0.7)


def frames_ok(n: int) -> list[np.ndarray]:
    return [noisy(BASE, i) for i in range(n)]


CASES = {
    # name: (sequence of frames, expected status of the last sample, reason substring)
    "live scene": (frames_ok(6), "ok", ""),
    "black": ([*frames_ok(4), noisy(np.zeros_like(BASE), 1, 1.0)], "black", ""),
    "overexposed": ([*frames_ok(4), np.full_like(BASE, 252)], "overexposed", ""),
    "frozen": ([*frames_ok(4), BASE, BASE, BASE], "frozen", "identical"),
    "frozen needs repeats": ([*frames_ok(4), BASE, BASE], "ok", ""),
    "lens covered": ([*frames_ok(5), noisy(np.full_like(BASE, 120), 3, 1.0)], "tampered", "covered"),
    "scene change": ([*frames_ok(5), noisy(OTHER, 9)], "tampered", "scene"),
    "camera moved": ([*frames_ok(5), noisy(np.roll(BASE, 90, axis=1), 9)], "tampered", "moved"),
    "dusk is not tampering": ([*frames_ok(5), noisy((BASE * 0.55).astype(np.uint8), 9)], "ok", ""),
    "passing truck is not tampering": (
        [*frames_ok(5), cv2.rectangle(noisy(BASE, 9), (200, 150), (330, 300), (30, 40, 160), -1)],
        "ok",
        "",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_classification(name: str) -> None:
    seq, expected, reason = CASES[name]
    h = CameraHealth(HealthConfig())
    sample = None
    for i, f in enumerate(seq):
        sample = h.observe_frame(f, ts=1000.0 + 10 * i)
    assert sample is not None
    assert sample.status == expected, (name, sample)
    assert reason in sample.reason


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("offline", "offline"),
        ("timeout", "offline"),
        ("http_error", "offline"),
        ("eof", "offline"),
        ("decode_error", "decode_error"),
    ],
)
def test_errors(reason: str, status: str) -> None:
    h = CameraHealth()
    assert h.observe_error(reason, 1.0).status == status


def test_transitions_recorded_once_per_change() -> None:
    h = CameraHealth()
    seq = [*frames_ok(4)]
    for i, f in enumerate(seq):
        h.observe_frame(f, 10.0 * i)
    h.observe_error("timeout", 50.0)
    h.observe_error("timeout", 60.0)
    h.observe_frame(noisy(BASE, 99), 70.0)
    tr = h.pop_transitions()
    assert [(t.from_status, t.to_status) for t in tr] == [(None, "ok"), ("ok", "offline"), ("offline", "ok")]
    assert [t.at for t in tr] == [0.0, 50.0, 70.0]
    assert h.pop_transitions() == []


def test_frozen_after_reconnect_needs_new_repeats() -> None:
    h = CameraHealth()
    for i in range(4):
        h.observe_frame(BASE, float(i))
    assert h.status == "frozen"
    h.observe_error("offline", 5.0)
    assert h.observe_frame(BASE, 6.0).status == "ok"


def test_moved_camera_adopts_new_view_after_a_while() -> None:
    cfg = HealthConfig(rebase_after=5)
    h = CameraHealth(cfg)
    for i, f in enumerate(frames_ok(5)):
        h.observe_frame(f, float(i))
    moved = np.roll(BASE, 90, axis=1)
    statuses = [h.observe_frame(noisy(moved, 100 + i), 10.0 + i).status for i in range(8)]
    assert statuses[0] == "tampered"
    assert statuses[-1] == "ok"


def test_ncc_is_lighting_invariant() -> None:
    g = cv2.cvtColor(BASE, cv2.COLOR_BGR2GRAY).astype(np.float32)
    assert ncc(g, g * 0.5 + 20) == pytest.approx(1.0, abs=1e-4)
    o = cv2.cvtColor(OTHER, cv2.COLOR_BGR2GRAY).astype(np.float32)
    same, std = block_ncc(g * 0.5 + 20, g, (6, 8))
    other, _ = block_ncc(o, g, (6, 8))
    assert same.shape == (48,)
    assert float(same[std > 4].min()) > 0.99
    assert float((other[std > 4] < 0.5).mean()) > 0.6


def test_uptime_by_window() -> None:
    ts = np.array([0, 10, 20, 299, 300, 310, 900], dtype=np.float64)
    st = ["ok", "offline", "ok", "ok", "frozen", "frozen", "ok"]
    up = uptime_by_window(ts, st, 300)
    assert up == {0.0: 0.75, 300.0: 0.0, 900.0: 1.0}
    assert uptime_by_window(np.array([]), [], 300) == {}


SIM_CASES = {
    # simulator script -> status expected while the fault is active (None: ok throughout)
    "normal": ({}, None),
    "night + rain": ({"night": True, "rain": True}, None),
    "fire": ({"incidents": [("fire", 30, 30, 0.0)]}, None),
    "flood to class 4": ({"incidents": [("flood", 30, 60, 180.0)]}, None),
    "dense crowd": ({"incidents": [("crowd", 30, 60, 150.0)]}, None),
    "frozen": ({"faults": [("frozen", 100, 160)]}, "frozen"),
    "black": ({"faults": [("black", 100, 160)]}, "black"),
    "covered": ({"faults": [("covered", 100, 160)]}, "tampered"),
    "moved": ({"faults": [("moved", 100, 160)]}, "tampered"),
}


@pytest.mark.parametrize("name", list(SIM_CASES))
def test_simulated_cameras(name: str) -> None:
    """Hazards are not camera faults (a flood must not read as tampering); simulated faults are found."""
    scene_mod = pytest.importorskip("simulate.scene")
    kw, expected = SIM_CASES[name]
    script = scene_mod.Script(
        night=kw.get("night", False),
        rain=kw.get("rain", False),
        incidents=tuple(scene_mod.Incident(k, s, ramp_s=r, peak=p) for k, s, r, p in kw.get("incidents", [])),
        faults=tuple(scene_mod.Fault(k, a, b) for k, a, b in kw.get("faults", [])),
    )
    cam = scene_mod.SimCamera(name, seed=4, width=320, height=180, script=script)
    h = CameraHealth()
    got = {t: h.observe_frame(cam.frame_at(t)[0], t).status for t in np.arange(0.0, 200.0, 10.0)}
    if expected is None:
        assert set(got.values()) == {"ok"}, got
    else:
        assert {got[t] for t in (120.0, 130.0, 140.0, 150.0)} == {expected}, got
        assert {got[t] for t in np.arange(0.0, 100.0, 10.0)} == {"ok"}, got
        assert {got[t] for t in (180.0, 190.0)} == {"ok"}, got

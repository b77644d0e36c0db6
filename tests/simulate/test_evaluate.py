"""``pantau eval --clips``: simulator clips scored by the vision pipeline against their ground truth."""

from __future__ import annotations

import io
import json

import cv2
import numpy as np
import pytest

from simulate.evaluate import default_scenarios, main, run_eval_clip, sim_reference_marks
from simulate.scene import Incident, Script, SimCamera


def test_clip_eval_against_simulator_truth() -> None:
    buf = io.StringIO()
    scen = [
        ("sim-flood", {"incidents": [("flood", 4.0, 6.0, 120.0)]}),
        ("sim-black", {"faults": [("black", 6.0, 99.0)]}),
    ]
    res = run_eval_clip(duration_s=16.0, step_s=2.0, width=320, height=180, scenarios=scen, json_out=True, stream=buf)
    out = json.loads(buf.getvalue())
    assert out["n_frames"] == 16 == res["n_frames"]
    assert set(out["classes"]) == {"fire", "smoke", "flood", "crowd"}
    assert out["classes"]["flood"]["support"] > 0
    assert out["fault_frames"] == 5
    assert out["fault_frames_unhealthy"] == 5  # black frames are recognised as unhealthy
    assert out["fault_frames_reported_safe"] == 0  # ...and never reported as safe
    assert set(out["per_clip"]) == {"sim-flood", "sim-black"}
    assert "flood" in out["latency_s"]["sim-flood"]


@pytest.mark.parametrize(("cm", "under_water_at"), [(40.0, 50.0), (110.0, 120.0), (200.0, 210.0)])
def test_reference_marks_sit_on_the_gauge(cm: float, under_water_at: float) -> None:
    """Each calibrated mark box is dry (white pole) before the water and brown once the water is above it."""
    (mark,) = sim_reference_marks((cm,))
    w, h = 640, 360
    x0, y0, x1, y1 = mark.box
    box = (slice(int(y0 * h), int(y1 * h) + 1), slice(int(x0 * w), int(x1 * w) + 1))
    dry = SimCamera("g", seed=1, width=w, height=h, script=Script(jpeg_quality=0)).render(1.0)[0]
    wet_cam = SimCamera(
        "g",
        seed=1,
        width=w,
        height=h,
        script=Script(jpeg_quality=0, incidents=(Incident("flood", 0.0, 1.0, peak=under_water_at),)),
    )
    wet = wet_cam.render(5.0)[0]
    assert float(dry[box].mean()) > float(wet[box].mean()) + 20.0


def test_cli_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--duration", "4", "--step", "2"]) == 0
    out = capsys.readouterr().out
    assert f"clip frames: {2 * len(default_scenarios())}" in out and "smoke" in out
    assert "frames without a crowd: " in out and "max crowd score" in out


def test_smoke_plume_is_a_semi_transparent_veil() -> None:
    """Under the plume the scene stays faintly visible: its edges fade but do not vanish, and it turns greyer."""
    script = Script(jpeg_quality=0, noise=0.0, incidents=(Incident("fire", 1.0, 10.0),))
    calm = SimCamera("s", seed=3, script=Script(jpeg_quality=0, noise=0.0)).render(30.0)[0]
    smoky = SimCamera("s", seed=3, script=script).render(30.0)[0]
    diff = np.abs(smoky.astype(int) - calm.astype(int)).sum(axis=2)
    veiled = diff > 30
    veiled[int(0.45 * 360) :] = False  # the flames sit at the building base: look at the plume above them
    assert veiled.sum() > 2000
    g0 = cv2.Laplacian(cv2.cvtColor(calm, cv2.COLOR_BGR2GRAY), cv2.CV_32F)
    g1 = cv2.Laplacian(cv2.cvtColor(smoky, cv2.COLOR_BGR2GRAY), cv2.CV_32F)
    ratio = float(np.abs(g1[veiled]).mean() / np.abs(g0[veiled]).mean())
    assert 0.1 < ratio < 0.9  # softened, not painted over
    sat = [float(cv2.cvtColor(im, cv2.COLOR_BGR2HSV)[..., 1][veiled].mean()) for im in (calm, smoky)]
    assert sat[1] < sat[0]
    # soft border: the plume's opacity fades over several pixels
    edge_rows = np.abs(np.diff(diff.astype(float), axis=1))[veiled[:, 1:]]
    assert float(np.percentile(edge_rows, 95)) < 120


@pytest.mark.parametrize(
    ("scenario", "hazard"),
    [
        (("sim-smoke", {"incidents": [("fire", 20.0, 20.0, 0.0)]}), "smoke"),
        (("sim-crowd", {"incidents": [("crowd", 10.0, 20.0, 60.0)]}), "crowd"),
    ],
)
def test_simulated_hazards_are_detected(scenario: tuple[str, dict], hazard: str) -> None:
    res = run_eval_clip(duration_s=60.0, step_s=2.5, width=320, height=180, scenarios=[scenario], stream=io.StringIO())
    m = res["classes"][hazard]
    assert m["support"] > 5
    assert m["recall"] >= 0.5 and m["fp"] <= 2, m
    if hazard == "crowd":
        assert res["persons_dense"]["mape"] < 0.5, res["persons_dense"]


@pytest.mark.parametrize(
    ("scenario", "seed"),
    [
        (("sim-busy-day", {"traffic": 1.4, "pedestrians": 8}), 7),
        (("sim-busy-day", {"traffic": 1.4, "pedestrians": 8}), 11),
        (("sim-busy-night-rain", {"night": True, "rain": True, "traffic": 1.4, "pedestrians": 8}), 7),
        (("sim-quiet-day", {"traffic": 0.5, "pedestrians": 2}), 23),
    ],
)
def test_normal_street_is_not_a_crowd(scenario: tuple[str, dict], seed: int) -> None:
    """Heavy traffic with a few pedestrians (day; night with headlights and rain): every frame stays below the
    Waspada crowd score and the person count stays near the truth (2-9 persons: about 3 persons off on average;
    the old blob-area counter read 9-12 here)."""
    res = run_eval_clip(
        duration_s=60.0, step_s=2.5, width=320, height=180, seed=seed, scenarios=[scenario], stream=io.StringIO()
    )
    m = res["no_crowd_frames"]
    assert m["n"] == 24
    assert m["max_crowd"] < 0.6 and m["frames_waspada"] == 0, m
    assert m["persons_mae"] <= 4.0 and m["persons_mape"] <= 0.6, m

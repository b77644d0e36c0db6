"""Vehicle counts from the road_users detector through capture, landing, camera windows and the hourly mart."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from ingest.cameras.landing import ingest_landed_batches
from ingest.cameras.passthrough import default_analyzer_factory
from ingest.cameras.registry import CameraSpec
from ingest.cameras.worker import capture_for, road_user_counts
from marts.risk import refresh_risk_marts
from simulate.scene import SimCamera
from simulate.servers import SimServer


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        (json.dumps({"road_users": {"car": 2.5, "motorcycle": 4.0, "bus_truck": 0.5, "vehicles": 7.0, "person": 1}}),
         {"cars": 2.5, "motorcycles": 4.0, "buses_trucks": 0.5, "vehicles": 7.0}),
        (json.dumps({"road_users": {"car": None, "motorcycle": 1, "bus_truck": math.inf, "vehicles": 1}}),
         {"cars": None, "motorcycles": 1.0, "buses_trucks": None, "vehicles": 1.0}),
        (json.dumps({"crowd": {"persons": 3}}), {}),
        ("not json", {}),
        (None, {}),
    ],
)  # fmt: skip
def test_road_user_counts_from_the_features_json(features: str | None, expected: dict[str, Any]) -> None:
    assert road_user_counts(features) == expected


@pytest.mark.slow
def test_vehicle_counts_reach_frame_scores_windows_and_the_hourly_mart(lake: Any, local_store: Any) -> None:
    cam = SimCamera("street-1", seed=5, width=640, height=360, fps=5.0)
    with SimServer([cam]) as sim:
        specs = [CameraSpec("street-1", sim.url("street-1", "snapshot"), "snapshot")]
        stats = capture_for(specs, local_store, 6.0, interval_s=0.5, analyzer_factory=default_analyzer_factory(),
                            blur=None)  # fmt: skip
    assert stats.statuses.get("ok", 0) >= 4
    ingest_landed_batches(lake, local_store)
    scores = lake.query(
        "SELECT cars, motorcycles, buses_trucks, vehicles FROM frame_scores WHERE health = 'ok'"
    ).to_pylist()
    assert scores and all(r["vehicles"] is not None and r["vehicles"] >= 0 for r in scores)
    for r in scores:  # the sum is the three classes
        assert r["vehicles"] == pytest.approx(r["cars"] + r["motorcycles"] + r["buses_trucks"], abs=1e-3)
    assert max(r["vehicles"] for r in scores) > 0  # the simulated street always carries traffic
    ev = lake.query("SELECT vehicles_max, vehicles_mean, cars_mean FROM camera_events").to_pylist()
    assert ev and all(e["vehicles_mean"] is not None for e in ev)
    refresh_risk_marts(lake)
    hourly = lake.query("SELECT vehicles_max, vehicles_mean, motorcycles_mean FROM risk_hourly_camera").to_pylist()
    assert hourly and hourly[0]["vehicles_max"] == pytest.approx(max(r["vehicles"] for r in scores))

"""One level everywhere: simulator clips scored by the real vision pipeline, landed, rolled up by the marts and run
through the alert engine; every camera-hour must show the same level in all three (analytics.levels)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from alerts.agreement import check_level_agreement
from alerts.db import OpsDB
from alerts.engine import AlertEngine
from analytics.evaluation import evaluate_clip
from ingest.cameras.worker import SCORE_FIELDS
from marts.risk import refresh_risk_marts
from simulate.evaluate import capture_health, sim_camera, sim_vision_config
from warehouse.lake import Lake

pytestmark = pytest.mark.slow  # renders and scores ~240 simulator frames

# the clip starts just before a full hour so the incidents straddle two camera-hours
T0 = datetime(2026, 1, 15, 8, 59, 0, tzinfo=UTC)
CLIPS = [
    ("sim-fire-day", {"incidents": [("fire", 20.0, 20.0, 0.0)]}),
    ("sim-flood-day", {"incidents": [("flood", 10.0, 40.0, 140.0)]}),
    ("sim-crowd-day", {"incidents": [("crowd", 10.0, 30.0, 60.0)]}),
    ("sim-faults", {"faults": [("frozen", 30.0, 50.0), ("black", 50.0, 70.0)]}),
]
SCHEMA = pa.schema([("camera_id", pa.string()), ("captured_at", pa.timestamp("us", tz="UTC")), *SCORE_FIELDS])


def _score_clips() -> list[dict]:
    cfg = sim_vision_config()
    rows = []
    for cam_id, spec in CLIPS:
        cam = sim_camera(cam_id, spec, 7, 640, 360)

        def gen(cam=cam):  # type: ignore[no-untyped-def]
            for t in np.arange(0.0, 120.0, 2.0):
                img, truth = cam.frame_at(float(t))
                yield img, truth.to_dict()

        for rec in evaluate_clip(cam_id, gen(), cfg, health=capture_health())["frames"]:
            row = rec["scores"].to_row()
            row.update(camera_id=cam_id, captured_at=T0 + timedelta(seconds=float(rec["truth"]["t"])))
            rows.append(row)
    return rows


def test_every_camera_hour_shows_one_level_on_the_simulator_clips(lake: Lake, ops: OpsDB) -> None:
    rows = _score_clips()
    lake.append("frame_scores", pa.Table.from_pylist(rows, schema=SCHEMA))
    refresh_risk_marts(lake)
    engine = AlertEngine(ops, lake)
    engine.run_cycle()
    res = check_level_agreement(lake, ops)
    assert res.ok, res.disagreements[:20]
    assert res.camera_hours == 2 * len(CLIPS)
    # the clips really do reach levels (the comparison is not between four empty columns)
    shown = {(r["camera_id"], hz) for r in rows for hz in ("fire", "smoke", "flood", "crowd")
             if r[f"level_{hz}"] not in (None, "Normal")}  # fmt: skip
    assert {("sim-fire-day", "fire"), ("sim-flood-day", "flood"), ("sim-crowd-day", "crowd")} <= shown


def test_a_disagreement_is_reported(lake: Lake, ops: OpsDB) -> None:
    rows = [
        {"camera_id": "c", "captured_at": T0 + timedelta(seconds=i), "health": "ok", "risk_level": "Siaga",
         "level_fire": "Siaga", "level_smoke": "Normal", "level_flood": "Normal", "level_crowd": "Normal"}
        for i in range(3)
    ]  # fmt: skip
    lake.append("frame_scores", pa.Table.from_pylist(rows, schema=SCHEMA))
    refresh_risk_marts(lake)
    # no alert engine run: the alert log shows Normal where the scores show Siaga
    res = check_level_agreement(lake, ops)
    assert res.disagreements == ["c 2026-01-15 08h fire: scoring Siaga, alert log Normal"]

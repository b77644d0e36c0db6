"""Dagster mart assets: hourly/daily partitions refresh the lake; blocking quality checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from assets.marts import (
    HOURLY,
    camera_uptime_daily,
    camera_uptime_daily_quality,
    camera_uptime_schedule,
    defs,
    risk_hourly_camera_quality,
    risk_hourly_marts,
    risk_hourly_schedule,
)
from orchestration.resources import LakeResource
from tests.open_data.conftest import CAMERAS, T0, add, fill_frames, make_lake


def test_defs_resolve() -> None:
    merged = dg.Definitions.merge(defs, dg.Definitions(resources={"lake": LakeResource()}))
    keys = {k.to_user_string() for k in merged.resolve_asset_graph().get_all_asset_keys()}
    assert {"risk_hourly_camera", "risk_hourly_kelurahan", "camera_uptime_daily"} <= keys


@pytest.mark.slow
def test_partitions_materialize_and_checks_block(tmp_path: Path) -> None:
    data = tmp_path / "pantau-data"
    lk = make_lake(data)
    add(lk, "cameras", CAMERAS)
    fill_frames(lk)
    lk.close()
    resources = {"lake": LakeResource(data_dir=str(data))}
    hour = (T0 + timedelta(hours=1)).strftime("%Y-%m-%d-%H:%M")
    res = dg.materialize([risk_hourly_marts, risk_hourly_camera_quality], partition_key=hour, resources=resources)
    assert res.success
    day = dg.materialize(
        [camera_uptime_daily, camera_uptime_daily_quality], partition_key=T0.strftime("%Y-%m-%d"), resources=resources
    )
    assert day.success
    lk = LakeResource(data_dir=str(data)).get_lake()
    try:
        hours = lk.query("SELECT DISTINCT hour FROM risk_hourly_camera").column(0).to_pylist()
        assert hours == [T0 + timedelta(hours=1)]  # only the partition's hour
        assert lk.scalar("SELECT count(*) FROM risk_hourly_kelurahan") == 2
        assert lk.scalar("SELECT count(*) FROM camera_uptime_daily") == 2
        add(
            lk, "frame_scores", [{"camera_id": "cam-a", "captured_at": T0 + timedelta(hours=1, minutes=1), "fire": 3.0}]
        )
    finally:
        lk.close()
    bad = dg.materialize(
        [risk_hourly_marts, risk_hourly_camera_quality], partition_key=hour, resources=resources, raise_on_error=False
    )
    evals = bad.get_asset_check_evaluations()
    assert [e.passed for e in evals] == [False]
    assert not bad.success  # a failing blocking check fails the run


# (tick time UTC, partitions the schedule asks for): the hour in progress and the one before it
HOURLY_TICKS = [
    (datetime(2026, 11, 28, 10, 15, tzinfo=UTC), ["2026-11-28-09:00", "2026-11-28-10:00"]),
    (datetime(2026, 11, 28, 0, 0, tzinfo=UTC), ["2026-11-27-23:00", "2026-11-28-00:00"]),
]
DAILY_TICKS = [
    (datetime(2026, 11, 28, 10, 20, tzinfo=UTC), ["2026-11-28"]),
    (datetime(2026, 11, 28, 0, 20, tzinfo=UTC), ["2026-11-27", "2026-11-28"]),  # yesterday is complete now
]


@pytest.mark.parametrize(("tick", "partitions"), HOURLY_TICKS)
def test_risk_hourly_schedule_refreshes_this_and_the_last_hour(tick: datetime, partitions: list[str]) -> None:
    reqs = risk_hourly_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert [r.partition_key for r in reqs] == partitions
    assert len({r.run_key for r in reqs}) == 2  # distinct, and new at every tick
    assert risk_hourly_schedule.default_status == dg.DefaultScheduleStatus.RUNNING


@pytest.mark.parametrize(("tick", "partitions"), DAILY_TICKS)
def test_camera_uptime_schedule(tick: datetime, partitions: list[str]) -> None:
    reqs = camera_uptime_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert [r.partition_key for r in reqs] == partitions


def test_every_schedule_runs_by_default_and_asks_for_existing_partitions() -> None:
    from orchestration.definitions import defs as load_defs

    all_defs = load_defs()
    assert {s.name for s in all_defs.schedules} >= {"risk_hourly_schedule", "camera_uptime_schedule"}
    for sched in all_defs.schedules:
        assert sched.default_status == dg.DefaultScheduleStatus.RUNNING, sched.name
    now = datetime.now(UTC)
    keys = HOURLY.get_partition_keys(current_time=now)
    for req in risk_hourly_schedule(dg.build_schedule_context(scheduled_execution_time=now)):
        assert req.partition_key in keys  # the hour in progress exists as a partition (end_offset=1)

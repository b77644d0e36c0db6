"""Dagster release assets: published downstream of the marts, blocked by the failing quality gate."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from assets.open_data import (
    defs,
    open_data_daily_schedule,
    open_data_quality_gate,
    open_data_release,
    open_data_release_dcat,
    open_data_snapshot,
)
from marts.risk import refresh_risk_marts
from open_data.release import list_releases
from orchestration.resources import LakeResource, ObjectStoreResource
from tests.open_data.conftest import CAMERAS, T0, add, fill_frames, make_lake
from warehouse.object_store import LocalObjectStore

ASSETS = [open_data_snapshot, open_data_release, open_data_quality_gate, open_data_release_dcat]


def test_defs_and_schedule() -> None:
    merged = dg.Definitions.merge(
        defs, dg.Definitions(resources={"lake": LakeResource(), "store": ObjectStoreResource()})
    )
    assert merged.resolve_job_def("open_data_release_job") is not None
    assert open_data_daily_schedule.cron_schedule == "0 18 * * *"
    graph = merged.resolve_asset_graph()
    assert dg.AssetKey("risk_hourly_camera") in graph.get(dg.AssetKey("open_data_snapshot")).parent_keys


@pytest.mark.slow
def test_release_published_then_blocked_by_gate(tmp_path: Path) -> None:
    data = tmp_path / "pantau-data"
    lk = make_lake(data)
    add(lk, "cameras", CAMERAS)
    fill_frames(lk)
    refresh_risk_marts(lk)
    lk.close()
    resources = {
        "lake": LakeResource(data_dir=str(data)),
        "store": ObjectStoreResource(root=str(tmp_path / "store")),
    }
    ok = dg.materialize(ASSETS, resources=resources)
    assert ok.success
    assert all(e.passed for e in ok.get_asset_check_evaluations())
    store = LocalObjectStore(tmp_path / "store")
    [release] = list_releases(store)
    assert {d["name"] for d in release["datasets"]} >= {"risk_hourly_camera", "camera_inventory"}

    lk = LakeResource(data_dir=str(data)).get_lake()
    try:  # a broken detector writes an impossible score; the marts pick it up
        add(lk, "frame_scores", [{"camera_id": "cam-a", "captured_at": T0 + timedelta(hours=4), "fire": 2.5}])
        refresh_risk_marts(lk)
    finally:
        lk.close()
    blocked = dg.materialize(ASSETS, resources=resources, raise_on_error=False)
    assert not blocked.success
    gate = [e for e in blocked.get_asset_check_evaluations() if e.check_name == "open_data_quality_gate"]
    assert [e.passed for e in gate] == [False]
    mats = {e.asset_key.to_user_string() for e in blocked.get_asset_materialization_events()}
    assert "open_data_release" not in mats
    assert len(list_releases(store)) == 1  # nothing new was published

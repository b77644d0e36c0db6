"""Upkeep jobs in Dagster: on schedules in the one Definitions, materialized on a real lake + store, with the
release-reference check passing after them and failing when a release's part is gone."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from assets import upkeep
from orchestration.definitions import defs as load_defs
from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore

TS = pa.timestamp("us", tz="UTC")
NOW = datetime.now(UTC)


def test_upkeep_schedules_are_in_definitions() -> None:
    all_defs = load_defs()
    repo = all_defs.get_repository_def()
    by_name = {s.name: s for s in repo.schedule_defs}
    for name, job in (
        ("lake_compaction_schedule", "lake_compaction_job"),
        ("snapshot_expiry_schedule", "snapshot_expiry_job"),
        ("data_retention_schedule", "data_retention_job"),
    ):
        assert by_name[name].job_name == job
        assert by_name[name].default_status == dg.DefaultScheduleStatus.RUNNING
    checks = {k.name for k in all_defs.resolve_asset_graph().asset_check_keys}
    assert {
        "lake_compaction_keeps_releases",
        "snapshot_expiry_keeps_releases",
        "data_retention_keeps_releases",
    } <= checks


@pytest.fixture
def env(tmp_path: Path) -> dict:
    data = tmp_path / "pantau-data"
    lake = Lake(LakeConfig(root=data))
    migrate(lake)
    store = LocalObjectStore(data / "store")
    for i in range(6):  # six 30-second landing batches of frames
        at = NOW - timedelta(seconds=30 * (6 - i))
        lake.append(
            "frames",
            pa.table(
                {
                    "camera_id": ["cam-a", "cam-b"],
                    "captured_at": pa.array([at, at], TS),
                    "status": ["ok", "ok"],
                    "keyframe_uri": ["keyframes/cam-a/x.jpg", None],
                }
            ),
        )
    pinned = lake.snapshot_id()
    old = NOW - timedelta(days=40)
    lake.append(
        "frames",
        pa.table(
            {
                "camera_id": ["cam-a"],
                "captured_at": pa.array([old], TS),
                "status": ["ok"],
                "keyframe_uri": ["keyframes/cam-a/old.jpg"],
                "public_uri": ["public/keyframes/cam-a/old.jpg"],
            }
        ),
    )
    lake.close()
    files = {"data/frames.csv": b"x\n", "release.json": json.dumps({"version": "r1", "snapshot_id": pinned}).encode()}
    for p, b in files.items():
        store.put_bytes(f"releases/r1/{p}", b)
    sums = "".join(f"{hashlib.sha256(b).hexdigest()}  {p}\n" for p, b in sorted(files.items()))
    store.put_bytes("releases/r1/SHA256SUMS", sums.encode())
    stamp = old.strftime("%Y%m%dT%H%M%S.000Z")
    fresh = NOW.strftime("%Y%m%dT%H%M%S.000Z")
    for k in (f"keyframes/x/{stamp}.jpg", f"keyframes/x/{fresh}.jpg", f"public/keyframes/x/{stamp}.jpg"):
        store.put_bytes(k, b"jpg")
    resources = {
        "lake": LakeResource(data_dir=str(data)),
        "store": ObjectStoreResource(data_dir=str(data)),
        "settings": SettingsResource(data_dir=str(data)),
    }
    return {"data": data, "store": store, "resources": resources, "pinned": pinned}


def _run(env: dict, job: str, **kwargs: object) -> dg.ExecuteInProcessResult:
    defs = dg.Definitions.merge(upkeep.defs, dg.Definitions(resources=env["resources"]))
    return defs.resolve_job_def(job).execute_in_process(**kwargs)  # type: ignore[arg-type]


def _checks(res: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in res.get_asset_check_evaluations()}


def test_upkeep_jobs_run_and_keep_releases(env: dict) -> None:
    res = _run(env, "lake_compaction_job")
    assert res.success and _checks(res) == {"lake_compaction_keeps_releases": True}
    md = res.asset_materializations_for_node("lake_compaction")[0].metadata
    assert md["files_before"].value > md["files_after"].value

    res = _run(env, "data_retention_job")
    assert res.success and _checks(res) == {"data_retention_keeps_releases": True}
    md = res.asset_materializations_for_node("data_retention")[0].metadata
    assert md["objects_deleted"].value["private"] == 1 and md["objects_deleted"].value["public"] == 1
    assert md["rows_cleared"].value == 2  # the old frame's raw and public keyframe keys
    store = env["store"]
    assert store.exists(f"keyframes/x/{NOW.strftime('%Y%m%dT%H%M%S.000Z')}.jpg")

    res = _run(env, "snapshot_expiry_job", run_config={"ops": {"snapshot_expiry": {"config": {"snapshot_days": 0}}}})
    assert res.success and _checks(res) == {"snapshot_expiry_keeps_releases": True}
    md = res.asset_materializations_for_node("snapshot_expiry")[0].metadata
    assert md["snapshots_expired"].value > 0 and md["kept_for_releases"].value == [env["pinned"]]

    lake = Lake(LakeConfig(root=env["data"]), read_only=True)
    try:
        assert lake.scalar("SELECT count(*) FROM frames AT (VERSION => ?)", [env["pinned"]]) == 12
        assert lake.scalar("SELECT count(*) FROM frames WHERE keyframe_uri = 'keyframes/cam-a/old.jpg'") == 0
        actions = set(lake.query("SELECT action FROM upkeep_log").column(0).to_pylist())
    finally:
        lake.close()
    assert {"compact", "clear_columns", "expire_snapshots"} <= actions

    store.delete("releases/r1/data/frames.csv")  # a release's file lost: the check says so
    res = _run(env, "lake_compaction_job", raise_on_error=False)
    assert _checks(res) == {"lake_compaction_keeps_releases": False}

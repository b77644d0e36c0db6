"""Asset-check results reach the lake: extraction from Dagster's event log, idempotent recording, the sensors."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from assets.quality import asset_check_results_on_failure, asset_check_results_on_success, defs
from orchestration.check_results import check_result_rows, record_check_results, record_run_checks
from orchestration.resources import LakeResource
from warehouse.lake import Lake
from warehouse.migrations import migrate


@dg.asset
def gauges() -> list[int]:
    return [1, 2, 3]


@dg.asset_check(asset=gauges, description="no negative readings")
def gauges_non_negative(gauges: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=min(gauges) >= 0, metadata={"min": min(gauges)})


@dg.asset_check(asset=gauges, blocking=True, description="at least five readings")
def gauges_enough(gauges: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=len(gauges) >= 5, metadata={"rows": len(gauges)}, description=f"{len(gauges)} readings, need 5"
    )


@dg.asset(deps=[gauges])
def gauge_summary() -> int:
    return 1


@pytest.fixture
def lake_res(tmp_path: Path) -> LakeResource:
    res = LakeResource(data_dir=str(tmp_path / "data"))
    with Lake(res.lake_config()) as lake:
        migrate(lake)
    return res


def _run(instance: dg.DagsterInstance, blocking: bool = True) -> dg.ExecuteInProcessResult:
    checks = [gauges_non_negative, gauges_enough] if blocking else [gauges_non_negative]
    return dg.materialize([gauges, gauge_summary, *checks], instance=instance, raise_on_error=False)


def test_rows_carry_each_checks_verdict(lake_res: LakeResource) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(instance)
        assert not result.success  # the failing blocking check stops gauge_summary and fails the run
        rows = {r["check_name"]: r for r in check_result_rows(instance, result.run_id)}
    assert set(rows) == {"gauges_non_negative", "gauges_enough"}
    ok, bad = rows["gauges_non_negative"], rows["gauges_enough"]
    assert ok["passed"] is True and json.loads(ok["metadata_json"]) == {"min": 1}
    assert bad["passed"] is False and bad["blocking"] is True and bad["severity"] == "ERROR"
    assert bad["asset_key"] == "gauges" and bad["description"] == "3 readings, need 5"
    assert bad["run_id"] == result.run_id and bad["evaluated_at"].tzinfo is not None


def test_recording_twice_adds_nothing(lake_res: LakeResource) -> None:
    with dg.DagsterInstance.ephemeral() as instance, Lake(lake_res.lake_config()) as lake:
        run_id = _run(instance).run_id
        assert record_run_checks(instance, run_id, lake) == 2
        assert record_run_checks(instance, run_id, lake) == 0
        second = _run(instance).run_id
        assert record_run_checks(instance, second, lake) == 2
        got = lake.query("SELECT check_name, passed FROM asset_check_results ORDER BY run_id, check_name").to_pylist()
    assert len(got) == 4 and sum(not r["passed"] for r in got) == 2
    assert record_check_results(Lake(lake_res.lake_config()), []) == 0


@pytest.mark.parametrize(
    ("sensor", "blocking", "status", "event_type", "recorded", "failed"),
    [
        (asset_check_results_on_failure, True, dg.DagsterRunStatus.FAILURE, "PIPELINE_FAILURE", 2, 1),
        (asset_check_results_on_success, False, dg.DagsterRunStatus.SUCCESS, "PIPELINE_SUCCESS", 1, 0),
    ],
    ids=["failed-run", "successful-run"],
)
def test_run_status_sensor_records_the_runs_checks(
    lake_res: LakeResource, sensor, blocking: bool, status, event_type: str, recorded: int, failed: int
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(instance, blocking)
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.status == status
        event = next(
            e.dagster_event
            for e in instance.all_logs(result.run_id)
            if e.dagster_event is not None and e.dagster_event.event_type_value == event_type
        )
        ctx = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=event,
            resources={"lake": lake_res},
        )
        skip = sensor(ctx)
    assert f"{recorded} asset-check result(s) recorded" in str(skip.skip_message)
    with Lake(lake_res.lake_config(), read_only=True) as lake:
        assert lake.scalar("SELECT count(*) FROM asset_check_results") == recorded
        assert lake.scalar("SELECT count(*) FROM asset_check_results WHERE NOT passed") == failed


def test_quality_defs_carry_both_sensors() -> None:
    names = {s.name for s in defs.sensors or []}
    assert names == {asset_check_results_on_success.name, asset_check_results_on_failure.name}

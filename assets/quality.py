"""Data-quality bookkeeping: every finished run's asset-check evaluations are copied into the lake table
``asset_check_results`` (read by the dashboards' data-quality page)."""

import dagster as dg

from orchestration.check_results import record_run_checks
from orchestration.resources import LakeResource


def _record(context: dg.RunStatusSensorContext, lake: LakeResource) -> dg.SkipReason:
    run_id = context.dagster_run.run_id
    lk = lake.get_lake()
    try:
        new = record_run_checks(context.instance, run_id, lk)
    finally:
        lk.close()
    return dg.SkipReason(f"run {run_id}: {new} asset-check result(s) recorded")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="asset_check_results_on_success",
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def asset_check_results_on_success(context: dg.RunStatusSensorContext, lake: LakeResource) -> dg.SkipReason:
    """Copy the checks of each successful run into ``asset_check_results``."""
    return _record(context, lake)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.FAILURE,
    name="asset_check_results_on_failure",
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def asset_check_results_on_failure(context: dg.RunStatusSensorContext, lake: LakeResource) -> dg.SkipReason:
    """Copy the checks of each failed run (a failing blocking check fails its run) into ``asset_check_results``."""
    return _record(context, lake)


defs = dg.Definitions(sensors=[asset_check_results_on_success, asset_check_results_on_failure])

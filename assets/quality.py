"""Data-quality bookkeeping: every finished run's asset-check evaluations are copied into the lake table
``asset_check_results`` (read by the dashboards' data-quality page)."""

import dagster as dg

from orchestration.check_results import record_run_checks
from orchestration.resources import LakeResource


def _check_results_sensor(status: dg.DagsterRunStatus) -> dg.RunStatusSensorDefinition:
    """A run-status sensor copying the checks of each run that ends in ``status`` (a failing blocking check fails
    its run, so FAILURE matters as much as SUCCESS)."""

    @dg.run_status_sensor(
        run_status=status,
        name=f"asset_check_results_on_{status.value.lower()}",
        monitor_all_code_locations=True,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Copy the asset checks of each {status.value.lower()} run into asset_check_results",
    )
    def _sensor(context: dg.RunStatusSensorContext, lake: LakeResource) -> dg.SkipReason:
        run_id = context.dagster_run.run_id
        lk = lake.get_lake()
        try:
            new = record_run_checks(context.instance, run_id, lk)
        finally:
            lk.close()
        return dg.SkipReason(f"run {run_id}: {new} asset-check result(s) recorded")

    return _sensor


asset_check_results_on_success = _check_results_sensor(dg.DagsterRunStatus.SUCCESS)
asset_check_results_on_failure = _check_results_sensor(dg.DagsterRunStatus.FAILURE)

defs = dg.Definitions(sensors=[asset_check_results_on_success, asset_check_results_on_failure])

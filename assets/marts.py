"""Risk and uptime marts in Dagster: hourly partitions (camera is a column, not a partition dimension).

* ``risk_hourly_camera`` + ``risk_hourly_kelurahan``: one hourly partition = that hour recomputed from
  frames, frame_scores and camera_events and replaced in the lake (an upsert of touched hours).
* ``camera_uptime_daily``: one daily (UTC) partition = that day recomputed from frames.
* blocking checks: the marts' data-quality rules; a failing check stops the open-data release downstream.
* schedules: every 15 minutes the hour in progress and the one before; hourly today's uptime (and yesterday's
  in the first hour of a day).
"""

from datetime import timedelta

import dagster as dg

from marts.risk import QUALITY_CHECKS, quality_issues, refresh_risk_marts
from orchestration.resources import LakeResource

GROUP = "risk"
HOURLY = dg.HourlyPartitionsDefinition(start_date="2026-01-01-00:00", timezone="UTC", end_offset=1)
DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC", end_offset=1)
SOURCES = ["camera_frames"]  # the cameras domain's ingestion asset (frames, frame_scores, camera_events)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "risk_hourly_camera",
            group_name=GROUP,
            kinds={"ducklake"},
            deps=SOURCES,
            description="Hourly scores, risk level and event counts per camera.",
        ),
        dg.AssetSpec(
            "risk_hourly_kelurahan",
            group_name=GROUP,
            kinds={"ducklake"},
            deps=SOURCES,
            description="Hourly risk per kelurahan, rolled up from the camera hours.",
        ),
    ],
    partitions_def=HOURLY,
)
def risk_hourly_marts(context: dg.AssetExecutionContext, lake: LakeResource):  # type: ignore[no-untyped-def]
    start, end = context.partition_time_window
    lk = lake.get_lake()
    try:
        r = refresh_risk_marts(lk, start, end, uptime=False)
    finally:
        lk.close()
    yield dg.MaterializeResult(asset_key="risk_hourly_camera", metadata={"rows": r.camera_rows, "hour": str(r.start)})
    yield dg.MaterializeResult(
        asset_key="risk_hourly_kelurahan", metadata={"rows": r.kelurahan_rows, "hour": str(r.start)}
    )


@dg.asset(group_name=GROUP, kinds={"ducklake"}, partitions_def=DAILY, deps=SOURCES)
def camera_uptime_daily(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Samples per camera and UTC day by health status, and the usable share."""
    start, _ = context.partition_time_window
    lk = lake.get_lake()
    try:
        r = refresh_risk_marts(lk, start, start + timedelta(days=1), hourly=False)
    finally:
        lk.close()
    return dg.MaterializeResult(metadata={"rows": r.uptime_rows, "day": context.partition_key})


def _check(lake: LakeResource, prefix: str) -> dg.AssetCheckResult:
    lk = lake.get_lake(read_only=True)
    try:
        issues = {k: v for k, v in quality_issues(lk).items() if k.startswith(prefix)}
    finally:
        lk.close()
    rules = [k for k in QUALITY_CHECKS if k.startswith(prefix)]
    return dg.AssetCheckResult(
        passed=not issues, metadata={"failing": dg.MetadataValue.json(issues), "rules": len(rules)}
    )


@dg.asset_check(
    asset="risk_hourly_camera", blocking=True, description="Scores in [0,1], counts consistent, keys unique."
)
def risk_hourly_camera_quality(lake: LakeResource) -> dg.AssetCheckResult:
    return _check(lake, "risk_hourly_camera")


@dg.asset_check(asset=camera_uptime_daily, blocking=True, description="Uptime in [0,1], ok <= samples, keys unique.")
def camera_uptime_daily_quality(lake: LakeResource) -> dg.AssetCheckResult:
    return _check(lake, "camera_uptime_daily")


risk_hourly_job = dg.define_asset_job("risk_hourly_job", selection=[risk_hourly_marts], tags={"pantau/domain": GROUP})
camera_uptime_job = dg.define_asset_job(
    "camera_uptime_job", selection=[camera_uptime_daily], tags={"pantau/domain": GROUP}
)
REFRESH_MINUTES = 15  # the current hour is refreshed this often (its freshness policy warns at 75 minutes)


@dg.schedule(
    job=risk_hourly_job,
    cron_schedule=f"*/{REFRESH_MINUTES} * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def risk_hourly_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """Every 15 minutes: the hour in progress, and the hour before it (its last frames land after it ends)."""
    now = context.scheduled_execution_time
    hours = [now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=h) for h in (1, 0)]
    return [
        dg.RunRequest(run_key=f"{h:%Y-%m-%d-%H:%M}@{now:%Y-%m-%dT%H:%M}", partition_key=f"{h:%Y-%m-%d-%H:%M}")
        for h in hours
    ]


@dg.schedule(
    job=camera_uptime_job,
    cron_schedule="20 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def camera_uptime_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """Hourly at :20: today's uptime (UTC day); in the first hour of a day also yesterday's, now complete."""
    now = context.scheduled_execution_time
    days = [now.date() - timedelta(days=1)] if now.hour == 0 else []
    days.append(now.date())
    return [dg.RunRequest(run_key=f"{d:%Y-%m-%d}@{now:%Y-%m-%dT%H:%M}", partition_key=f"{d:%Y-%m-%d}") for d in days]


defs = dg.Definitions(
    assets=[risk_hourly_marts, camera_uptime_daily],
    asset_checks=[risk_hourly_camera_quality, camera_uptime_daily_quality],
    jobs=[risk_hourly_job, camera_uptime_job],
    schedules=[risk_hourly_schedule, camera_uptime_schedule],
)

"""Scheduled lake upkeep: compaction, snapshot expiry, retention by policy (``warehouse.upkeep``).

Three assets, each with its own job and schedule (on by default) and each checked afterwards by
``*_keeps_releases``: every published release still has its lake snapshot and every file of its ``SHA256SUMS``.

* ``lake_compaction`` (hourly, :40): 30-second capture micro-batches leave one small file per batch and table;
  merges them up to ``target_file_mb``.
* ``snapshot_expiry`` (daily 02:30 UTC): forgets snapshots older than ``snapshot_days`` except those releases name.
* ``data_retention`` (daily 01:30 UTC): raw keyframe objects after ``private_keyframe_days`` (and their keys in
  ``frames``), blurred ones after ``public_keyframe_days``, ingested landing files after ``landing_days``, and the
  table rules of the policy (Jaki personal fields by purpose). Days per table come from the run config
  (``table_days``) over the ``[pantau.upkeep]`` table of the config file over the shipped policy.

What each removed is in its materialization metadata and in the lake table ``upkeep_log``.
"""

from dataclasses import replace
from typing import Any

import dagster as dg

from ingest.cameras.landing import prune_keyframes
from open_data.release import list_releases
from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource
from warehouse.upkeep import (
    UpkeepPolicy,
    apply_retention,
    compact_lake,
    expire_snapshots,
    policy_from_mapping,
    release_reference_problems,
)

GROUP = "upkeep"
LANE = {"pantau/lane": "upkeep"}  # one upkeep run at a time (dagster.yaml tag limit)


def _policy(settings: SettingsResource) -> UpkeepPolicy:
    return policy_from_mapping(settings.get().upkeep)


def _pins(store: ObjectStoreResource) -> list[int]:
    return sorted({int(r["snapshot_id"]) for r in list_releases(store.get_store()) if "snapshot_id" in r})


def _table(entries: list[dict[str, Any]]) -> dg.MetadataValue:
    return dg.MetadataValue.json([{k: (str(v) if k == "cutoff" else v) for k, v in e.items()} for e in entries])


class CompactionConfig(dg.Config):
    target_file_mb: float | None = None  # default: the policy's (64 MB)


@dg.asset(group_name=GROUP, kinds={"ducklake"})
def lake_compaction(config: CompactionConfig, lake: LakeResource, settings: SettingsResource) -> dg.MaterializeResult:
    """Small Parquet files of every lake table merged up to the target size (time travel unchanged)."""
    policy = _policy(settings)
    lk = lake.get_lake()
    try:
        out = compact_lake(
            lk, target_file_mb=config.target_file_mb or policy.target_file_mb, delete_threshold=policy.delete_threshold
        )
    finally:
        lk.close()
    return dg.MaterializeResult(
        metadata={
            "tables_compacted": len(out),
            "files_before": sum(int(e["files_before"]) for e in out),
            "files_after": sum(int(e["files_after"]) for e in out),
            "tables": _table(out),
        }
    )


class ExpiryConfig(dg.Config):
    snapshot_days: float | None = None  # default: the policy's (7 days)


@dg.asset(group_name=GROUP, kinds={"ducklake"}, deps=[lake_compaction])
def snapshot_expiry(
    config: ExpiryConfig, lake: LakeResource, store: ObjectStoreResource, settings: SettingsResource
) -> dg.MaterializeResult:
    """Snapshots older than the window expired (never one a release names) and unreferenced files deleted."""
    days = config.snapshot_days if config.snapshot_days is not None else _policy(settings).snapshot_days
    pins = _pins(store)
    lk = lake.get_lake()
    try:
        out = expire_snapshots(lk, older_than_days=days, pinned=pins)
    finally:
        lk.close()
    detail = out[0]["detail"]
    return dg.MaterializeResult(
        metadata={
            "snapshots_expired": detail["expired"],
            "files_deleted": detail["files_deleted"],
            "kept_for_releases": dg.MetadataValue.json(detail["kept_for_releases"]),
            "older_than_days": days,
        }
    )


class RetentionConfig(dg.Config):
    private_keyframe_days: float = 7.0
    public_keyframe_days: float = 30.0
    landing_days: float = 3.0
    table_days: dict[str, float] | None = None  # e.g. {"jaki_usage_events": 60}: days for that table's rules


@dg.asset(group_name=GROUP, kinds={"ducklake", "s3"})
def data_retention(
    config: RetentionConfig, lake: LakeResource, store: ObjectStoreResource, settings: SettingsResource
) -> dg.MaterializeResult:
    """Keyframes, landing files and table rows/fields past their retention removed; what went is in metadata."""
    policy = policy_from_mapping(
        {"retention": {t: {"days": d} for t, d in (config.table_days or {}).items()}}, base=_policy(settings)
    )
    frames_days = {"keyframe_uri": config.private_keyframe_days, "public_uri": config.public_keyframe_days}
    rules = [
        replace(r, days=frames_days[r.columns[0]]) if r.table == "frames" and r.columns[0] in frames_days else r
        for r in policy.rules
    ]
    lk = lake.get_lake()
    try:
        objects = prune_keyframes(
            store.get_store(),
            private_days=config.private_keyframe_days,
            public_days=config.public_keyframe_days,
            landing_days=config.landing_days,
            lake=lk,
        )
        out = apply_retention(lk, rules)
    finally:
        lk.close()
    return dg.MaterializeResult(
        metadata={
            "objects_deleted": dg.MetadataValue.json(objects),
            "rows_deleted": sum(int(e["rows"]) for e in out if e["action"] == "delete_rows"),
            "rows_cleared": sum(int(e["rows"]) for e in out if e["action"] == "clear_columns"),
            "rules": _table(out),
        }
    )


def _release_check(asset: Any) -> dg.AssetChecksDefinition:
    name = f"{asset.key.to_python_identifier()}_keeps_releases"

    @dg.asset_check(
        asset=asset,
        name=name,
        description="Every published release still has its lake snapshot and every file its SHA256SUMS lists.",
    )
    def _check(lake: LakeResource, store: ObjectStoreResource) -> dg.AssetCheckResult:
        st = store.get_store()
        releases = list_releases(st)
        lk = lake.get_lake(read_only=True)
        try:
            problems = release_reference_problems(lk, st, releases)
        finally:
            lk.close()
        return dg.AssetCheckResult(
            passed=not problems,
            metadata={"releases": len(releases), "problems": dg.MetadataValue.json(problems[:50])},
        )

    return _check


UPKEEP_ASSETS = [lake_compaction, snapshot_expiry, data_retention]
release_checks = [_release_check(a) for a in UPKEEP_ASSETS]

lake_compaction_job = dg.define_asset_job("lake_compaction_job", selection=[lake_compaction], tags=LANE)
snapshot_expiry_job = dg.define_asset_job("snapshot_expiry_job", selection=[snapshot_expiry], tags=LANE)
data_retention_job = dg.define_asset_job("data_retention_job", selection=[data_retention], tags=LANE)

schedules = [
    dg.ScheduleDefinition(
        name=f"{job.name.removesuffix('_job')}_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    for job, cron in (
        (lake_compaction_job, "40 * * * *"),
        (snapshot_expiry_job, "30 2 * * *"),
        (data_retention_job, "30 1 * * *"),
    )
]

defs = dg.Definitions(
    assets=UPKEEP_ASSETS,
    asset_checks=release_checks,
    jobs=[lake_compaction_job, snapshot_expiry_job, data_retention_job],
    schedules=schedules,
)

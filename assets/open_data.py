"""Open-data releases in Dagster, downstream of the marts.

``open_data_snapshot`` pins the lake snapshot to publish and carries the blocking quality gate
(mart data-quality rules); ``open_data_release`` builds and publishes the release of exactly that
snapshot (skipped when the gate fails). A daily schedule runs both at 01:00 WIB.
"""

import dagster as dg

from marts.risk import quality_issues
from open_data.dcat import validate_catalog
from open_data.publish import run_publish
from open_data.release import DEFAULT_BASE_URL, RELEASES_PREFIX, list_releases
from orchestration.resources import LakeResource, ObjectStoreResource

GROUP = "open_data"
UPSTREAM = [
    "risk_hourly_camera",
    "risk_hourly_kelurahan",
    "camera_uptime_daily",
    "cameras",
    "alert_history",
    "jaki_daily_usage",
    "jaki_complaints_summary",
    "jaki_hospital_beds_daily",
    "jaki_parking_hourly",
    "placement_candidates",
]


@dg.asset(group_name=GROUP, kinds={"ducklake"}, deps=UPSTREAM)
def open_data_snapshot(lake: LakeResource) -> dg.Output[int]:
    """The lake snapshot the next release is built from (latest at materialization)."""
    lk = lake.get_lake(read_only=True)
    try:
        sid = lk.snapshot_id()
    finally:
        lk.close()
    return dg.Output(sid, metadata={"snapshot_id": sid})


@dg.asset_check(asset=open_data_snapshot, blocking=True, description="Mart data-quality rules hold at the snapshot.")
def open_data_quality_gate(lake: LakeResource) -> dg.AssetCheckResult:
    lk = lake.get_lake(read_only=True)
    try:
        issues = quality_issues(lk) if "risk_hourly_camera" in lk.tables() else {}
    finally:
        lk.close()
    return dg.AssetCheckResult(passed=not issues, metadata={"failing": dg.MetadataValue.json(issues)})


class ReleaseConfig(dg.Config):
    base_url: str = DEFAULT_BASE_URL
    force: bool = False  # publish even when the data equal the previous release


@dg.asset(group_name=GROUP, kinds={"s3", "parquet"})
def open_data_release(
    config: ReleaseConfig, open_data_snapshot: int, lake: LakeResource, store: ObjectStoreResource
) -> dg.MaterializeResult:
    """Versioned, checksummed, privacy-safe release + portal, published to the object store."""
    lk = lake.get_lake()
    try:
        s = run_publish(lk, store.get_store(), open_data_snapshot, base_url=config.base_url, force=config.force)
    finally:
        lk.close()
    return dg.MaterializeResult(
        metadata={
            "version": s["version"],
            "snapshot_id": s["snapshot_id"],
            "written": s["written"],
            "datasets": dg.MetadataValue.json(s["datasets"]),
            "skipped": dg.MetadataValue.json(s["skipped"]),
            "checksums_sha256": s["checksums_sha256"],
            "uri": dg.MetadataValue.url(s["uri"]) if s["uri"].startswith("http") else s["uri"],
        }
    )


@dg.asset_check(asset=open_data_release, description="The latest release's DCAT catalog conforms to DCAT-AP 3.0.0.")
def open_data_release_dcat(store: ObjectStoreResource) -> dg.AssetCheckResult:
    st = store.get_store()
    releases = list_releases(st)
    if not releases:
        return dg.AssetCheckResult(passed=False, metadata={"error": "no release"})
    version = releases[-1]["version"]
    ok, report = validate_catalog(st.get_bytes(f"{RELEASES_PREFIX}/{version}/catalog.ttl"))
    return dg.AssetCheckResult(passed=ok, metadata={"version": version, "report": report[:2000]})


open_data_release_job = dg.define_asset_job("open_data_release_job", selection=[open_data_snapshot, open_data_release])
open_data_daily_schedule = dg.ScheduleDefinition(
    job=open_data_release_job,
    cron_schedule="0 18 * * *",
    execution_timezone="UTC",
    name="open_data_daily_release",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)  # 18:00 UTC = 01:00 WIB, after the day's marts

defs = dg.Definitions(
    assets=[open_data_snapshot, open_data_release],
    asset_checks=[open_data_quality_gate, open_data_release_dcat],
    jobs=[open_data_release_job],
    schedules=[open_data_daily_schedule],
)

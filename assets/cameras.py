"""Cameras in Dagster: bounded capture, landing -> lake sensor, daily roll-up.

* ``camera_snapshots``: capture N seconds from all (or selected) cameras through the capture worker code,
  land micro-batches and ingest them (the same exactly-once ingestion the sensor runs).
* ``camera_frames`` + ``camera_landing_sensor``: the sensor launches a run whenever the landing zone holds
  files the ``landed_batches`` ledger does not; the asset ingests them exactly once.
* ``camera_events_daily``: daily partitions (camera is a column, not a partition dimension).

Keyframe and landing-file retention is part of the upkeep domain (``assets/upkeep.py``: ``data_retention``).
"""

import dagster as dg

from assets.landing import landing_sensor
from ingest.cameras.landing import ingest_landed_batches, pending_keys, rollup_camera_day
from ingest.cameras.registry import filter_ids, load_cameras_file, load_cameras_lake
from ingest.cameras.worker import WorkerConfig, capture_for
from orchestration.resources import LakeResource, ObjectStoreResource

DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC", end_offset=1)  # today included


class SnapshotConfig(dg.Config):
    duration_s: float = 60.0
    interval_s: float = 10.0
    camera_ids: list[str] | None = None
    cameras_file: str | None = None  # CSV/JSON registry instead of the lake's cameras table
    max_threads: int = 32
    public_keyframes: bool = True


@dg.asset(group_name="cameras", compute_kind="python")
def camera_snapshots(config: SnapshotConfig, lake: LakeResource, store: ObjectStoreResource) -> dg.MaterializeResult:
    """Bounded capture of ``duration_s`` seconds through the real stream protocols, landed and ingested."""
    lk = lake.get_lake()
    try:
        cams = load_cameras_file(config.cameras_file) if config.cameras_file else load_cameras_lake(lk)
        cams = filter_ids(cams, config.camera_ids)
        st = store.get_store()
        stats = capture_for(
            cams,
            st,
            config.duration_s,
            interval_s=config.interval_s,
            config=WorkerConfig(max_threads=config.max_threads),
            blur=config.public_keyframes,
        )
        landed = ingest_landed_batches(lk, st)
    finally:
        lk.close()
    return dg.MaterializeResult(
        metadata={
            **{f"capture_{k}": v for k, v in stats.as_dict().items() if k != "statuses"},
            "statuses": dg.MetadataValue.json(dict(stats.statuses)),
            **{f"ingest_{k}": v for k, v in landed.as_dict().items()},
        }
    )


@dg.asset(group_name="cameras", compute_kind="duckdb", deps=[camera_snapshots])
def camera_frames(lake: LakeResource, store: ObjectStoreResource) -> dg.MaterializeResult:
    """frames, frame_scores, camera_events, camera_health_transitions from landed batches, exactly once."""
    lk = lake.get_lake()
    try:
        stats = ingest_landed_batches(lk, store.get_store())
    finally:
        lk.close()
    return dg.MaterializeResult(metadata=stats.as_dict())


@dg.asset(group_name="cameras", compute_kind="duckdb", partitions_def=DAILY, deps=[camera_frames])
def camera_events_daily(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Per camera and UTC day: samples, uptime, health counts, hazard frames (recomputed per partition)."""
    lk = lake.get_lake()
    try:
        n = rollup_camera_day(lk, context.partition_key)
    finally:
        lk.close()
    return dg.MaterializeResult(metadata={"cameras": n, "day": context.partition_key})


# One ingester at a time: with the embedded lake the write lock serialises them anyway; with the PostgreSQL
# catalog set run_queue.tag_concurrency_limits [{key: pantau/concurrency, value: camera_landing, limit: 1}].
camera_landing_job = dg.define_asset_job(
    "camera_landing_job", selection=[camera_frames], tags={"pantau/concurrency": "camera_landing"}
)


camera_landing_sensor = landing_sensor(
    "camera_landing_sensor",
    camera_landing_job,
    lambda lake, store: [key for key, _ in pending_keys(lake, store)],
    "landed camera batches",
    interval_s=30,
)


camera_daily_schedule = dg.build_schedule_from_partitioned_job(
    dg.define_asset_job("camera_events_daily_job", selection=[camera_events_daily]),
    hour_of_day=0,
    minute_of_hour=20,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[camera_snapshots, camera_frames, camera_events_daily],
    sensors=[camera_landing_sensor],
    jobs=[camera_landing_job],
    schedules=[camera_daily_schedule],
)

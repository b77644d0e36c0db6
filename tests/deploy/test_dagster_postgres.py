"""Dagster in production mode: PostgreSQL run/event-log/schedule storage, lake on PostgreSQL + S3."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from assets.reference import lake_schema, reference_tables
from orchestration.resources import LakeResource
from warehouse.lake import Lake, LakeConfig

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _pg_lake_env(monkeypatch: pytest.MonkeyPatch, cfg: LakeConfig) -> None:
    assert cfg.s3 is not None
    monkeypatch.setenv("PANTAU_PG_DSN", cfg.postgres_dsn)
    monkeypatch.setenv("PANTAU_S3_ENDPOINT", cfg.s3.endpoint)
    monkeypatch.setenv("PANTAU_S3_ACCESS_KEY", cfg.s3.access_key)
    monkeypatch.setenv("PANTAU_S3_SECRET_KEY", cfg.s3.secret_key)
    monkeypatch.setenv("PANTAU_S3_BUCKET", cfg.s3.bucket)


def test_reference_pipeline_on_postgres_instance_and_postgres_s3_lake(
    pg_instance: dg.DagsterInstance,
    pg_database: str,
    pg_lake_config: LakeConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    assert isinstance(pg_instance.run_storage, PostgresRunStorage)
    assert isinstance(pg_instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(pg_instance.schedule_storage, PostgresScheduleStorage)
    _pg_lake_env(monkeypatch, pg_lake_config)
    resource = LakeResource(data_dir=str(tmp_path / "pantau-data"), catalog="postgres")
    assert resource.lake_config().catalog == "postgres"
    result = dg.materialize([lake_schema, reference_tables], instance=pg_instance, resources={"lake": resource})
    assert result.success
    mats = {str(e.asset_key.to_user_string()): e for e in result.get_asset_materialization_events() if e.asset_key}
    assert {"lake_schema", "cameras", "kelurahan", "reference_issues"} <= set(mats)
    cams_meta = int(mats["cameras"].materialization.metadata["rows"].value)  # type: ignore[arg-type]

    # the run and its events live in PostgreSQL (read with a fresh connection, not through Dagster)
    conn = psycopg2.connect(pg_database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT run_id, status FROM runs")
            runs = cur.fetchall()
            cur.execute(
                "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
                (result.run_id,),
            )
            n_mat = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM asset_keys WHERE asset_key LIKE %s", ('%"cameras"%',))
            n_key = cur.fetchone()[0]
    finally:
        conn.close()
    assert runs == [(result.run_id, "SUCCESS")]
    assert n_mat == len(mats)
    assert n_key == 1

    # a second instance on the same database sees the run (what the webserver/daemon would see)
    other = dg.DagsterInstance.get()
    try:
        rec = other.get_run_record_by_id(result.run_id)
        assert rec is not None and rec.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    finally:
        other.dispose()

    # the lake rows are in the PostgreSQL catalog with data files on S3
    with Lake(pg_lake_config, read_only=True) as lk:
        assert lk.scalar("SELECT count(*) FROM cameras") == cams_meta > 1000
        paths = lk.query("SELECT data_file FROM ducklake_list_files('lake', 'cameras')").column(0).to_pylist()
    assert paths and all(str(p).startswith(f"s3://{pg_lake_config.s3.bucket}/") for p in paths)  # type: ignore[union-attr]

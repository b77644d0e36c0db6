"""dagster-celery on the machine's RabbitMQ: two real Celery workers run one multi-asset job."""

from __future__ import annotations

import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableJob

from tests.deploy.celery_workers import Workers

pytestmark = [pytest.mark.services, pytest.mark.slow]

JOB_FILE = Path(__file__).with_name("celery_job.py")
RABBIT = "pyamqp://guest:guest@127.0.0.1:5672//"


def use_broker(monkeypatch: pytest.MonkeyPatch, broker: str, backend: str, queue: str) -> None:
    """The executor (orchestration.celery_app) and the workers (deploy/celery) read the same variables."""
    monkeypatch.setenv("PANTAU_CELERY_BROKER", broker)
    monkeypatch.setenv("PANTAU_CELERY_BACKEND", backend)
    monkeypatch.setenv("PANTAU_CELERY_QUEUE", queue)


def materializations(result: dg.ExecuteJobResult) -> dict[str, dict[str, object]]:
    out = {}
    for ev in result.get_asset_materialization_events():
        md = ev.materialization.metadata
        out[ev.asset_key.to_user_string()] = {k: v.value for k, v in md.items()}
    return out


def test_job_runs_across_two_celery_workers(
    pg_instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_ok = __import__("socket").create_connection(("127.0.0.1", 5672), timeout=3)
    socket_ok.close()
    queue = f"pantau-test-{uuid.uuid4().hex[:8]}"
    use_broker(monkeypatch, RABBIT, "rpc://", queue)
    workers = Workers(RABBIT, "rpc://", queue, tmp_path)
    workers.start("w1")
    workers.start("w2")
    try:
        workers.wait_ready()
        recon = ReconstructableJob.for_file(str(JOB_FILE), "define_job")
        result = dg.execute_job(recon, instance=pg_instance)
        assert result.success
        mats = materializations(result)
    finally:
        workers.stop()
    assert set(mats) == {"part_0", "part_1", "part_2", "part_3", "joined"}
    ran_on = {m["worker"] for m in mats.values()}
    assert ran_on == {"w1", "w2"}, mats  # steps ran in both worker processes
    assert len({m["pid"] for m in mats.values()}) == 2
    pids = {workers.procs[w].pid for w in ("w1", "w2")}
    assert {m["pid"] for m in mats.values()} == pids  # ... and in those very processes (--pool solo)
    events = pg_instance.all_logs(result.run_id)
    assert any("in celery worker" in (e.message or "") for e in events)

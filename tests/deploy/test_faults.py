"""Fault tests: lake catalog (PostgreSQL) unavailable, S3 endpoint down then back, Celery broker restart.

In each case the failing write raises cleanly and, after recovery, retrying the same batch with
``Lake.insert_new`` (keys) leaves every row exactly once.
"""

from __future__ import annotations

import dataclasses
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pyarrow as pa
import pytest
from dagster._core.definitions.reconstruct import ReconstructableJob

from tests.conftest import free_port
from tests.deploy.celery_workers import Workers
from warehouse.lake import Lake, LakeConfig, LakeError, S3Config
from warehouse.migrations import migrate

pytestmark = [pytest.mark.services, pytest.mark.slow]

FAULT_JOB = Path(__file__).with_name("celery_fault_job.py")


def batch(keys: range) -> pa.Table:
    return pa.table({"batch_id": ["b"] * len(keys), "key": [f"k{i}" for i in keys], "rows": list(keys)})


def count_keys(lk: Lake) -> tuple[int, int]:
    row = lk.query("SELECT count(*) AS n, count(DISTINCT key) AS k FROM landed_batches").to_pylist()[0]
    return int(row["n"]), int(row["k"])


def terminate_backends(dsn: str) -> int:
    dbname = psycopg2.extensions.parse_dsn(dsn)["dbname"]
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", (dbname,))
            return int(cur.fetchone()[0])
    finally:
        admin.close()


def test_lake_catalog_unavailable_then_back(pg_lake_config: LakeConfig) -> None:
    cfg = dataclasses.replace(pg_lake_config, retries=3)
    with Lake(cfg) as lk:
        migrate(lk)
        assert lk.insert_new("landed_batches", batch(range(0, 50)), ["key"]) == 50
    # the catalog server is unreachable (closed port): opening fails with a clean LakeError, nothing written
    down = dataclasses.replace(cfg, postgres_dsn="host=127.0.0.1 port=1 dbname=x user=postgres connect_timeout=2")
    with pytest.raises(LakeError, match="cannot attach"):
        Lake(down).insert_new("landed_batches", batch(range(50, 100)), ["key"])
    # mid-run: the server drops every catalog connection (what a PostgreSQL restart does)
    lk = Lake(cfg)
    assert lk.insert_new("landed_batches", batch(range(50, 80)), ["key"]) == 30
    assert terminate_backends(cfg.postgres_dsn) >= 1
    try:
        lk.insert_new("landed_batches", batch(range(50, 100)), ["key"])
    except Exception:  # the handle's catalog connection is gone: reopen and retry the same batch
        lk.close()
        lk = Lake(cfg)
        lk.insert_new("landed_batches", batch(range(50, 100)), ["key"])
    lk.insert_new("landed_batches", batch(range(0, 100)), ["key"])  # an over-eager retry is harmless
    assert count_keys(lk) == (100, 100)
    lk.close()


@pytest.fixture
def own_s3(pg_database: str, tmp_path: Path) -> Iterator[tuple[LakeConfig, dict[str, object]]]:
    """A moto S3 server this test may stop and start again on the same port."""
    from minio import Minio
    from moto.server import ThreadedMotoServer

    port = free_port()
    box: dict[str, object] = {"server": ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)}
    box["server"].start()  # type: ignore[attr-defined]
    endpoint = f"127.0.0.1:{port}"
    Minio(endpoint, "testing", "testing", secure=False).make_bucket("pantau-fault")
    cfg = LakeConfig(
        catalog="postgres",
        root=tmp_path / "pantau-data",
        postgres_dsn=pg_database,
        s3=S3Config(endpoint, "testing", "testing", "pantau-fault"),
        retries=3,
    )
    try:
        yield cfg, box
    finally:
        server = box.get("server")
        if server is not None:
            server.stop()  # type: ignore[attr-defined]


def test_s3_endpoint_down_then_back(own_s3: tuple[LakeConfig, dict[str, object]]) -> None:
    from moto.server import ThreadedMotoServer

    cfg, box = own_s3
    lk = Lake(cfg)
    migrate(lk)
    assert lk.insert_new("landed_batches", batch(range(0, 40)), ["key"]) == 40
    box["server"].stop()  # type: ignore[attr-defined]
    box["server"] = None
    with pytest.raises(Exception, match=r"(?i)(http|connect|io error|s3)"):
        lk.insert_new("landed_batches", batch(range(40, 80)), ["key"])
    assert lk.scalar("SELECT count(*) FROM ducklake_snapshots('lake')") >= 1  # catalog still answers
    host, port = cfg.s3.endpoint.split(":")  # type: ignore[union-attr]
    server = ThreadedMotoServer(ip_address=host, port=int(port), verbose=False)
    server.start()
    box["server"] = server
    for _ in range(20):  # the endpoint is back: the retried batch lands once
        try:
            lk.insert_new("landed_batches", batch(range(40, 80)), ["key"])
            break
        except Exception:
            time.sleep(0.5)
    lk.insert_new("landed_batches", batch(range(0, 80)), ["key"])
    assert count_keys(lk) == (80, 80)
    assert lk.query("SELECT min(rows) AS lo, max(rows) AS hi FROM landed_batches").to_pylist()[0] == {"lo": 0, "hi": 79}
    lk.close()


class RedisBroker:
    """A throwaway redis-server (append-only file, so queued messages survive a restart) on a free port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.dir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def _materialized(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    """Assets materialised by one run, from the instance's event log."""
    recs = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    return {
        ev.asset_key.to_user_string()
        for rec in recs
        if (ev := rec.event_log_entry.dagster_event) is not None and ev.asset_key is not None
    }


def test_broker_restart_during_a_run(
    pg_instance: dg.DagsterInstance,
    lake: Lake,
    lake_config: LakeConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.deploy.test_celery import use_broker

    monkeypatch.setenv("PANTAU_TEST_LAKE_ROOT", str(lake_config.root))
    broker = RedisBroker(tmp_path)
    broker.start()
    backend = broker.url.replace("/0", "/1")
    use_broker(monkeypatch, broker.url, backend, "dagster-fault")
    workers = Workers(broker.url, backend, "dagster-fault", tmp_path)
    workers.start("w1")
    workers.start("w2")
    recon = ReconstructableJob.for_file(str(FAULT_JOB), "define_job")
    outcome: dict[str, dg.ExecuteJobResult] = {}
    try:
        workers.wait_ready()

        def _run() -> None:
            outcome["first"] = dg.execute_job(recon, instance=pg_instance, raise_on_error=False)

        t = threading.Thread(target=_run)
        t.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Executing steps" not in workers.log("w1") + workers.log("w2"):
            time.sleep(0.1)
        broker.stop()  # the broker goes away while steps are running
        time.sleep(2.0)
        broker.start()  # ... and comes back on the same port with its append-only file
        t.join(120)
        assert not t.is_alive()
        first = outcome["first"]
        final = first
        # the run failed on the lost broker: re-execute from failure (run_retries does this), unless every step
        # had already finished in the workers and only the run's result polling lost the broker (nothing to re-run)
        if not first.success and _materialized(pg_instance, first.run_id) != {"land_0", "land_1", "land_2"}:
            opts = dg.ReexecutionOptions.from_failure(first.run_id, pg_instance)
            final = dg.execute_job(recon, instance=pg_instance, reexecution_options=opts)
            assert final.success
    finally:
        workers.stop()
        broker.stop()
    assert count_keys(lake) == (15, 15)  # 3 steps x 5 rows, none lost, none twice
    done = _materialized(pg_instance, first.run_id) | _materialized(pg_instance, final.run_id)
    assert done == {"land_0", "land_1", "land_2"}
    print("broker restart: first run", "succeeded" if first.success else "failed, re-executed from failure")

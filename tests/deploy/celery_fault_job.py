"""Celery fault-test job: three steps, each sleeps, then lands its rows in the lake exactly once.

The lake root comes from ``PANTAU_TEST_LAKE_ROOT`` (set for the test process and the workers).
"""

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa

from warehouse.lake import Lake, LakeConfig

SLEEP_S = 3.0


def _land(name: str) -> int:
    with Lake(LakeConfig(root=Path(os.environ["PANTAU_TEST_LAKE_ROOT"]))) as lk:
        rows = pa.table(
            {
                "batch_id": [name] * 5,
                "key": [f"{name}-{i}" for i in range(5)],
                "rows": [1] * 5,
                "landed_at": [datetime.now(UTC)] * 5,
                "worker_id": [os.environ.get("PANTAU_TEST_WORKER", "")] * 5,
            }
        )
        return lk.insert_new("landed_batches", rows, ["key"])


def _step(name: str) -> dg.AssetsDefinition:
    @dg.asset(name=name)
    def _a() -> dg.MaterializeResult:
        time.sleep(SLEEP_S)
        return dg.MaterializeResult(metadata={"inserted": _land(name), "pid": os.getpid()})

    return _a


STEPS = [_step(f"land_{i}") for i in range(3)]


def define_job() -> dg.JobDefinition:
    from orchestration.celery_app import celery_executor_def

    defs = dg.Definitions(
        assets=STEPS, jobs=[dg.define_asset_job("celery_fault", selection="*", executor_def=celery_executor_def())]
    )
    return defs.resolve_job_def("celery_fault")

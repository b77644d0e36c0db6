"""A small multi-asset job for the Celery tests: four parallel steps and one that joins them.

Each step sleeps (so both workers get work) and records the process that ran it; the workers are told apart
by ``PANTAU_TEST_WORKER`` which the test sets for each worker process. Loaded by file path in the workers.
"""

import os
import socket
import time
from typing import Any

import dagster as dg

SLEEP_S = float(os.environ.get("PANTAU_TEST_STEP_SLEEP", "1.5"))


def _where() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "worker": os.environ.get("PANTAU_TEST_WORKER", "")}


def _part(name: str) -> dg.AssetsDefinition:
    @dg.asset(name=name)
    def _a(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        time.sleep(SLEEP_S)
        return dg.MaterializeResult(metadata=_where())

    return _a


PARTS = [_part(f"part_{i}") for i in range(4)]


@dg.asset(deps=PARTS)
def joined() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=_where())


def define_job() -> dg.JobDefinition:
    from orchestration.celery_app import celery_executor_def

    defs = dg.Definitions(
        assets=[*PARTS, joined],
        jobs=[dg.define_asset_job("celery_parts", selection="*", executor_def=celery_executor_def())],
    )
    return defs.resolve_job_def("celery_parts")

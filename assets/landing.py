"""One shape for the landing-zone sensors: poll for files the lake has not seen, ask for one run.

Used by the cameras (Parquet micro-batches) and Jaki (export files) domains. The run key is the
newest pending key, so a tick that finds the same files again launches nothing new.
"""

from collections.abc import Callable
from typing import Any

import dagster as dg

from orchestration.resources import LakeResource, ObjectStoreResource

PendingFn = Callable[[Any, Any], list[str]]  # (lake, object store) -> pending keys, oldest first


def landing_sensor(name: str, job: Any, pending: PendingFn, what: str, interval_s: int) -> dg.SensorDefinition:
    """A sensor (on by default) that requests a ``job`` run while ``pending`` finds unloaded ``what``."""

    @dg.sensor(name=name, job=job, minimum_interval_seconds=interval_s, default_status=dg.DefaultSensorStatus.RUNNING)
    def _sensor(
        context: dg.SensorEvaluationContext, lake: LakeResource, store: ObjectStoreResource
    ) -> dg.SensorResult | dg.SkipReason:
        lk = lake.get_lake(read_only=True)
        try:
            keys = pending(lk, store.get_store())
        finally:
            lk.close()
        if not keys:
            return dg.SkipReason(f"no new {what}")
        context.log.info("%d %s pending, newest %s", len(keys), what, keys[-1])
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=keys[-1])], cursor=keys[-1])

    _sensor.__doc__ = f"Requests a {job.name} run when new {what} land (run key = the newest pending key)."
    return _sensor

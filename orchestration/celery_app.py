"""The distributed executor: dagster-celery (or Kubernetes) configured from the platform settings.

``pantau_executor(settings)`` returns the executor that ``orchestration.definitions`` sets on
``Definitions(executor=...)``, chosen by ``settings.executor`` when the code location loads:

* ``celery``: ``dagster_celery.celery_executor`` on ``settings.celery_broker`` / ``celery_backend`` /
  ``celery_queue``, with retries enabled. Workers run ``celery -A dagster_celery.app worker -Q <queue>`` with
  ``deploy/celery`` on PYTHONPATH; ``dagster_celery_config.py`` there loads the same settings.
* ``k8s``: ``dagster_k8s.k8s_job_executor`` (one pod per step, ``K8S_EXECUTOR_CONFIG``; needs the ``k8s`` extra,
  ``pip install pantau[k8s]``).
* ``multiprocess`` (the default): the multiprocess executor, one machine.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from orchestration.settings import PantauSettings, load_settings

#: Celery settings shared by the Dagster side (``config_source``) and the workers (``deploy/celery``)
CELERY_TASK_SETTINGS: dict[str, Any] = {
    "worker_prefetch_multiplier": 1,
    "broker_connection_retry_on_startup": True,
}


def celery_config(settings: PantauSettings) -> dict[str, Any]:
    """The dagster-celery executor config for these settings."""
    return {
        "broker": settings.celery_broker,
        "backend": settings.celery_backend,
        "config_source": {**CELERY_TASK_SETTINGS, "task_default_queue": settings.celery_queue},
        "retries": {"enabled": {}},
    }


def celery_executor_def(settings: PantauSettings | None = None) -> dg.ExecutorDefinition:
    from dagster_celery import celery_executor

    return celery_executor.configured(celery_config(settings or load_settings()), name="pantau_celery")


K8S_EXECUTOR_CONFIG: dict[str, Any] = {
    "max_concurrent": 16,
    "step_k8s_config": {
        "container_config": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "4Gi"}}},
        "pod_spec_config": {"node_selector": {"pantau.io/pool": "batch"}},
    },
}


def pantau_executor(settings: PantauSettings) -> dg.ExecutorDefinition:
    if settings.executor == "celery":
        return celery_executor_def(settings)
    if settings.executor == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor.configured(K8S_EXECUTOR_CONFIG, name="pantau_k8s")
    return dg.multiprocess_executor.configured({"max_concurrent": 0}, name="pantau_multiprocess")

"""The distributed executor: dagster-celery configured from the environment.

``pantau_executor()`` returns the executor the lead sets on ``Definitions(executor=...)``:

* ``PANTAU_EXECUTOR=celery``: ``dagster_celery.celery_executor`` on ``PANTAU_CELERY_BROKER`` /
  ``PANTAU_CELERY_BACKEND`` / ``PANTAU_CELERY_QUEUE`` (read by Dagster at launch through ``{"env": ...}``,
  never at import), with retries enabled. Workers run
  ``celery -A dagster_celery.app worker -Q $PANTAU_CELERY_QUEUE`` with ``deploy/celery`` on PYTHONPATH
  (``dagster_celery_config.py`` there reads the same variables).
* ``PANTAU_EXECUTOR=k8s``: ``dagster_k8s.k8s_job_executor`` (one pod per step, ``K8S_EXECUTOR_CONFIG``; needs the
  ``k8s`` extra, ``pip install pantau[k8s]``).
* otherwise the multiprocess executor (one machine, the default).
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

CELERY_EXECUTOR_CONFIG: dict[str, Any] = {
    "broker": {"env": "PANTAU_CELERY_BROKER"},
    "backend": {"env": "PANTAU_CELERY_BACKEND"},
    "config_source": {
        "task_default_queue": "dagster",
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
    },
    "retries": {"enabled": {}},
}


def celery_executor_def() -> dg.ExecutorDefinition:
    from dagster_celery import celery_executor

    cfg = dict(CELERY_EXECUTOR_CONFIG)
    cfg["config_source"] = {
        **cfg["config_source"],
        "task_default_queue": os.environ.get("PANTAU_CELERY_QUEUE", "dagster"),
    }
    return celery_executor.configured(cfg, name="pantau_celery")


K8S_EXECUTOR_CONFIG: dict[str, Any] = {
    "max_concurrent": 16,
    "step_k8s_config": {
        "container_config": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "4Gi"}}},
        "pod_spec_config": {"node_selector": {"pantau.io/pool": "batch"}},
    },
}


def pantau_executor(kind: str | None = None) -> dg.ExecutorDefinition:
    kind = (kind or os.environ.get("PANTAU_EXECUTOR", "multiprocess")).lower()
    if kind == "celery":
        return celery_executor_def()
    if kind == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor.configured(K8S_EXECUTOR_CONFIG, name="pantau_k8s")
    return dg.multiprocess_executor.configured({"max_concurrent": 0}, name="pantau_multiprocess")

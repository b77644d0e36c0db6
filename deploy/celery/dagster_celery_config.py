"""Celery settings for Pantau's Dagster Celery workers (``dagster_celery.app`` imports this module by name).

Put this folder on PYTHONPATH of every worker and start it with

    PYTHONPATH=deploy/celery:. celery -A dagster_celery.app worker -Q dagster --concurrency 2 -n pantau-%h-1

Broker, backend and queue come from the platform settings loaded once when the worker starts (``PANTAU_*``
variables over the ``PANTAU_CONFIG`` TOML file), the same settings the Dagster side's executor uses:

    celery_broker   pyamqp://guest:guest@rabbitmq:5672//  (or redis://redis:6379/0)
    celery_backend  rpc:// with RabbitMQ, redis://redis:6379/1 with Redis
    celery_queue    dagster (the queue this worker consumes; -Q wins if given)
"""

from orchestration.celery_app import CELERY_TASK_SETTINGS
from orchestration.settings import load_settings

_settings = load_settings()
broker_url = _settings.celery_broker
result_backend = _settings.celery_backend
task_default_queue = _settings.celery_queue

# one step per worker slot at a time: a long step never hoards queued steps another worker could run
worker_prefetch_multiplier = CELERY_TASK_SETTINGS["worker_prefetch_multiplier"]
# a step is acknowledged only when it finished: a worker killed mid-step gives the message back to the broker
task_acks_late = True
task_reject_on_worker_lost = True
# survive broker restarts: reconnect forever with backoff instead of exiting
broker_connection_retry = True
broker_connection_retry_on_startup = CELERY_TASK_SETTINGS["broker_connection_retry_on_startup"]
broker_connection_max_retries = None
broker_heartbeat = 30
broker_transport_options = {
    "max_retries": 10,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 3,
    "visibility_timeout": 3600,  # Redis: an unacked step is redelivered after 1 h (longer than any step)
}
result_backend_transport_options = {"retry_policy": {"timeout": 5.0}}
result_expires = 86400
worker_send_task_events = True  # for Flower / celery events
task_send_sent_event = True
worker_max_tasks_per_child = 200  # bound memory growth of long-lived workers

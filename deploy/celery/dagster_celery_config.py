"""Celery settings for Pantau's Dagster Celery workers (``dagster_celery.app`` imports this module by name).

Put this folder on PYTHONPATH of every worker and start it with

    PYTHONPATH=deploy/celery:. celery -A dagster_celery.app worker -Q dagster --concurrency 2 -n pantau-%h-1

The Dagster side (``celery_executor`` config in orchestration / the job's run config) must name the same
broker, backend and queue. Environment:

    PANTAU_CELERY_BROKER   pyamqp://guest:guest@rabbitmq:5672//  (or redis://redis:6379/0)
    PANTAU_CELERY_BACKEND  rpc:// with RabbitMQ, redis://redis:6379/1 with Redis
    PANTAU_CELERY_QUEUE    dagster (the queue this worker consumes; -Q wins if given)
"""

import os

broker_url = os.environ.get("PANTAU_CELERY_BROKER", "pyamqp://guest:guest@127.0.0.1:5672//")
result_backend = os.environ.get("PANTAU_CELERY_BACKEND", "rpc://")
task_default_queue = os.environ.get("PANTAU_CELERY_QUEUE", "dagster")

# one step per worker slot at a time: a long step never hoards queued steps another worker could run
worker_prefetch_multiplier = 1
# a step is acknowledged only when it finished: a worker killed mid-step gives the message back to the broker
task_acks_late = True
task_reject_on_worker_lost = True
# survive broker restarts: reconnect forever with backoff instead of exiting
broker_connection_retry = True
broker_connection_retry_on_startup = True
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

"""The Celery app's configuration, shared by the producer (API) and the consumer (worker).

Everything both sides must agree on is set here, from qagen's settings: the queue
(`QAGEN_QUEUE`), JSON messages, the acks-late profile, the time limits
(`QAGEN_TASK_SOFT_TIME_LIMIT_SECONDS`, `QAGEN_TASK_HARD_TIME_LIMIT_SECONDS`) and the
broker's visibility timeout; the task names are in qagen.jobs.names. The worker's Celery
app itself (its tasks, its logging) is worker/celery_app.py.

Tuned for minute-long jobs (field-notes-ops §1.4): acks after the task returns, a killed
child's job goes back on the queue, one task reserved per process, and the broker's
visibility timeout above the hard time limit so a running job is never redelivered.
A job lost with its worker does not wait for that timeout: qagen.jobs.leases detects it within
`lease_ttl_seconds` + `recovery_interval_seconds` and queues it again (docs/reliability.md).
"""

from __future__ import annotations

from celery import Celery

from qagen.settings import Settings

# How far the broker's visibility timeout stays above the hard time limit.
VISIBILITY_MARGIN_SECONDS = 600


def visibility_timeout(settings: Settings) -> int:
    """Seconds before Redis hands an unacknowledged message out again (2400 by default)."""
    return settings.task_hard_time_limit_seconds + VISIBILITY_MARGIN_SECONDS


def make_celery(settings: Settings, *, include: tuple[str, ...] = ()) -> Celery:
    app = Celery("qagen", broker=settings.redis_url, include=list(include))
    visibility = {"visibility_timeout": visibility_timeout(settings)}
    app.conf.update(
        task_default_queue=settings.queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # state lives in the session record, not a result backend
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit_seconds,
        task_time_limit=settings.task_hard_time_limit_seconds,
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        worker_send_task_events=True,
        # No "task-sent" event per upload (a Redis publish, ~6% of an upload's API CPU):
        # Flower and the metrics see a job from "received" on; queue depth is read from Redis.
        task_send_sent_event=False,
        broker_transport_options=visibility,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    app.conf.visibility_timeout = visibility["visibility_timeout"]
    return app

"""The worker's Celery app, built from qagen's settings."""

from __future__ import annotations

from celery.signals import setup_logging

from qagen.logs import configure_logging
from qagen.jobs.queue import make_celery
from qagen.settings import get_settings

# worker.recovery connects the signals that start the lost-job sweeper and bound parsing;
# worker.gc_freeze the one that freezes a pool process's libraries after its first paper;
# worker.housekeeping the ones that start the object sweep and check the bucket's expiry rule;
# worker.warmup the one that warms each pool process up while it waits for its first task.
app = make_celery(get_settings(), include=("worker.tasks", "worker.webhook_tasks", "worker.recovery",
                                           "worker.gc_freeze", "worker.housekeeping", "worker.warmup"))


@setup_logging.connect
def _json_logs(**_kwargs) -> None:
    """Our logging instead of Celery's: JSON lines carrying the session id (the task id)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)

"""The worker's Celery app, built from qagen's settings."""

from __future__ import annotations

import logging

from qagen.queueing import make_celery
from qagen.settings import get_settings

logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = make_celery(get_settings(), include=("worker.tasks", "worker.webhook_tasks"))

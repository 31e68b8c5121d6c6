"""The worker's Celery app, built from qagen's settings."""

from __future__ import annotations

import logging
import os

# Read by litellm at import: the worker must never reach for the network to start.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from qagen.queueing import make_celery  # noqa: E402
from qagen.settings import get_settings  # noqa: E402

logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = make_celery(get_settings(), include=("worker.tasks",))

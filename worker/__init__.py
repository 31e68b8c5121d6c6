"""The Celery worker: `celery -A worker worker` (and `celery -A worker flower`)."""

from worker.celery_app import app

__all__ = ["app"]

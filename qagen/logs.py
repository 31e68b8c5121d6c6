"""Logging: JSON lines carrying the session id, so one job's story can be pulled from the logs.

The session id is found where it lives: a Celery task's id (it is the session id) in the
worker, the route's `session_id` in the API.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter


class SessionIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "session_id", None):
            record.session_id = _current_session_id()
        return True


def _current_session_id() -> str | None:
    try:
        from celery import current_task

        if current_task and current_task.request.id:
            return current_task.request.id
    except Exception:  # noqa: BLE001  (no Celery context)
        pass
    try:
        from flask import has_request_context, request

        if has_request_context() and request.view_args:
            return request.view_args.get("session_id")
    except Exception:  # noqa: BLE001
        pass
    return None


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route every logger through one handler on stderr, as JSON (or plain text for people)."""
    handler = logging.StreamHandler()
    handler.addFilter(SessionIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(session_id)s",
                                           rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(session_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)

"""Webhooks from the paper worker: the hook a finished job calls (`notify_if_finished`).

The worker only creates the event: its delivery record and its first attempt on the
schedule in Redis (`qagen.webhooks.enqueue_once`). The webhook dispatcher
(`python -m qagen.webhooks`, its own small process and Deployment) sends it and its
retries. No delivery runs on a paper worker any more: a retry waiting out its delay used
to sit in kombu's `unacked` hash, which KEDA counts as running work, keeping paper workers
up for hours for one unreachable callback (issue 16).

The two Celery tasks left here only hand work to the dispatcher: `qagen.deliver_webhook`
for messages sent by an older version during a rollout, and
`qagen.requeue_stalled_webhooks` for operators (the dispatcher already does the same at start).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from qagen.jobs.names import DELIVER_WEBHOOK, REQUEUE_STALLED_WEBHOOKS
from qagen.jobs.records import JobState, SessionStore
from qagen.redis_client import redis_from_settings
from qagen.settings import get_settings
from worker.celery_app import app

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _redis():
    """One client per worker process (made after the prefork, never shared across it)."""
    return redis_from_settings(get_settings())


def notify_session_finished(redis, session_public_dict: dict[str, Any], tenant: str, callback_url: str | None, *,
                            status_url: str | None = None, download_url: str | None = None) -> str | None:
    """Create a finished session's event for the dispatcher; returns its event id (None: no callback or not finished).

    Safe to call any number of times: the event id is fixed by (session id, status), and the
    record and its place on the schedule are created together, once (SET NX in one script).
    A later call also puts a pending record missing from the schedule back on it.
    """
    if not callback_url:
        return None
    from qagen import webhooks  # where a webhook is made, not at the worker's start-up (docs/performance.md)

    if session_public_dict.get("status") not in webhooks.EVENT_TYPES:
        log.warning("session %s is %s; no webhook until it is parsed for review or finishes", session_public_dict.get("session_id"),
                    session_public_dict.get("status"))
        return None
    event_id, body = webhooks.event_for(session_public_dict, tenant, status_url=status_url, download_url=download_url)
    if webhooks.enqueue_once(redis, event_id, body, callback_url, tenant):
        log.info("session %s: webhook %s scheduled for tenant %s", session_public_dict.get("session_id"), event_id,
                 tenant)
    else:
        webhooks.ensure_scheduled(redis, event_id)  # already created: delivered, failed or on the schedule
    return event_id


def notify_if_finished(redis, sessions: SessionStore, session_id: str) -> None:
    """Create the finished (or parsed-for-review) session's webhook event; harmless to repeat (one per status).

    Called by the paper task when its job ends (and when it finds its session already
    finished) and by the recovery sweeper when it fails a lost job; never raises.
    """
    try:
        session = sessions.fetch(session_id)
        if session.callback_url and session.status in (JobState.COMPLETE, JobState.FAILED, JobState.AWAITING_REVIEW):
            notify_session_finished(redis, session.to_public(), session.tenant, session.callback_url)
    except Exception:
        log.exception("session %s: its webhook could not be scheduled", session_id)


@app.task(name=DELIVER_WEBHOOK, ignore_result=True)
def deliver_webhook(event_id: str) -> bool:
    """A delivery message from an older version: the dispatcher sends the event; True if it was not scheduled."""
    from qagen import webhooks

    return webhooks.ensure_scheduled(_redis(), event_id)


@app.task(name=REQUEUE_STALLED_WEBHOOKS, ignore_result=True)
def requeue_stalled_webhooks() -> int:
    """Schedule pending events missing from the schedule (the dispatcher does this at start too)."""
    from qagen import webhooks

    return len(webhooks.adopt_unscheduled(_redis()))

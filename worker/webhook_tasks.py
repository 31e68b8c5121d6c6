"""Webhook delivery on Celery: the delivery task and the hook a finished job calls (`notify_if_finished`).

Each task run makes one attempt (`qagen.webhooks.attempt_delivery`) and, on a retryable
failure, schedules the next with `apply_async(countdown=...)`. Countdowns are capped below
the broker's visibility timeout (field-notes-ops §1.1): a longer ETA would make Redis hand
the message out again and again. The delivery record in Redis, not the message, is the
source of truth, so duplicate messages (redelivery, a repeated notify, `requeue_stalled`)
collapse into one chain and one delivery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from qagen import webhooks
from qagen.jobs.names import DELIVER_WEBHOOK, REQUEUE_STALLED_WEBHOOKS
from qagen.jobs.records import JobState, SessionStore
from qagen.redis_client import redis_from_settings
from qagen.settings import get_settings
from worker.celery_app import app

log = logging.getLogger(__name__)

_VISIBILITY_MARGIN_SECONDS = 300


@lru_cache(maxsize=1)
def _redis():
    """One client per worker process (made after the prefork, never shared across it)."""
    return redis_from_settings(get_settings())


def max_countdown(celery_app) -> float:
    """The longest safe countdown: the broker's visibility timeout minus a margin."""
    visibility = (celery_app.conf.get("visibility_timeout")
                  or (celery_app.conf.broker_transport_options or {}).get("visibility_timeout")
                  or 3600)
    return max(60.0, float(visibility) - _VISIBILITY_MARGIN_SECONDS)


def delivery_options(settings, celery_app=app) -> dict[str, Any]:
    """attempt_delivery's keyword arguments from settings (read with defaults until they are declared there)."""
    return {
        "allow": getattr(settings, "webhook_allow", "") or "",
        "max_attempts": int(getattr(settings, "webhook_max_attempts", webhooks.DEFAULT_MAX_ATTEMPTS)),
        "timeout": float(getattr(settings, "webhook_timeout_seconds", webhooks.DEFAULT_TIMEOUT_SECONDS)),
        "max_delay": max_countdown(celery_app),
    }


def process_delivery(redis, event_id: str, *, reschedule: Callable[[str, float], None],
                     allow: str = "", max_attempts: int = webhooks.DEFAULT_MAX_ATTEMPTS,
                     timeout: float = webhooks.DEFAULT_TIMEOUT_SECONDS,
                     schedule: Sequence[float] = webhooks.DEFAULT_SCHEDULE, jitter: float = webhooks.DEFAULT_JITTER,
                     max_delay: float | None = None, dns_timeout: float = webhooks.DNS_TIMEOUT_SECONDS
                     ) -> webhooks.Outcome:
    """The task's body: one attempt, then `reschedule(event_id, countdown)` if it should run again."""
    outcome = webhooks.attempt_delivery(redis, event_id, allow=allow, max_attempts=max_attempts, timeout=timeout,
                                        schedule=schedule, jitter=jitter, max_delay=max_delay,
                                        dns_timeout=dns_timeout)
    if outcome.retry_in is not None:
        try:
            reschedule(event_id, outcome.retry_in)
        except Exception:
            # The record still says pending; requeue_stalled (or the next notify) picks it up.
            log.exception("webhook %s: could not schedule the next attempt", event_id)
            raise
    return outcome


@app.task(name=DELIVER_WEBHOOK, bind=True, ignore_result=True)
def deliver_webhook(self, event_id: str) -> str:
    settings = get_settings()
    queue = (self.request.delivery_info or {}).get("routing_key") or settings.queue

    def reschedule(eid: str, countdown: float) -> None:
        deliver_webhook.apply_async(args=[eid], countdown=countdown, queue=queue)

    return process_delivery(_redis(), event_id, reschedule=reschedule, **delivery_options(settings)).action


def notify_session_finished(redis, celery_app, session_public_dict: dict[str, Any], tenant: str,
                            callback_url: str | None, *, queue: str | None = None,
                            status_url: str | None = None, download_url: str | None = None) -> str | None:
    """Hand a finished session's event to delivery; returns its event id (None: no callback or not finished).

    Safe to call any number of times: the event id is fixed by (session id, status) and the
    record is created with SET NX, so only the first call enqueues. A later call also
    repairs a crash between creating the record and sending the task (record pending, never
    enqueued), which is why the paper task calls this again when it finds its session
    already finished.
    """
    if not callback_url:
        return None
    if session_public_dict.get("status") not in webhooks.FINAL_STATUSES:
        log.warning("session %s is %s; no webhook until it finishes", session_public_dict.get("session_id"),
                    session_public_dict.get("status"))
        return None
    event_id, body = webhooks.event_for(session_public_dict, tenant, status_url=status_url, download_url=download_url)
    created = webhooks.enqueue_once(redis, event_id, body, callback_url, tenant)
    if not created and not webhooks.needs_enqueue(redis, event_id):
        return event_id  # already handed to Celery (or already finished)
    celery_app.send_task(DELIVER_WEBHOOK, args=[event_id], queue=queue or celery_app.conf.task_default_queue)
    webhooks.mark_enqueued(redis, event_id)
    log.info("session %s: webhook %s enqueued for tenant %s", session_public_dict.get("session_id"), event_id, tenant)
    return event_id


def notify_if_finished(redis, sessions: SessionStore, session_id: str) -> None:
    """Enqueue the finished session's webhook; harmless to repeat (one event per final status).

    Called by the paper task when its job ends (and when it finds its session already
    finished) and by the recovery sweeper when it fails a lost job; never raises.
    """
    try:
        session = sessions.fetch(session_id)
        if session.callback_url and session.status in (JobState.COMPLETE, JobState.FAILED):
            notify_session_finished(redis, app, session.to_public(), session.tenant, session.callback_url)
    except Exception:
        log.exception("session %s: its webhook could not be enqueued", session_id)


def requeue_stalled(redis, celery_app, *, stale_after: float | None = None, queue: str | None = None,
                    now: float | None = None) -> list[str]:
    """Re-send pending events whose task was lost (never sent, or the chain broke); returns their ids.

    A pending record is stalled when it was never enqueued (after a minute), or its next
    attempt is overdue by more than `stale_after` (default: the visibility timeout plus
    10 minutes, since a message held by a dead worker legitimately comes back that late).
    Duplicates this may create are harmless. Run it periodically (beat, cron with
    `celery call qagen.requeue_stalled_webhooks`) or after an incident.
    """
    now = time.time() if now is None else now
    stale_after = (max_countdown(celery_app) + _VISIBILITY_MARGIN_SECONDS + 600) if stale_after is None else stale_after
    requeued = []
    for record in webhooks.iter_records(redis):
        if record["status"] != "pending":
            continue
        event_id = record["event_id"]
        never_sent = webhooks.needs_enqueue(redis, event_id) and now - record["created_at"] > 60
        overdue = record["next_attempt_at"] is not None and now - record["next_attempt_at"] > stale_after
        if never_sent or overdue:
            celery_app.send_task(DELIVER_WEBHOOK, args=[event_id], queue=queue or celery_app.conf.task_default_queue)
            webhooks.mark_enqueued(redis, event_id)
            requeued.append(event_id)
    if requeued:
        log.warning("requeued %d stalled webhook(s): %s", len(requeued), ", ".join(requeued))
    return requeued


@app.task(name=REQUEUE_STALLED_WEBHOOKS, ignore_result=True)
def requeue_stalled_webhooks() -> int:
    return len(requeue_stalled(_redis(), app, queue=get_settings().queue))

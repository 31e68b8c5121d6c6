"""Webhook deliveries: the event of a finished session, its delivery record, each attempt.

Everything here is plain Python (stdlib, redis, httpx) so the API can import it to
validate a `callback_url` at upload time; the process that drives delivery is
qagen.webhooks.dispatcher (`python -m qagen.webhooks`), which claims due events from the
schedule below and calls `attempt_delivery`. docs/webhooks.md is the receiver-facing
description of the format, the signature and the retry schedule.

Pieces:

- `event_for` / `enqueue_once` — the event id is a function of (session id, final status),
  and the delivery record is created with SET NX, so re-running a session, a redelivered
  task or a repeated `notify` never produces a second event.
- The schedule: a sorted set `qagen:webhooks:due` of pending event ids scored with the time
  of their next attempt. The record and its schedule entry change together (one script or
  one MULTI), so a pending record is always scheduled; the dispatcher moves an entry it
  claims into the future for as long as an attempt may take, so an attempt that dies with
  its process comes due again by itself.
- `attempt_delivery` (load record, lock, re-validate, sign, deliver, record, decide the
  next delay) — the delivery policy; one HTTP attempt (`deliver`: the address checked again
  and pinned, no redirects, a deadline for the whole attempt) is qagen.webhooks.sending's.

Delivery is at least once: a receiver must de-duplicate on `Qagen-Event-Id`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from qagen.webhooks.addresses import DNS_TIMEOUT_SECONDS
from qagen.webhooks.sending import (DEFAULT_TIMEOUT_SECONDS, EVENT_ID_HEADER, EVENT_TYPE_HEADER, USER_AGENT,
                                    AttemptResult, attempt_seconds, deliver)
from qagen.webhooks.signing import WebhookSecrets

# EVENT_ID_HEADER, EVENT_TYPE_HEADER, USER_AGENT, AttemptResult and deliver are imported for
# callers of this module: one HTTP attempt is qagen.webhooks.sending's.

log = logging.getLogger(__name__)

FINAL_STATUSES = ("complete", "failed")
# Statuses that send an event, and its type: a session awaiting review was parsed (docs/review.md).
EVENT_TYPES = {"awaiting_review": "session.parsed", "complete": "session.complete", "failed": "session.failed"}

DEFAULT_MAX_ATTEMPTS = 12
# Wait before attempt 2, 3, 4, 5; the last value repeats (QAGEN_WEBHOOK_SCHEDULE). With 12
# attempts the first is immediate and the last comes ~4 h 10 min later (30 s + 2 min + 8 min
# + 8 x 30 min).
DEFAULT_SCHEDULE: tuple[float, ...] = (30, 120, 480, 1800)
MAX_DELAY_SECONDS = 2100.0  # a receiver's Retry-After is honoured up to 35 minutes
DEFAULT_JITTER = 0.1  # +-10 % so a receiver's outage doesn't end in a thundering herd
RECORD_TTL_SECONDS = 7 * 24 * 3600  # as long as a session lives, so a re-run never re-sends
EARLY_TOLERANCE_SECONDS = 5.0
MAX_HISTORY = 20

RECORD_PREFIX = "qagen:webhook:"
SCHEDULE_KEY = "qagen:webhooks:due"  # sorted set: pending event id -> time of its next attempt
WAKE_KEY = "qagen:webhooks:wake"  # a list the dispatcher blocks on, pushed when an event is created


# --------------------------------------------------------------------------- events and records


def event_id_for(session_id: str, status: str) -> str:
    return "evt_" + hashlib.sha256((session_id + status).encode()).hexdigest()[:24]


def _iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def event_for(session: dict[str, Any], tenant: str, *, status_url: str | None = None,
              download_url: str | None = None) -> tuple[str, bytes]:
    """(event id, JSON body) for a finished or parsed-for-review session, from `Session.to_public()`.

    The id depends only on (session id, status), so the same finish always makes the same
    event; `created_at` is the session's `finished_at` (or, for review, `updated_at`).
    """
    session_id = session["session_id"]
    status = session["status"]
    if status not in EVENT_TYPES:
        raise ValueError(f"Session {session_id} is {status!r}; events exist only for {', '.join(EVENT_TYPES)}.")
    event_id = event_id_for(session_id, status)
    data: dict[str, Any] = {
        "session_id": session_id,
        "status": status,
        "error": session.get("error"),
        "question_count": session.get("question_count"),
        "warnings": session.get("warnings"),
        "confidence": session.get("confidence"),
        "filename": session.get("filename"),
        "knowledge_base_id": session.get("knowledge_base_id"),
        "created_at": session.get("created_at"),
        "finished_at": session.get("finished_at"),
    }
    if status_url:
        data["status_url"] = status_url
    if download_url and status == "complete":
        data["download_url"] = download_url
    event = {
        "id": event_id,
        "type": EVENT_TYPES[status],
        "created_at": session.get("finished_at") or session.get("updated_at") or _iso_now(),
        "tenant": tenant,
        "data": data,
    }
    return event_id, json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def record_key(event_id: str) -> str:
    return RECORD_PREFIX + event_id


def enqueue_once(client: redis.Redis, event_id: str, body: bytes, url: str, tenant: str, *,
                 ttl_seconds: int = RECORD_TTL_SECONDS, now: float | None = None) -> bool:
    """Create the delivery record; False if this event already has one (nothing to do)."""
    now = time.time() if now is None else now
    event = json.loads(body)
    record = {
        "event_id": event_id,
        "type": event.get("type"),
        "url": url,
        "tenant": tenant,
        "body": body.decode("utf-8"),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "last_error": None,
        "last_status_code": None,
        "delivered_at": None,
        "history": [],
    }
    return bool(client.eval(_CREATE, 3, record_key(event_id), SCHEDULE_KEY, WAKE_KEY,
                            json.dumps(record), int(ttl_seconds), repr(now), event_id))


# The record and its first attempt on the schedule, or nothing if the event has a record already.
_CREATE = """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
redis.call('zadd', KEYS[2], ARGV[3], ARGV[4])
redis.call('lpush', KEYS[3], ARGV[4])
redis.call('ltrim', KEYS[3], 0, 63)
return 1
"""


def load_record(client: redis.Redis, event_id: str) -> dict[str, Any] | None:
    raw = client.get(record_key(event_id))
    return json.loads(raw) if raw else None


def _save_record(client: redis.Redis, record: dict[str, Any]) -> None:
    """Write the record and, in the same transaction, its place on the schedule (none once finished)."""
    event_id = record["event_id"]
    with client.pipeline(transaction=True) as pipe:
        pipe.set(record_key(event_id), json.dumps(record), xx=True, keepttl=True)
        if record["status"] == "pending" and record.get("next_attempt_at") is not None:
            pipe.zadd(SCHEDULE_KEY, {event_id: record["next_attempt_at"]})
        else:
            pipe.zrem(SCHEDULE_KEY, event_id)
        pipe.execute()


# --------------------------------------------------------------------------- the policy


def backoff_delay(failed_attempts: int, schedule: Sequence[float] = DEFAULT_SCHEDULE, *,
                  jitter: float = DEFAULT_JITTER, max_delay: float | None = None,
                  retry_after: float | None = None, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `failed_attempts`-th failure (1-based); the schedule's last value repeats.

    A receiver's Retry-After is honoured when longer; `max_delay` caps everything.
    """
    base = schedule[min(max(failed_attempts, 1), len(schedule)) - 1]
    delay = base * (1 + (rng or random).uniform(-jitter, jitter)) if jitter else float(base)
    if retry_after is not None:
        delay = max(delay, retry_after)
    if max_delay is not None:
        delay = min(delay, max_delay)
    return max(0.0, delay)


@dataclass(frozen=True)
class Outcome:
    """What `attempt_delivery` did: action is delivered | retry | failed | skipped."""

    event_id: str
    action: str
    attempts: int = 0
    retry_in: float | None = None
    status_code: int | None = None
    error: str | None = None


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def attempt_delivery(client: redis.Redis, event_id: str, *, allow: str = "",
                     max_attempts: int = DEFAULT_MAX_ATTEMPTS, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                     schedule: Sequence[float] = DEFAULT_SCHEDULE, jitter: float = DEFAULT_JITTER,
                     max_delay: float | None = MAX_DELAY_SECONDS, secrets: WebhookSecrets | None = None,
                     dns_timeout: float = DNS_TIMEOUT_SECONDS) -> Outcome:
    """Run one due attempt for `event_id` and record it; `retry_in` says when to run again.

    Safe when run twice for one event (two dispatchers, a claim that expired): a per-event
    lock keeps two attempts from running at once, an attempt that is not yet due is skipped
    (and the event put back at its due time), finished records are left alone, and the
    schedule is updated with the record.
    """
    lock_key = record_key(event_id) + ":lock"
    token = uuid.uuid4().hex
    if not client.set(lock_key, token, nx=True, ex=attempt_seconds(timeout, dns_timeout)):
        return Outcome(event_id, "skipped", error="another attempt is running")
    try:
        record = load_record(client, event_id)
        if record is None:
            log.warning("webhook %s: no delivery record (expired, deleted or never created); dropping", event_id)
            client.zrem(SCHEDULE_KEY, event_id)
            return Outcome(event_id, "skipped", error="no record")
        if record["status"] != "pending":
            client.zrem(SCHEDULE_KEY, event_id)
            return Outcome(event_id, "skipped", attempts=record["attempts"], error=f"already {record['status']}")
        now = time.time()
        if now < record["next_attempt_at"] - EARLY_TOLERANCE_SECONDS:
            client.zadd(SCHEDULE_KEY, {event_id: record["next_attempt_at"]})
            return Outcome(event_id, "skipped", attempts=record["attempts"], error="not due yet (duplicate message)")

        secret = (secrets or WebhookSecrets(client)).signing_secrets(record["tenant"])
        started = time.monotonic()
        result = deliver(record, secret, timeout, allow=allow, dns_timeout=dns_timeout)
        duration = round(time.monotonic() - started, 3)

        attempts = record["attempts"] + 1
        done_at = time.time()
        record["attempts"] = attempts
        record["last_status_code"] = result.status_code
        record["last_error"] = result.error
        record["history"] = (record.get("history") or [])[-(MAX_HISTORY - 1):] + [
            {"at": done_at, "status_code": result.status_code, "error": result.error, "duration_seconds": duration}]
        if result.delivered:
            record.update(status="delivered", delivered_at=done_at, next_attempt_at=None)
            outcome = Outcome(event_id, "delivered", attempts, status_code=result.status_code)
            log.info("webhook %s (%s) delivered on attempt %d", event_id, record["type"], attempts)
        elif not result.retryable or attempts >= max_attempts:
            reason = result.error if not result.retryable else f"gave up after {attempts} attempts: {result.error}"
            record.update(status="failed", last_error=reason, next_attempt_at=None)
            outcome = Outcome(event_id, "failed", attempts, status_code=result.status_code, error=reason)
            log.warning("webhook %s (%s) to tenant %s failed: %s", event_id, record["type"], record["tenant"], reason)
        else:
            delay = backoff_delay(attempts, schedule, jitter=jitter, max_delay=max_delay, retry_after=result.retry_after)
            record["next_attempt_at"] = done_at + delay
            outcome = Outcome(event_id, "retry", attempts, retry_in=delay, status_code=result.status_code,
                              error=result.error)
            log.info("webhook %s attempt %d/%d failed (%s); next in %.0f s", event_id, attempts, max_attempts,
                     result.error, delay)
        _save_record(client, record)
        return outcome
    finally:
        client.eval(_RELEASE, 1, lock_key, token)

"""A session's webhook deliveries, for its tenant to read, and a redelivery on request.

- `session_deliveries`: the delivery records of a session's events (one per status in
  `EVENT_TYPES` that has produced an event), oldest first.
- `redeliver`: schedule an event's next attempt now. A delivered or failed event becomes
  pending again and gets a new attempt (more if that one fails and attempts remain of
  `max_attempts`: `attempt_delivery`'s policy is unchanged); a pending one is moved to now.
  The record and its place on the schedule change in one transaction that WATCHes the
  record and the event's attempt lock, so the change never lands in the middle of an
  attempt (whose own write would undo it): while an attempt runs, `AttemptInProgress`.
  Delivery stays at least once, with the same event id and body: a receiver that
  de-duplicates on `Qagen-Event-Id` drops a redelivered event it has already processed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from qagen.errors import NotFound
from qagen.webhooks.deliveries import EVENT_TYPES, SCHEDULE_KEY, WAKE_KEY, event_id_for, load_record, record_key


class EventNotFound(NotFound):
    """No delivery record for this event (never created, expired or deleted), or another tenant's."""


class AttemptInProgress(Exception):
    """An attempt of this event is running; its result is recorded within `attempt_seconds()`."""


def lock_key(event_id: str) -> str:
    """The per-event lock `attempt_delivery` holds while it runs an attempt."""
    return record_key(event_id) + ":lock"


def session_deliveries(client: redis.Redis, session_id: str) -> list[dict[str, Any]]:
    """The delivery records of the session's events, oldest first, each with `in_flight`."""
    event_ids = [event_id_for(session_id, status) for status in EVENT_TYPES]
    pipe = client.pipeline(transaction=False)
    for event_id in event_ids:
        pipe.get(record_key(event_id))
        pipe.exists(lock_key(event_id))
    found = pipe.execute()
    records = []
    for raw, locked in zip(found[::2], found[1::2]):
        if raw:
            records.append({**json.loads(raw), "in_flight": bool(locked)})
    return sorted(records, key=lambda r: r.get("created_at") or 0)


def session_event(client: redis.Redis, session_id: str, event_id: str, tenant: str) -> dict[str, Any]:
    """The delivery record of one of the session's events, if it is `tenant`'s; else EventNotFound."""
    if event_id not in {event_id_for(session_id, status) for status in EVENT_TYPES}:
        raise EventNotFound(f"No event {event_id!r} for session {session_id!r}.")
    record = load_record(client, event_id)
    if record is None or record.get("tenant") != tenant:
        raise EventNotFound(f"No event {event_id!r} for session {session_id!r}.")
    return record


def redeliver(client: redis.Redis, event_id: str, *, tenant: str | None = None,
              now: float | None = None) -> dict[str, Any]:
    """Schedule the event's next attempt now and wake the dispatcher; returns the record.

    Raises EventNotFound (no record, or not `tenant`'s) and AttemptInProgress.
    """
    key, lock = record_key(event_id), lock_key(event_id)

    def apply(pipe: redis.client.Pipeline) -> dict[str, Any]:
        raw = pipe.get(key)
        record = json.loads(raw) if raw else None
        if record is None or (tenant is not None and record.get("tenant") != tenant):
            raise EventNotFound(f"No event {event_id!r}.")
        if pipe.exists(lock):
            raise AttemptInProgress(f"An attempt of {event_id} is running.")
        at = time.time() if now is None else now
        record.update(status="pending", next_attempt_at=at, redelivery_requested_at=at,
                      redeliveries=int(record.get("redeliveries") or 0) + 1)
        pipe.multi()
        pipe.set(key, json.dumps(record), xx=True, keepttl=True)
        pipe.zadd(SCHEDULE_KEY, {event_id: at})
        pipe.lpush(WAKE_KEY, event_id)
        pipe.ltrim(WAKE_KEY, 0, 63)
        return record

    # A change to the record (an attempt recorded) or to the lock (an attempt starting) between
    # the reads and EXEC aborts the transaction, and it runs again on what is there now.
    return client.transaction(apply, key, lock, value_from_callable=True)

"""Schemas of the routes integrators asked for (issue 19): the list of knowledge bases, a
session's webhook deliveries and their redelivery, and API key rotation."""

from __future__ import annotations

import time

from apiflask import Schema
from apiflask.fields import Boolean, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from api.schemas import ID, LINK, TIMESTAMP, KnowledgeOut
from qagen.apikeys import MAX_GRACE_SECONDS
from qagen.webhooks import EVENT_TYPES

DEFAULT_GRACE_SECONDS = 86_400
CURSOR_HELP = "`next_cursor` from the previous page; omit for the first page."


class KnowledgeListQuery(Schema):
    limit = Integer(load_default=20, validate=Range(1, 100))
    cursor = String(validate=Length(max=100), metadata={"description": CURSOR_HELP})


class KnowledgeListItem(KnowledgeOut):
    created_at = String(allow_none=True, metadata={**TIMESTAMP, "description": "When the base was created."})
    updated_at = String(allow_none=True, metadata={**TIMESTAMP, "description": "Its last change (documents, "
                                                                               "indexing)."})


class KnowledgeList(Schema):
    knowledge_bases = List(Nested(KnowledgeListItem), required=True)
    next_cursor = String(allow_none=True, required=True,
                         metadata={"description": "Pass as `cursor` for the next page; null on the last page."})


class DeliveryAttempt(Schema):
    at = String(required=True, metadata={**TIMESTAMP, "description": "When the attempt ended: its answer, or its "
                                                                     "error."})
    status_code = Integer(allow_none=True, required=True,
                          metadata={"description": "The receiver's HTTP status; null when none came (a timeout, a "
                                                   "refused connection, a refused address)."})
    error = String(allow_none=True, required=True, metadata={"description": "Why the attempt failed; null when it "
                                                                            "was delivered."})
    duration_seconds = Float(allow_none=True, required=True,
                             metadata={"description": "How long the attempt took; null for attempts recorded before "
                                                      "durations were."})


class Delivery(Schema):
    event_id = String(required=True, metadata={"description": "evt_...: the Qagen-Event-Id of every attempt."})
    type = String(required=True, validate=OneOf(sorted(set(EVENT_TYPES.values()))))
    url = String(required=True, metadata={**LINK, "description": "The callback URL the event is sent to."})
    status = String(required=True, validate=OneOf(["pending", "delivered", "failed"]),
                    metadata={"description": "pending: an attempt is due at next_attempt_at (or running: "
                                             "in_flight); delivered: a 2xx came back; failed: no more attempts."})
    in_flight = Boolean(required=True, metadata={"description": "An attempt is running now."})
    attempts = Integer(required=True, metadata={"description": "Attempts made so far."})
    created_at = String(allow_none=True, required=True, metadata=TIMESTAMP)
    next_attempt_at = String(allow_none=True, required=True,
                             metadata={**TIMESTAMP, "description": "When the next attempt is due; null once delivered "
                                                                   "or failed."})
    delivered_at = String(allow_none=True, required=True, metadata=TIMESTAMP)
    last_status_code = Integer(allow_none=True, required=True)
    last_error = String(allow_none=True, required=True)
    redeliveries = Integer(required=True, metadata={"description": "Redeliveries asked for (POST .../redeliver)."})
    history = List(Nested(DeliveryAttempt), required=True,
                   metadata={"description": "The attempts, oldest first (the last 20)."})


class DeliveryList(Schema):
    session_id = String(required=True, metadata=ID)
    deliveries = List(Nested(Delivery), required=True,
                      metadata={"description": "One per event the session has produced (session.parsed, "
                                               "session.complete, session.failed), oldest first; empty without a "
                                               "callback_url or before the session has finished."})


class KeyRotateIn(Schema):
    grace_seconds = Integer(load_default=DEFAULT_GRACE_SECONDS, validate=Range(0, MAX_GRACE_SECONDS),
                            metadata={"description": "How long the key making this call keeps working: 0 (it stops "
                                                     "at once) to 604800 (7 days); default 86400 (a day)."})


class KeyRotated(Schema):
    key = String(required=True, metadata={"description": "qk_...: the new key, valid now. Shown only in this answer "
                                                         "(and its Idempotency-Key replays): store it."})
    key_id = String(required=True, metadata={"description": "The new key's id (`qagen keys list`)."})
    tenant = String(required=True)
    created_at = String(required=True, metadata=TIMESTAMP)
    previous_key_id = String(required=True, metadata={"description": "The id of the key that made this call."})
    previous_key_expires_at = String(required=True,
                                     metadata={**TIMESTAMP, "description": "When that key stops working: now + "
                                                                           "grace_seconds, or its earlier end if it "
                                                                           "had one."})


def iso(timestamp: float | None) -> str | None:
    """Unix seconds as the API writes times: UTC, ISO 8601, milliseconds (`2026-05-01T10:01:00.000Z`)."""
    if timestamp is None:
        return None
    seconds = int(timestamp)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((timestamp - seconds) * 1000):03d}Z"

"""A session's webhook deliveries: each event's attempts and state, and a redelivery on request."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import g

from api import idempotency
from api.auth import require_key
from api.errors import ApiError
from api.integrator_schemas import Delivery, DeliveryList, iso
from api.services import services
from api.sessions import owned_session
from qagen.webhooks import AttemptInProgress, EventNotFound, redeliver, session_deliveries, session_event

bp = APIBlueprint("deliveries", __name__, tag="Webhooks")
AUTH = {401: "Missing or invalid API key", 429: "Rate limited"}
FOUND = {**AUTH, 404: "No such session for this tenant"}


def public(record: dict) -> dict:
    """A delivery record as the API shows it (never the signed body: fetch the session for that)."""
    return {
        "event_id": record["event_id"], "type": record.get("type"), "url": record.get("url"),
        "status": record["status"], "in_flight": bool(record.get("in_flight")),
        "attempts": record.get("attempts", 0), "created_at": iso(record.get("created_at")),
        "next_attempt_at": iso(record.get("next_attempt_at")) if record["status"] == "pending" else None,
        "delivered_at": iso(record.get("delivered_at")), "last_status_code": record.get("last_status_code"),
        "last_error": record.get("last_error"), "redeliveries": int(record.get("redeliveries") or 0),
        "history": [{"at": iso(h.get("at")), "status_code": h.get("status_code"), "error": h.get("error"),
                     "duration_seconds": h.get("duration_seconds")} for h in record.get("history") or []],
    }


@bp.get("/sessions/<session_id>/deliveries")
@require_key
@bp.output(DeliveryList)
@bp.doc(security="BearerAuth", responses=FOUND)
def list_deliveries(session_id: str):
    """The session's webhook events: each attempt (time, HTTP status or error, duration), the state and next retry"""
    owned_session(session_id)
    records = [r for r in session_deliveries(services().redis, session_id) if r.get("tenant") == g.tenant]
    return {"session_id": session_id, "deliveries": [public(r) for r in records]}


@bp.post("/sessions/<session_id>/deliveries/<event_id>/redeliver")
@require_key
@bp.output(Delivery, status_code=202, description="Accepted: the event's next attempt is due now")
@bp.doc(security="BearerAuth",
        responses={**AUTH, 404: "No such session, or no such event of it, for this tenant",
                   409: "An attempt of this event is running (delivery_in_progress: retry after Retry-After), or "
                        "the same Idempotency-Key in progress",
                   422: "Idempotency-Key reused with another request"},
        description="Send the event again now: a delivered or failed event gets a new attempt (and the rest of the "
                    "retry schedule if that fails while attempts remain), a pending one is moved to now. Same event "
                    "id and body: a receiver that de-duplicates on Qagen-Event-Id drops an event it has processed. "
                    "Send an `Idempotency-Key` header to make retries safe.")
@idempotency.idempotent
def redeliver_event(session_id: str, event_id: str):
    """Schedule a webhook event's next attempt now"""
    owned_session(session_id)
    client = services().redis
    try:
        session_event(client, session_id, event_id, g.tenant)
        record = redeliver(client, event_id, tenant=g.tenant)
    except EventNotFound as exc:
        raise ApiError(404, "not_found", f"No event {event_id!r} for session {session_id!r}.") from exc
    except AttemptInProgress as exc:
        raise ApiError(409, "delivery_in_progress", "An attempt of this event is running now; when it ends, "
                       "read the deliveries, and ask again if it still needs sending.", {"Retry-After": "5"}) from exc
    return public({**record, "in_flight": False}), 202  # a tuple: idempotent() makes the response

"""GET /api/v1/sessions/{id}/deliveries and POST .../deliveries/{event}/redeliver on the shared
stack's real API, worker and webhook dispatcher, with a receiver on loopback.

The stack's dispatcher retries after 0.5 s and 1 s (tests/conftest.py) and allows loopback
callbacks (devtools/stack.py). Redelivery's race with an attempt in flight is also checked on a
Redis database of its own with an in-process dispatcher (tests/webhooks/conftest.py).
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from devtools.stack import wait_until
from qagen.webhooks import (AttemptInProgress, EventNotFound, WebhookSecrets, enqueue_once, event_for, event_id_for,
                            load_record, redeliver, scheduled_at, verify)
from tests.waiting import wait_for_session
from tests.webhooks.conftest import finished_session, upload_quiz

def deliveries(client, session_id: str) -> list[dict]:
    response = client.get(f"/api/v1/sessions/{session_id}/deliveries")
    assert response.status_code == 200, response.text
    assert response.json()["session_id"] == session_id
    return response.json()["deliveries"]


def settled(client, session_id: str, attempts: int, status: str = "delivered", timeout: float = 30) -> dict:
    """The session's one delivery once it has `attempts` attempts and `status`."""
    found: list[dict] = []

    def done() -> bool:
        nonlocal found
        found = deliveries(client, session_id)
        return len(found) == 1 and found[0]["attempts"] == attempts and found[0]["status"] == status \
            and not found[0]["in_flight"]

    wait_until(done, timeout, f"a delivery with {attempts} attempt(s), {status}")
    return found[0]


def test_each_attempt_is_shown_and_a_redelivery_sends_the_event_again(webhook_stack, client, receiver, redis_client):
    receiver.plan([500])
    session_id = upload_quiz(client, receiver.url())
    event_id = event_id_for(session_id, "complete")
    assert wait_for_session(client, session_id)["status"] == "complete"

    delivery = settled(client, session_id, attempts=2)

    assert delivery["event_id"] == event_id and delivery["type"] == "session.complete"
    assert delivery["url"] == receiver.url() and delivery["next_attempt_at"] is None
    assert delivery["delivered_at"].endswith("Z") and delivery["redeliveries"] == 0
    assert [(h["status_code"], h["error"] is None) for h in delivery["history"]] == [(500, False), (200, True)]
    assert all(0 <= h["duration_seconds"] < 10 and h["at"].endswith("Z") for h in delivery["history"])
    assert delivery["history"][0]["at"] < delivery["history"][1]["at"]

    headers = {"Idempotency-Key": str(uuid.uuid4())}
    accepted = client.post(f"/api/v1/sessions/{session_id}/deliveries/{event_id}/redeliver", headers=headers)

    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "pending" and accepted.json()["redeliveries"] == 1
    requests = receiver.wait_for(3, timeout=30)
    assert len(requests) == 3 and requests[2].headers["Qagen-Event-Id"] == event_id
    secret = WebhookSecrets(redis_client).get_or_create("tests")
    assert verify(secret, requests[2].headers["Qagen-Signature"], requests[2].body)
    assert requests[2].body == requests[1].body  # the same event, signed afresh
    again = settled(client, session_id, attempts=3)
    assert [h["status_code"] for h in again["history"]] == [500, 200, 200] and again["redeliveries"] == 1

    # A retry of the same request is the first answer again: no second redelivery.
    replayed = client.post(f"/api/v1/sessions/{session_id}/deliveries/{event_id}/redeliver", headers=headers)
    assert replayed.status_code == 202 and replayed.headers["Idempotent-Replayed"] == "true"
    time.sleep(2)  # a fourth attempt would arrive now
    assert len(receiver.requests) == 3


def test_a_failed_event_gets_a_new_attempt(webhook_stack, client, receiver):
    receiver.plan([410])  # Gone: no more attempts
    session_id = upload_quiz(client, receiver.url())
    event_id = event_id_for(session_id, "complete")
    failed = settled(client, session_id, attempts=1, status="failed")
    assert failed["last_status_code"] == 410 and failed["next_attempt_at"] is None

    assert client.post(f"/api/v1/sessions/{session_id}/deliveries/{event_id}/redeliver").status_code == 202

    delivered = settled(client, session_id, attempts=2)
    assert [h["status_code"] for h in delivered["history"]] == [410, 200]


def test_a_pending_event_waiting_for_its_retry_is_moved_to_now(webhook_stack, client, receiver, redis_client):
    receiver.plan([(503, {"Retry-After": "600"})])  # the next attempt ten minutes away
    session_id = upload_quiz(client, receiver.url())
    event_id = event_id_for(session_id, "complete")
    pending = settled(client, session_id, attempts=1, status="pending")
    assert pending["next_attempt_at"] > pending["history"][0]["at"]
    assert scheduled_at(redis_client, event_id) > time.time() + 500

    moved = client.post(f"/api/v1/sessions/{session_id}/deliveries/{event_id}/redeliver")

    assert moved.status_code == 202 and moved.json()["status"] == "pending"
    delivered = settled(client, session_id, attempts=2, timeout=10)
    assert [h["status_code"] for h in delivered["history"]] == [503, 200]


def test_another_tenant_sees_nothing_and_cannot_redeliver(webhook_stack, client, other_tenant, receiver):
    session_id = upload_quiz(client, receiver.url())
    event_id = event_id_for(session_id, "complete")
    settled(client, session_id, attempts=1)

    assert other_tenant.get(f"/api/v1/sessions/{session_id}/deliveries").status_code == 404
    refused = other_tenant.post(f"/api/v1/sessions/{session_id}/deliveries/{event_id}/redeliver")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    # The other tenant's own session cannot reach this event either.
    theirs = upload_quiz(other_tenant, None)
    assert other_tenant.post(f"/api/v1/sessions/{theirs}/deliveries/{event_id}/redeliver").status_code == 404
    time.sleep(1.5)
    assert len(receiver.requests) == 1


def test_unknown_events_are_404_and_a_session_without_a_callback_has_no_deliveries(webhook_stack, client):
    session_id = upload_quiz(client, None)
    assert wait_for_session(client, session_id)["status"] == "complete"

    assert deliveries(client, session_id) == []
    for event_id in ("evt_nope", event_id_for(session_id, "complete"), event_id_for(str(uuid.uuid4()), "complete")):
        response = client.post(f"/api/v1/sessions/{session_id}/deliveries/{event_id}/redeliver")
        assert response.status_code == 404, (event_id, response.text)
    assert client.get(f"/api/v1/sessions/{uuid.uuid4()}/deliveries").status_code == 404


def test_a_redelivery_during_an_attempt_is_409_and_changes_nothing(webhook_stack, client, receiver):
    receiver.delay = 3.0  # the first attempt stays in flight for 3 s
    session_id = upload_quiz(client, receiver.url())
    event_id = event_id_for(session_id, "complete")
    receiver.wait_for(1, timeout=60)

    busy = client.post(f"/api/v1/sessions/{session_id}/deliveries/{event_id}/redeliver")

    assert busy.status_code == 409, busy.text
    assert busy.json()["error"]["code"] == "delivery_in_progress" and busy.headers["Retry-After"]
    assert deliveries(client, session_id)[0]["in_flight"] is True
    settled(client, session_id, attempts=1)
    time.sleep(1.5)
    assert len(receiver.requests) == 1


def test_redeliver_never_interleaves_with_an_attempt(wh_redis, dispatch, receiver, tenant):
    """On a database of its own: the transaction refuses while the attempt's lock is held, and a
    redelivery after it is sent exactly once more."""
    event_id, body = event_for(finished_session(), tenant)
    receiver.delay = 1.5
    enqueue_once(wh_redis, event_id, body, receiver.url(), tenant)
    dispatch()
    receiver.wait_for(1, timeout=10)

    with pytest.raises(AttemptInProgress):
        redeliver(wh_redis, event_id, tenant=tenant)
    wait_until(lambda: load_record(wh_redis, event_id)["status"] == "delivered", 10, "the first attempt")
    wait_until(lambda: not wh_redis.exists(f"qagen:webhook:{event_id}:lock"), 5, "the lock released")
    with pytest.raises(EventNotFound):
        redeliver(wh_redis, event_id, tenant="someone-else")
    receiver.delay = 0

    record = redeliver(wh_redis, event_id, tenant=tenant)

    assert record["status"] == "pending" and scheduled_at(wh_redis, event_id) is not None
    receiver.wait_for(2, timeout=10)
    wait_until(lambda: load_record(wh_redis, event_id)["status"] == "delivered", 10, "the redelivery")
    time.sleep(1)
    assert len(receiver.requests) == 2 and scheduled_at(wh_redis, event_id) is None
    assert json.loads(receiver.requests[1].body)["id"] == event_id

"""An LMS uploads with a callback_url and receives its signed event, on the shared stack's real
API, Celery worker and webhook dispatcher process (`python -m qagen.webhooks`).

The stack's dispatcher retries after 0.5 s and 1 s (QAGEN_WEBHOOK_SCHEDULE in tests/conftest.py)
and allows loopback callbacks (QAGEN_WEBHOOK_ALLOW=loopback, devtools/stack.py).
"""

from __future__ import annotations

import json
import time
import uuid

from kombu.transport.redis import Channel

from devtools.stack import free_port, wait_until
from qagen.jobs.names import PROCESS_QUESTION_PAPER
from qagen.jobs.queue import make_celery
from qagen.jobs.records import Session, SessionStore
from qagen.webhooks import WebhookSecrets, event_id_for, load_record, record_key, scheduled_at, verify
from tests.waiting import wait_for_session
from tests.webhooks.conftest import QUIZ, upload_quiz


def celery_messages(redis_client, queue: str) -> list[str]:
    """Every Celery message KEDA's triggers count: the queue's list and kombu's `unacked` hash (raw JSON)."""
    raw = list(redis_client.lrange(queue, 0, -1)) + list(redis_client.hvals(Channel.unacked_key))
    return [m.decode() if isinstance(m, bytes) else m for m in raw]


def test_an_upload_with_a_callback_gets_exactly_one_signed_complete_event(webhook_stack, client, redis_client,
                                                                           receiver):
    session_id = upload_quiz(client, receiver.url())

    final = wait_for_session(client, session_id)
    assert final["status"] == "complete"
    requests = receiver.wait_for(1, timeout=30)
    assert requests, "no webhook arrived: is the stack's webhook dispatcher running? (log: .../logs/webhooks.log)"
    time.sleep(2)  # a duplicate would arrive now

    [request] = receiver.requests
    secret = WebhookSecrets(redis_client).get_or_create("tests")  # the api_key fixture's owner
    assert verify(secret, request.headers["Qagen-Signature"], request.body)
    event = json.loads(request.body)
    assert event["type"] == request.headers["Qagen-Event-Type"] == "session.complete"
    assert event["id"] == request.headers["Qagen-Event-Id"] == event_id_for(session_id, "complete")
    assert event["data"]["session_id"] == session_id and event["data"]["question_count"] == 2
    assert (event["data"]["warnings"], event["data"]["confidence"]) == ([], "high")  # what the parse found

    # Re-running the finished session (a redelivered message) sends nothing new.
    make_celery(webhook_stack.settings).send_task(PROCESS_QUESTION_PAPER, args=[session_id],
                                                  queue=webhook_stack.settings.queue)
    time.sleep(3)
    assert len(receiver.requests) == 1
    assert load_record(redis_client, event["id"])["status"] == "delivered"


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt_through_the_real_schedule(
        webhook_stack, client, redis_client, receiver):
    receiver.plan([500, 503])
    session_id = upload_quiz(client, receiver.url())
    event_id = event_id_for(session_id, "complete")

    [first] = receiver.wait_for(1, timeout=60)
    # Between attempts the event waits on the dispatcher's schedule, not as a Celery message.
    assert scheduled_at(redis_client, event_id) is not None
    assert not [m for m in celery_messages(redis_client, webhook_stack.settings.queue) if event_id in m]
    requests = receiver.wait_for(3, timeout=30)
    time.sleep(1.5)  # a fourth would arrive now

    assert len(receiver.requests) == 3 and requests[0] is first
    gaps = [b.at - a.at for a, b in zip(requests, requests[1:])]
    assert 0.45 <= gaps[0] < 3 and 0.9 <= gaps[1] < 4, gaps  # 0.5 s and 1 s, +-10 %, then within a poll
    assert {r.headers["Qagen-Event-Id"] for r in requests} == {event_id}
    secret = WebhookSecrets(redis_client).get_or_create("tests")
    assert all(verify(secret, r.headers["Qagen-Signature"], r.body) for r in requests)
    record = load_record(redis_client, event_id)
    assert record["status"] == "delivered" and record["attempts"] == 3
    assert [h["status_code"] for h in record["history"]] == [500, 503, 200]
    assert scheduled_at(redis_client, event_id) is None


def test_an_unreachable_callback_leaves_nothing_for_keda_to_count(webhook_stack, client, redis_client):
    """Issue 16: a retry waiting in kombu's `unacked` hash kept a worker pod up for the ~4 h of its retries."""
    session_id = upload_quiz(client, f"http://127.0.0.1:{free_port()}/hook")  # nothing listens there
    event_id = event_id_for(session_id, "complete")
    assert wait_for_session(client, session_id)["status"] == "complete"
    wait_until(lambda: (load_record(redis_client, event_id) or {}).get("attempts", 0) >= 2, 30,
               "two failed attempts")
    try:
        # The job's own message is acknowledged a moment after the session completes; then both of
        # KEDA's keys are empty although the event is still being retried: the workers may scale to zero.
        wait_until(lambda: not celery_messages(redis_client, webhook_stack.settings.queue), 15,
                   "the queue and kombu's unacked hash to be empty")
        record = load_record(redis_client, event_id)
        assert record["status"] == "pending" and "could not connect" in record["last_error"]
        assert scheduled_at(redis_client, event_id) is not None
    finally:
        redis_client.delete(record_key(event_id))  # the dispatcher drops it at its next claim


def test_a_callback_host_name_is_resolved_and_pinned_by_the_dispatcher(webhook_stack, client, redis_client, receiver,
                                                                        hosts):
    name = hosts.unique()
    hosts[name] = ["127.0.0.1"]  # the system resolver (in the API and the dispatcher) answers loopback
    session_id = upload_quiz(client, f"http://{name}:{receiver.port}/hook?course=7")

    [request] = receiver.wait_for(1, timeout=60)

    assert request.headers["Host"] == f"{name}:{receiver.port}" and request.path == "/hook?course=7"
    assert request.headers["Qagen-Event-Id"] == event_id_for(session_id, "complete")


def test_a_session_finished_without_its_webhook_gets_it_when_the_task_runs_again(webhook_stack, redis_client,
                                                                                 receiver):
    """The crash window: marked complete, then the worker died before creating the webhook event."""
    sessions = SessionStore(redis_client, webhook_stack.settings.session_ttl_seconds)
    session = sessions.create(Session(id=str(uuid.uuid4()), tenant="tests", filename="quiz.txt",
                                      input_key="unused", callback_url=receiver.url()))
    sessions.mark_complete(session.id, "unused.pdf", "unused.json", 3)

    make_celery(webhook_stack.settings).send_task(PROCESS_QUESTION_PAPER, args=[session.id],
                                                  queue=webhook_stack.settings.queue)

    [request] = receiver.wait_for(1, timeout=30)
    assert request.headers["Qagen-Event-Id"] == event_id_for(session.id, "complete")
    assert json.loads(request.body)["data"]["question_count"] == 3


def test_an_upload_with_a_refused_callback_is_refused_with_the_reason(webhook_stack, client):
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", b"1. Define velocity. [1]\n")},
                           data={"callback_url": "http://169.254.169.254/latest/meta-data"})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "callback_refused" and "cloud metadata address" in error["message"]


def test_an_upload_with_review_gets_one_parsed_event_then_one_complete_event(webhook_stack, client, receiver):
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", QUIZ)},
                           data={"callback_url": receiver.url(), "review": "true"})
    session_id = response.json()["session_id"]

    [parsed] = receiver.wait_for(1, timeout=60)
    event = json.loads(parsed.body)
    assert event["type"] == parsed.headers["Qagen-Event-Type"] == "session.parsed"
    assert event["id"] == event_id_for(session_id, "awaiting_review")
    assert event["data"]["status"] == "awaiting_review" and event["data"]["question_count"] == 2
    assert client.get(f"/api/v1/sessions/{session_id}").json()["status"] == "awaiting_review"

    assert client.post(f"/api/v1/sessions/{session_id}/answer").status_code == 202
    assert wait_for_session(client, session_id)["status"] == "complete"
    requests = receiver.wait_for(2, timeout=60)
    time.sleep(2)  # a duplicate would arrive now
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["session.parsed", "session.complete"]
    assert len(requests) == 2

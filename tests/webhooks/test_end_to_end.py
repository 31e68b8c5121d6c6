"""An LMS uploads with a callback_url and receives exactly one signed session.complete event.

Runs on the shared stack's real API and Celery worker. The worker only knows the tasks
`worker/celery_app.py` includes, so this skips until `worker.webhook_tasks` is in that
include list (and the API stores callback_url, and the paper task calls
notify_session_finished; see docs/webhooks.md, "Integration").
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from qagen.jobs.names import DELIVER_WEBHOOK, PROCESS_QUESTION_PAPER
from qagen.jobs.queue import make_celery
from qagen.jobs.records import Session, SessionStore
from qagen.webhooks import WebhookSecrets, event_id_for, load_record, verify
from tests.waiting import wait_for_session


@pytest.fixture(scope="module")
def worker_knows_the_task(stack) -> bool:
    """Asked of the running worker itself (a remote-control `registered` query)."""
    replies = make_celery(stack.settings).control.inspect(timeout=3).registered() or {}
    return any(DELIVER_WEBHOOK in names for names in replies.values())


@pytest.fixture
def webhook_stack(stack, worker_knows_the_task):
    if "loopback" not in stack.env.get("QAGEN_WEBHOOK_ALLOW", ""):
        pytest.skip("the test stack was started without QAGEN_WEBHOOK_ALLOW=loopback")
    if not worker_knows_the_task:
        pytest.skip(f"{DELIVER_WEBHOOK} is not registered on the stack's worker: add 'worker.webhook_tasks' to the "
                    "include list in worker/celery_app.py to enable this test")
    return stack


def test_an_upload_with_a_callback_gets_exactly_one_signed_complete_event(webhook_stack, client, redis_client,
                                                                           receiver):
    paper = b"Quiz\n1. Define velocity. [1]\n2. Define acceleration. [1]\n"
    response = client.post("/api/upload", files={"file": ("quiz.txt", paper)}, data={"callback_url": receiver.url()})
    assert response.status_code == 202, response.text
    session_id = response.json()["session_id"]

    final = wait_for_session(client, session_id)
    assert final["status"] == "complete"
    requests = receiver.wait_for(1, timeout=30)
    assert requests, ("no webhook arrived: does POST /api/upload store callback_url on the session, and does the "
                      "paper task call notify_session_finished?")
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


def test_a_session_finished_without_its_webhook_gets_it_when_the_task_runs_again(webhook_stack, redis_client,
                                                                                 receiver):
    """The crash window: marked complete, then the worker died before enqueueing the webhook."""
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
    response = client.post("/api/upload", files={"file": ("quiz.txt", b"1. Define velocity. [1]\n")},
                           data={"callback_url": "http://169.254.169.254/latest/meta-data"})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "callback_refused" and "cloud metadata address" in error["message"]

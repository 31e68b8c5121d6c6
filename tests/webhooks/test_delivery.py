"""Delivery: the Celery task's body run in-process against a loopback receiver and the stack's real Redis.

`process_delivery` is exactly what `qagen.deliver_webhook` runs; here `reschedule` records
the countdown instead of calling apply_async, and the test plays the broker by waiting it
out (with a schedule shrunk to fractions of a second).
"""

from __future__ import annotations

import json
import time

import pytest

from qagen import webhooks
from qagen.webhooks import WebhookSecrets, enqueue_once, event_for, load_record, verify
from tests.webhooks.conftest import finished_session
from worker.webhook_tasks import DELIVER_WEBHOOK, notify_session_finished, process_delivery, requeue_stalled

FAST = {"allow": "loopback", "schedule": (0.2, 0.4), "jitter": 0.0, "timeout": 2.0}


def run_chain(redis, event_id, *, max_runs=20, **options):
    """Run the task body, then every rescheduled run after its countdown, until nothing is scheduled."""
    countdowns, outcomes, pending = [], [], [0.0]
    while pending and len(outcomes) < max_runs:
        time.sleep(pending.pop())
        outcome = process_delivery(redis, event_id, reschedule=lambda eid, countdown: pending.append(countdown),
                                   **{**FAST, **options})
        outcomes.append(outcome)
        countdowns.extend(pending)
    return outcomes, countdowns


def notify(redis_client, fake_celery, receiver, tenant, status="complete", **session):
    session = finished_session(status, **session)
    event_id = notify_session_finished(redis_client, fake_celery, session, tenant, receiver.url())
    return session, event_id


def test_a_finished_session_is_delivered_once_signed_with_the_tenants_secret(redis_client, receiver, fake_celery, tenant):
    session, event_id = notify(redis_client, fake_celery, receiver, tenant)
    assert fake_celery.sent == [(DELIVER_WEBHOOK, [event_id], "qagen")]

    outcomes, _ = run_chain(redis_client, event_id)

    assert [o.action for o in outcomes] == ["delivered"]
    [request] = receiver.requests
    secret = WebhookSecrets(redis_client).get_or_create(tenant)
    assert verify(secret, request.headers["Qagen-Signature"], request.body)
    assert not verify(WebhookSecrets(redis_client).get_or_create(tenant + "-other"),
                      request.headers["Qagen-Signature"], request.body)
    assert request.path == "/hook"
    assert request.headers["Qagen-Event-Id"] == event_id
    assert request.headers["Qagen-Event-Type"] == "session.complete"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "qagen-webhooks/1"
    event = json.loads(request.body)
    assert event["id"] == event_id and event["type"] == "session.complete" and event["tenant"] == tenant
    assert event["data"]["session_id"] == session["session_id"]
    assert event["data"]["status"] == "complete" and event["data"]["question_count"] == 10
    record = load_record(redis_client, event_id)
    assert record["status"] == "delivered" and record["attempts"] == 1 and record["delivered_at"]
    assert 0 < redis_client.ttl(webhooks.record_key(event_id)) <= webhooks.RECORD_TTL_SECONDS


def test_a_failed_session_sends_session_failed_with_the_error(redis_client, receiver, fake_celery, tenant):
    _, event_id = notify(redis_client, fake_celery, receiver, tenant, status="failed")

    run_chain(redis_client, event_id)

    event = json.loads(receiver.requests[0].body)
    assert receiver.requests[0].headers["Qagen-Event-Type"] == event["type"] == "session.failed"
    assert event["data"]["error"] == "No numbered questions were found."


def test_two_failures_then_success_is_delivered_on_attempt_3_with_the_same_event(redis_client, receiver, fake_celery,
                                                                                  tenant):
    receiver.plan([500, 500])
    _, event_id = notify(redis_client, fake_celery, receiver, tenant)

    outcomes, countdowns = run_chain(redis_client, event_id)

    assert [o.action for o in outcomes] == ["retry", "retry", "delivered"]
    assert countdowns == [0.2, 0.4]
    assert len(receiver.requests) == 3
    assert {r.headers["Qagen-Event-Id"] for r in receiver.requests} == {event_id}
    assert len({r.body for r in receiver.requests}) == 1  # same bytes every time; only t= changes
    secret = WebhookSecrets(redis_client).get_or_create(tenant)
    assert all(verify(secret, r.headers["Qagen-Signature"], r.body) for r in receiver.requests)
    record = load_record(redis_client, event_id)
    assert record["status"] == "delivered" and record["attempts"] == 3
    assert [h["status_code"] for h in record["history"]] == [500, 500, 200]
    assert "HTTP 500" in record["history"][0]["error"]


def test_attempts_are_bounded_then_the_event_is_marked_failed(redis_client, receiver, fake_celery, tenant):
    receiver.default = 503
    _, event_id = notify(redis_client, fake_celery, receiver, tenant)

    outcomes, _ = run_chain(redis_client, event_id, max_attempts=3, schedule=(0.05,))

    assert [o.action for o in outcomes] == ["retry", "retry", "failed"]
    assert len(receiver.requests) == 3
    record = load_record(redis_client, event_id)
    assert record["status"] == "failed" and "gave up after 3 attempts" in record["last_error"]
    assert "HTTP 503" in record["last_error"]


def test_410_gone_stops_at_once_and_other_4xx_are_retried(redis_client, receiver, fake_celery, tenant):
    receiver.plan([404, 401, 410])
    _, event_id = notify(redis_client, fake_celery, receiver, tenant)

    outcomes, _ = run_chain(redis_client, event_id, schedule=(0.05,))

    assert [o.action for o in outcomes] == ["retry", "retry", "failed"]
    assert "410 Gone" in load_record(redis_client, event_id)["last_error"]


def test_redirects_are_not_followed(redis_client, receiver, fake_celery, tenant):
    receiver.plan([(302, {"Location": receiver.url("/elsewhere")})])
    _, event_id = notify(redis_client, fake_celery, receiver, tenant)

    outcome = process_delivery(redis_client, event_id, reschedule=lambda *a: None, **FAST)

    assert outcome.action == "retry" and "not followed" in outcome.error
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_retry_after_from_a_429_is_honoured(redis_client, receiver, fake_celery, tenant):
    receiver.plan([(429, {"Retry-After": "7"})])
    _, event_id = notify(redis_client, fake_celery, receiver, tenant)

    outcome = process_delivery(redis_client, event_id, reschedule=lambda *a: None, **FAST)

    assert outcome.action == "retry" and outcome.retry_in == 7


def test_timeouts_and_refused_connections_are_retried(redis_client, receiver, fake_celery, tenant):
    receiver.delay = 1.5
    _, slow = notify(redis_client, fake_celery, receiver, tenant)
    timed_out = process_delivery(redis_client, slow, reschedule=lambda *a: None, **{**FAST, "timeout": 0.5})
    assert timed_out.action == "retry" and "within 0.5 s" in timed_out.error

    closed = finished_session()
    event_id, body = event_for(closed, tenant)
    from devtools.stack import free_port

    enqueue_once(redis_client, event_id, body, f"http://127.0.0.1:{free_port()}/hook", tenant)
    refused = process_delivery(redis_client, event_id, reschedule=lambda *a: None, **FAST)
    assert refused.action == "retry" and "could not connect" in refused.error


def test_notifying_twice_enqueues_one_task_and_delivers_one_event(redis_client, receiver, fake_celery, tenant):
    session = finished_session()
    first = notify_session_finished(redis_client, fake_celery, session, tenant, receiver.url())
    second = notify_session_finished(redis_client, fake_celery, dict(session), tenant, receiver.url())

    assert first == second
    assert len(fake_celery.sent) == 1
    # Even a duplicated task message (redelivery) delivers once.
    for _ in range(2):
        process_delivery(redis_client, first, reschedule=lambda *a: None, **FAST)
    assert len(receiver.requests) == 1
    assert notify_session_finished(redis_client, fake_celery, session, tenant, None) is None


def test_a_crash_between_record_and_enqueue_is_repaired_by_the_next_notify(redis_client, receiver, fake_celery, tenant):
    session = finished_session()
    event_id, body = event_for(session, tenant)
    assert enqueue_once(redis_client, event_id, body, receiver.url(), tenant)  # ... and the process died here

    assert notify_session_finished(redis_client, fake_celery, session, tenant, receiver.url()) == event_id
    assert fake_celery.sent == [(DELIVER_WEBHOOK, [event_id], "qagen")]
    notify_session_finished(redis_client, fake_celery, session, tenant, receiver.url())
    assert len(fake_celery.sent) == 1


def test_requeue_stalled_resends_lost_chains_only(redis_client, receiver, fake_celery, tenant):
    lost = finished_session()
    lost_id, body = event_for(lost, tenant)
    enqueue_once(redis_client, lost_id, body, receiver.url(), tenant, now=time.time() - 3600)
    _, healthy_id = notify(redis_client, fake_celery, receiver, tenant)
    fake_celery.sent.clear()

    requeued = requeue_stalled(redis_client, fake_celery)

    assert lost_id in requeued and healthy_id not in requeued
    assert (DELIVER_WEBHOOK, [lost_id], "qagen") in fake_celery.sent


def test_a_message_that_is_not_due_yet_is_skipped(redis_client, receiver, fake_celery, tenant):
    receiver.plan([500])
    _, event_id = notify(redis_client, fake_celery, receiver, tenant)
    first = process_delivery(redis_client, event_id, reschedule=lambda *a: None, **{**FAST, "schedule": (60,)})

    duplicate = process_delivery(redis_client, event_id, reschedule=lambda *a: None, **FAST)

    assert first.action == "retry" and duplicate.action == "skipped"
    assert len(receiver.requests) == 1


def test_dns_rebinding_to_loopback_after_validation_sends_nothing(redis_client, receiver, fake_celery, tenant, fake_dns):
    fake_dns["hooks.lms.example"] = ["93.184.216.34"]
    url = webhooks.validate_callback_url(f"http://hooks.lms.example:{receiver.port}/hook", "")  # validation only
    fake_dns["hooks.lms.example"] = ["127.0.0.1"]  # the name now points inside
    session = finished_session()
    event_id = notify_session_finished(redis_client, fake_celery, session, tenant, url)

    outcome = process_delivery(redis_client, event_id, reschedule=lambda *a: None, **{**FAST, "allow": ""})

    assert outcome.action == "retry" and "not sent" in outcome.error and "loopback" in outcome.error
    assert receiver.requests == []


def test_delivery_connects_to_the_validated_address_keeping_the_host_name(redis_client, receiver, fake_celery, tenant,
                                                                           fake_dns):
    fake_dns["hooks.lms.test"] = ["127.0.0.1"]  # no real DNS knows this name: the pinned IP is used
    session = finished_session()
    event_id = notify_session_finished(redis_client, fake_celery, session, tenant,
                                       f"http://hooks.lms.test:{receiver.port}/hook?course=7")

    outcome = process_delivery(redis_client, event_id, reschedule=lambda *a: None, **FAST)

    assert outcome.action == "delivered"
    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.lms.test:{receiver.port}"
    assert request.path == "/hook?course=7"


def test_after_rotation_both_secrets_sign_until_the_grace_period_ends(redis_client, receiver, fake_celery, tenant):
    secrets = WebhookSecrets(redis_client)
    old = secrets.get_or_create(tenant)
    assert old.startswith("whsec_") and len(old) == len("whsec_") + 43
    assert secrets.get_or_create(tenant) == old
    new = secrets.rotate(tenant)
    assert new != old and secrets.get_or_create(tenant) == new
    _, event_id = notify(redis_client, fake_celery, receiver, tenant)

    run_chain(redis_client, event_id)

    header = receiver.requests[0].headers["Qagen-Signature"]
    assert header.count("v1=") == 2
    assert verify(new, header, receiver.requests[0].body) and verify(old, header, receiver.requests[0].body)
    redis_client.delete(f"qagen:tenant:{tenant}:webhook_secret:previous")  # grace period over
    assert secrets.signing_secrets(tenant) == [new]


@pytest.mark.parametrize("status", ["queued", "running"])
def test_unfinished_sessions_send_nothing(redis_client, receiver, fake_celery, tenant, status):
    assert notify_session_finished(redis_client, fake_celery, finished_session(status), tenant, receiver.url()) is None
    assert fake_celery.sent == []


def test_the_celery_task_reads_its_settings_and_reschedules_on_its_own_queue(redis_client, receiver, fake_celery,
                                                                            tenant, monkeypatch):
    from types import SimpleNamespace

    import worker.webhook_tasks as tasks

    settings = SimpleNamespace(queue="qagen", webhook_allow="loopback", webhook_max_attempts=5,
                               webhook_timeout_seconds=2.0)
    monkeypatch.setattr(tasks, "get_settings", lambda: settings)
    monkeypatch.setattr(tasks, "_redis", lambda: redis_client)
    scheduled = []
    monkeypatch.setattr(tasks.deliver_webhook, "apply_async", lambda **kw: scheduled.append(kw))
    receiver.plan([500])
    _, event_id = notify(redis_client, fake_celery, receiver, tenant)

    tasks.deliver_webhook.apply(args=[event_id])  # runs the task in this process, as a worker would

    [call] = scheduled
    assert call["args"] == [event_id] and call["queue"] == "qagen"
    assert 30 * 0.9 <= call["countdown"] <= 30 * 1.1  # the default schedule's first step, with jitter
    record = load_record(redis_client, event_id)
    assert record["attempts"] == 1 and record["status"] == "pending"

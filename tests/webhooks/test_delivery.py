"""Delivery: events on the real schedule in Redis, sent by the dispatcher's loop to a real receiver.

Each test creates events as the paper worker does (`notify_session_finished`) in a Redis
database of its own and starts `Dispatcher` (the loop of `python -m qagen.webhooks`) in a
thread with a schedule of fractions of a second; the receiver is an HTTP server on loopback.
The same loop as a process, fed by the real API and worker, is tests/webhooks/test_end_to_end.py.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from qagen import webhooks
from qagen.webhooks import (SCHEDULE_KEY, Dispatcher, WebhookSecrets, adopt_unscheduled, attempt_delivery, claim_due,
                            enqueue_once, event_for, load_record, scheduled_at, verify)
from tests.webhooks.conftest import FAST, finished_session
from worker.webhook_tasks import notify_session_finished


def notify(redis_client, receiver, tenant, status="complete", url=None, **session):
    session = finished_session(status, **session)
    event_id = notify_session_finished(redis_client, session, tenant, url or receiver.url())
    return session, event_id


def wait_for_record(redis_client, event_id, status, timeout=15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = load_record(redis_client, event_id)
        if record and record["status"] == status:
            return record
        time.sleep(0.02)
    raise AssertionError(f"{event_id} not {status} within {timeout} s: {load_record(redis_client, event_id)}")


def wait_for_attempts(redis_client, event_id, attempts, timeout=15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = load_record(redis_client, event_id)
        if record and record["attempts"] >= attempts:
            return record
        time.sleep(0.02)
    raise AssertionError(f"{event_id}: fewer than {attempts} attempts within {timeout} s")


def test_a_finished_session_is_delivered_once_signed_with_the_tenants_secret(wh_redis, receiver, dispatch, tenant):
    session, event_id = notify(wh_redis, receiver, tenant)
    assert scheduled_at(wh_redis, event_id) is not None  # created on the schedule, due now
    dispatch()

    record = wait_for_record(wh_redis, event_id, "delivered")

    [request] = receiver.requests
    secret = WebhookSecrets(wh_redis).get_or_create(tenant)
    assert verify(secret, request.headers["Qagen-Signature"], request.body)
    assert not verify(WebhookSecrets(wh_redis).get_or_create(tenant + "-other"),
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
    assert record["attempts"] == 1 and record["delivered_at"]
    assert 0 < wh_redis.ttl(webhooks.record_key(event_id)) <= webhooks.RECORD_TTL_SECONDS
    assert scheduled_at(wh_redis, event_id) is None  # off the schedule once delivered


def test_a_failed_session_sends_session_failed_with_the_error(wh_redis, receiver, dispatch, tenant):
    _, event_id = notify(wh_redis, receiver, tenant, status="failed")
    dispatch()

    wait_for_record(wh_redis, event_id, "delivered")

    event = json.loads(receiver.requests[0].body)
    assert receiver.requests[0].headers["Qagen-Event-Type"] == event["type"] == "session.failed"
    assert event["data"]["error"] == "No numbered questions were found."


def test_two_failures_then_success_is_delivered_on_attempt_3_after_the_schedules_waits(wh_redis, receiver, dispatch,
                                                                                      tenant):
    receiver.plan([500, 503])
    _, event_id = notify(wh_redis, receiver, tenant)
    dispatch()

    record = wait_for_record(wh_redis, event_id, "delivered")

    assert len(receiver.requests) == 3 and record["attempts"] == 3
    gaps = [b.at - a.at for a, b in zip(receiver.requests, receiver.requests[1:])]
    assert 0.3 <= gaps[0] < 0.3 + 1.0 and 0.6 <= gaps[1] < 0.6 + 1.0, gaps  # the schedule, then within a poll
    assert {r.headers["Qagen-Event-Id"] for r in receiver.requests} == {event_id}
    assert len({r.body for r in receiver.requests}) == 1  # same bytes every time; only t= changes
    secret = WebhookSecrets(wh_redis).get_or_create(tenant)
    assert all(verify(secret, r.headers["Qagen-Signature"], r.body) for r in receiver.requests)
    assert [h["status_code"] for h in record["history"]] == [500, 503, 200]
    assert "HTTP 500" in record["history"][0]["error"]
    assert scheduled_at(wh_redis, event_id) is None


def test_attempts_are_bounded_then_the_event_is_marked_failed(wh_redis, receiver, dispatch, tenant):
    receiver.default = 503
    _, event_id = notify(wh_redis, receiver, tenant)
    dispatch(max_attempts=3, schedule=(0.05,))

    record = wait_for_record(wh_redis, event_id, "failed")

    assert len(receiver.requests) == 3
    assert "gave up after 3 attempts" in record["last_error"] and "HTTP 503" in record["last_error"]
    assert scheduled_at(wh_redis, event_id) is None
    time.sleep(0.5)
    assert len(receiver.requests) == 3


def test_410_gone_stops_at_once_and_other_4xx_are_retried(wh_redis, receiver, dispatch, tenant):
    receiver.plan([404, 401, 410])
    _, event_id = notify(wh_redis, receiver, tenant)
    dispatch(schedule=(0.05,))

    record = wait_for_record(wh_redis, event_id, "failed")

    assert [h["status_code"] for h in record["history"]] == [404, 401, 410]
    assert "410 Gone" in record["last_error"]


def test_redirects_are_not_followed(wh_redis, receiver, dispatch, tenant):
    receiver.plan([(302, {"Location": receiver.url("/elsewhere")})])
    _, event_id = notify(wh_redis, receiver, tenant)
    dispatch(schedule=(60,))

    record = wait_for_attempts(wh_redis, event_id, 1)

    assert record["status"] == "pending" and "not followed" in record["last_error"]
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_retry_after_from_a_429_is_honoured(wh_redis, receiver, dispatch, tenant):
    receiver.plan([(429, {"Retry-After": "7"})])
    _, event_id = notify(wh_redis, receiver, tenant)
    dispatch()

    record = wait_for_attempts(wh_redis, event_id, 1)

    assert record["next_attempt_at"] - record["history"][-1]["at"] == pytest.approx(7, abs=0.01)
    assert scheduled_at(wh_redis, event_id) == pytest.approx(record["next_attempt_at"], abs=0.01)


def test_timeouts_and_refused_connections_are_retried(wh_redis, receiver, dispatch, tenant):
    from devtools.stack import free_port

    receiver.delay = 1.5
    _, slow = notify(wh_redis, receiver, tenant)
    _, closed = notify(wh_redis, receiver, tenant, url=f"http://127.0.0.1:{free_port()}/hook")
    dispatch(timeout=0.5, schedule=(60,))

    timed_out = wait_for_attempts(wh_redis, slow, 1)
    refused = wait_for_attempts(wh_redis, closed, 1)

    assert timed_out["status"] == "pending" and "within 0.5 s" in timed_out["last_error"]
    assert refused["status"] == "pending" and "could not connect" in refused["last_error"]


@pytest.fixture
def dripping_receiver():
    """A receiver that answers one byte every 0.2 s, for ever: each read is quick, the answer never ends."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def drip(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                if stop.wait(0.2):
                    return
                try:
                    connection.send(bytes([byte]))
                except OSError:
                    return

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    stop.set()
    server.close()


def test_a_receiver_dripping_its_answer_is_cut_off_at_the_attempts_deadline(wh_redis, receiver, dripping_receiver,
                                                                            dispatch, tenant):
    """One tenant's slow receiver must not hold a dispatcher thread (and every tenant's webhooks) for ever."""
    _, slow = notify(wh_redis, receiver, tenant, url=dripping_receiver)
    dispatch(timeout=0.5, schedule=(60,), concurrency=1)

    started = time.monotonic()
    record = wait_for_attempts(wh_redis, slow, 1, timeout=10)

    assert time.monotonic() - started < 0.5 * 3 + 1.5  # the deadline: 3 x the timeout
    assert record["status"] == "pending" and "deadline" in record["last_error"]
    # The one thread is free again: another tenant's event goes out.
    _, other = notify(wh_redis, receiver, tenant + "-b")
    wait_for_record(wh_redis, other, "delivered", timeout=5)


def test_notifying_twice_creates_one_event_and_delivers_it_once(wh_redis, receiver, dispatch, tenant):
    session = finished_session()
    first = notify_session_finished(wh_redis, session, tenant, receiver.url())
    second = notify_session_finished(wh_redis, dict(session), tenant, receiver.url())
    assert first == second and wh_redis.zcard(SCHEDULE_KEY) == 1
    dispatch()

    wait_for_record(wh_redis, first, "delivered")
    notify_session_finished(wh_redis, session, tenant, receiver.url())  # after delivery: nothing new
    time.sleep(0.5)

    assert len(receiver.requests) == 1 and wh_redis.zcard(SCHEDULE_KEY) == 0
    assert notify_session_finished(wh_redis, session, tenant, None) is None


def test_two_dispatchers_send_each_event_once(wh_redis, receiver, dispatch, tenant):
    events = [notify(wh_redis, receiver, tenant)[1] for _ in range(30)]
    dispatch(concurrency=4)
    dispatch(concurrency=4)

    for event_id in events:
        wait_for_record(wh_redis, event_id, "delivered")
    time.sleep(0.3)

    assert sorted(r.headers["Qagen-Event-Id"] for r in receiver.requests) == sorted(events)


def test_an_attempt_whose_dispatcher_died_is_sent_again_when_its_claim_ends(wh_redis, receiver, dispatch, tenant):
    _, event_id = notify(wh_redis, receiver, tenant)
    # A dispatcher claims the event and dies before its attempt (or during it): the claim is all that is left.
    assert claim_due(wh_redis, 10, hold_seconds=1.5) == [event_id]
    claimed_until = scheduled_at(wh_redis, event_id)
    dispatch()

    record = wait_for_record(wh_redis, event_id, "delivered", timeout=10)

    [request] = receiver.requests
    assert request.at >= claimed_until - 0.05  # not before the claim ended, and then by itself
    assert record["attempts"] == 1


def test_a_pending_event_missing_from_the_schedule_is_put_back_on_it(wh_redis, receiver, dispatch, tenant):
    """A record written while deliveries ran on Celery (no schedule): the dispatcher adopts it at start,
    and the paper task's repeated notify puts it back too."""
    session = finished_session()
    event_id, body = event_for(session, tenant)
    assert enqueue_once(wh_redis, event_id, body, receiver.url(), tenant)
    wh_redis.zrem(SCHEDULE_KEY, event_id)

    assert adopt_unscheduled(wh_redis) == [event_id] and scheduled_at(wh_redis, event_id) is not None
    wh_redis.zrem(SCHEDULE_KEY, event_id)
    assert notify_session_finished(wh_redis, session, tenant, receiver.url()) == event_id
    assert scheduled_at(wh_redis, event_id) is not None
    dispatch()

    wait_for_record(wh_redis, event_id, "delivered")
    assert len(receiver.requests) == 1


def test_an_attempt_that_is_not_due_is_skipped_and_the_event_keeps_its_time(wh_redis, receiver, tenant):
    receiver.plan([500])
    _, event_id = notify(wh_redis, receiver, tenant)
    first = attempt_delivery(wh_redis, event_id, **{**_policy(), "schedule": (60,)})
    due = scheduled_at(wh_redis, event_id)

    wh_redis.zadd(SCHEDULE_KEY, {event_id: time.time()})  # a stale entry says "due now"
    duplicate = attempt_delivery(wh_redis, event_id, **_policy())

    assert first.action == "retry" and duplicate.action == "skipped"
    assert scheduled_at(wh_redis, event_id) == pytest.approx(due)
    assert len(receiver.requests) == 1


def test_a_deleted_record_leaves_the_schedule_at_its_next_claim(wh_redis, receiver, dispatch, tenant):
    receiver.plan([500])
    _, event_id = notify(wh_redis, receiver, tenant)
    dispatch(schedule=(0.3,))
    wait_for_attempts(wh_redis, event_id, 1)
    wh_redis.delete(webhooks.record_key(event_id))  # the session was deleted

    deadline = time.monotonic() + 5
    while scheduled_at(wh_redis, event_id) is not None and time.monotonic() < deadline:
        time.sleep(0.05)

    assert scheduled_at(wh_redis, event_id) is None and len(receiver.requests) == 1


def test_after_rotation_both_secrets_sign_until_the_grace_period_ends(wh_redis, receiver, dispatch, tenant):
    secrets = WebhookSecrets(wh_redis)
    old = secrets.get_or_create(tenant)
    assert old.startswith("whsec_") and len(old) == len("whsec_") + 43
    assert secrets.get_or_create(tenant) == old
    new = secrets.rotate(tenant)
    assert new != old and secrets.get_or_create(tenant) == new
    _, event_id = notify(wh_redis, receiver, tenant)
    dispatch()

    wait_for_record(wh_redis, event_id, "delivered")

    header = receiver.requests[0].headers["Qagen-Signature"]
    assert header.count("v1=") == 2
    assert verify(new, header, receiver.requests[0].body) and verify(old, header, receiver.requests[0].body)
    wh_redis.delete(f"qagen:tenant:{tenant}:webhook_secret:previous")  # grace period over
    assert secrets.signing_secrets(tenant) == [new]


@pytest.mark.parametrize("status", ["queued", "running"])
def test_unfinished_sessions_send_nothing(wh_redis, receiver, tenant, status):
    assert notify_session_finished(wh_redis, finished_session(status), tenant, receiver.url()) is None
    assert wh_redis.zcard(SCHEDULE_KEY) == 0


def test_the_dispatcher_reads_its_settings():
    from qagen.settings import Settings

    settings = Settings(webhook_allow="loopback", webhook_max_attempts=5, webhook_timeout_seconds=2.0,
                        webhook_schedule="0.5, 1,4", webhook_concurrency=3)
    dispatcher = Dispatcher.from_settings(None, settings)  # type: ignore[arg-type]

    assert (dispatcher.allow, dispatcher.max_attempts, dispatcher.timeout, dispatcher.concurrency) == ("loopback", 5,
                                                                                                        2.0, 3)
    assert tuple(dispatcher.schedule) == (0.5, 1.0, 4.0)
    assert tuple(Dispatcher.from_settings(None, Settings()).schedule) == webhooks.DEFAULT_SCHEDULE  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="QAGEN_WEBHOOK_SCHEDULE"):
        webhooks.parse_schedule("30,0")


def _policy() -> dict:
    return {k: v for k, v in FAST.items() if k != "poll_seconds"}


def test_dns_rebinding_to_loopback_after_validation_sends_nothing(wh_redis, receiver, dispatch, tenant, hosts):
    name = hosts.unique("rebind")
    hosts[name] = ["93.184.216.34"]  # public when the upload is validated (production's rule: allow "")
    url = webhooks.validate_callback_url(f"http://{name}:{receiver.port}/hook", "")
    hosts[name] = ["127.0.0.1"]  # ... then the name points inside
    _, event_id = notify(wh_redis, receiver, tenant, url=url)
    dispatch(allow="", schedule=(60,))

    record = wait_for_attempts(wh_redis, event_id, 1)

    assert record["status"] == "pending" and "not sent" in record["last_error"]
    assert "resolves to a loopback address" in record["last_error"] and "127.0.0.1" not in record["last_error"]
    assert receiver.requests == []


def test_delivery_connects_to_the_validated_address_keeping_the_host_name(wh_redis, receiver, dispatch, tenant,
                                                                           hosts):
    name = hosts.unique()
    hosts[name] = ["127.0.0.1"]  # no DNS server knows this name: only the pinned address can reach the receiver
    _, event_id = notify(wh_redis, receiver, tenant, url=f"http://{name}:{receiver.port}/hook?course=7")
    dispatch()

    wait_for_record(wh_redis, event_id, "delivered")

    [request] = receiver.requests
    assert request.headers["Host"] == f"{name}:{receiver.port}"
    assert request.path == "/hook?course=7"

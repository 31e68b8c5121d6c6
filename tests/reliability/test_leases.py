"""The lease machinery on real Redis, state by state (seconds, no faults): taking a lease,
a busy and a finished session, worker losses counted and capped, the sweeper's requeue at
the head of the queue, the time-limit case, retries, the heartbeat, and a redelivered
message for a finished session doing nothing. Plus the parse sandbox and the settings."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from pydantic import ValidationError

from qagen.jobs import leases
from qagen.jobs.names import PROCESS_QUESTION_PAPER
from qagen.jobs.queue import make_celery
from qagen.jobs.records import JobState, Session, SessionStore, object_prefix
from qagen.documents import sandbox
from qagen.parsing import parse_document
from qagen.documents.errors import TooComplex
from qagen.settings import Settings
from tests.reliability import harness, hostile
from tests.reliability.conftest import workers
from worker.recovery import Holdings, Sweeper


@pytest.fixture
def store(rredis) -> SessionStore:
    return SessionStore(rredis, 3600)


def new_session(store: SessionStore) -> str:
    session = Session(id=str(uuid.uuid4()), tenant="leases", filename="p.txt", input_key="x/p.txt")
    store.create(session)
    return session.id


def test_one_run_at_a_time_and_losses_are_counted(rredis, store):
    sid = new_session(store)
    first = leases.acquire(rredis, sid, "a|1|x", ttl_seconds=30)
    second = leases.acquire(rredis, sid, "b|2|y", ttl_seconds=30)
    assert (first.outcome, first.attempts, first.losses) == ("ok", 1, 0)
    assert (second.outcome, second.detail) == ("busy", "a|1|x")

    # The first run dies without releasing: once its lease is gone, the next run counts a loss.
    rredis.delete(leases.lease_key(sid))
    third = leases.acquire(rredis, sid, "c|3|z", ttl_seconds=30)
    assert (third.outcome, third.detail, third.losses, third.attempts) == ("ok", "a|1|x", 1, 2)

    # An orderly end is not a loss; a finished session is never run again.
    leases.release(rredis, sid, "c|3|z", "finished")
    assert sid not in harness.active_index(rredis)
    fourth = leases.acquire(rredis, sid, "d|4|w", ttl_seconds=30)
    assert (fourth.outcome, fourth.losses) == ("ok", 1)
    store.mark_complete(sid, "k.pdf", "k.json", 1)
    leases.release(rredis, sid, "d|4|w", "finished")
    assert leases.acquire(rredis, sid, "e|5|v", ttl_seconds=30).outcome == "done"
    assert leases.acquire(rredis, str(uuid.uuid4()), "f|6|u", ttl_seconds=30).outcome == "gone"


def test_the_sweeper_requeues_a_lost_job_at_the_head_of_the_queue(rstack, rredis, store):
    queue = f"sweep-{uuid.uuid4().hex[:8]}"  # no worker consumes it
    settings = rstack.settings.model_copy(update={"queue": queue})
    app = make_celery(settings)
    for n in range(3):  # others waiting before it
        app.send_task(PROCESS_QUESTION_PAPER, args=[f"other-{n}"], task_id=f"other-{n}", queue=queue)
    sid = new_session(store)
    assert leases.acquire(rredis, sid, "gone-node|1|x", ttl_seconds=0.2).outcome == "ok"
    store.mark_running(sid, "answering", 40, "answering 4/10")
    time.sleep(0.4)  # the lease expires: its worker stopped renewing it

    report = Sweeper(app, settings, "test-node").sweep_once()

    assert sid in report.requeued
    head = json.loads(rredis.lindex(queue, -1))  # workers BRPOP from this end
    assert head["headers"]["id"] == sid and rredis.llen(queue) == 4
    record = harness.record(rredis, sid)
    assert record["status"] == "queued" and "resumes where it stopped" in record["message"]
    assert record["progress"] == "40" and sid not in harness.active_index(rredis)
    # The next run counts the loss.
    assert leases.acquire(rredis, sid, "next|2|y", ttl_seconds=30).losses == 1
    leases.release(rredis, sid, "next|2|y", "finished")
    rredis.delete(queue)


def test_a_lost_job_past_the_hard_time_limit_fails_instead_of_running_again(rstack, rredis, store):
    settings = rstack.settings
    sid = new_session(store)
    long_ago = time.time() - settings.task_hard_time_limit_seconds - 5
    leases.acquire(rredis, sid, "slow|1|x", ttl_seconds=0.1, now=long_ago)
    time.sleep(0.3)
    requeued = []

    report = leases.sweep(rredis, requeue=requeued.append, hard_limit_seconds=settings.task_hard_time_limit_seconds,
                          claim_seconds=30)

    assert sid in report.failed and not requeued
    session = store.fetch(sid)
    assert session.status is JobState.FAILED and "time limit" in session.error


def test_a_job_waiting_to_retry_is_watched_from_its_retry_time(rredis, store):
    sid = new_session(store)
    leases.acquire(rredis, sid, "r|1|x", ttl_seconds=30)
    leases.release(rredis, sid, "r|1|x", "retry", watch_from=time.time() + 60)
    requeued = []

    leases.sweep(rredis, requeue=requeued.append, hard_limit_seconds=1800, claim_seconds=30)
    assert sid not in requeued  # its retry is not due yet
    leases.sweep(rredis, requeue=requeued.append, hard_limit_seconds=1800, claim_seconds=30, now=time.time() + 61)
    assert requeued == [sid]  # its worker never ran the retry: queued again
    assert leases.acquire(rredis, sid, "r|2|y", ttl_seconds=30).losses == 0  # a retry is not a worker loss
    leases.release(rredis, sid, "r|2|y", "finished")


def test_a_received_message_is_watched_until_a_run_takes_its_lease(rredis, store):
    """A worker holds a message it has not started; if it dies holding it, the job is due after one ttl."""
    sid = new_session(store)
    now = time.time()
    requeued: list[str] = []

    def sweep(at: float) -> None:
        leases.sweep(rredis, requeue=requeued.append, hard_limit_seconds=1800, claim_seconds=0.1, now=at)

    assert leases.hold(rredis, sid, ttl_seconds=20, now=now)
    assert rredis.zscore(leases.ACTIVE_KEY, sid) == pytest.approx(now + 20)
    assert leases.hold(rredis, sid, ttl_seconds=20, now=now + 5)  # its worker renews the hold
    assert leases.hold(rredis, sid, ttl_seconds=20, now=now)  # a late renewal never brings the watch forward
    assert rredis.zscore(leases.ACTIVE_KEY, sid) == pytest.approx(now + 25)
    sweep(now + 24)
    assert requeued == []  # its worker may still start it

    sweep(now + 26)  # no renewal for a ttl: its worker is gone
    assert requeued == [sid] and harness.record(rredis, sid)["status"] == "queued"

    # Once a run holds the lease the lease watches the job; a finished job needs no watching.
    assert leases.acquire(rredis, sid, "run|1|x", ttl_seconds=30).outcome == "ok"
    assert not leases.hold(rredis, sid, ttl_seconds=20)
    store.mark_complete(sid, "k.pdf", "k.json", 1)
    leases.release(rredis, sid, "run|1|x", "finished")
    assert not leases.hold(rredis, sid, ttl_seconds=20) and sid not in harness.active_index(rredis)


def test_the_worker_holds_what_it_received_until_a_run_starts(rredis, store):
    holdings = Holdings()
    holdings.client = rredis
    sid = new_session(store)

    holdings.received(sid)
    assert sid in holdings and sid in harness.active_index(rredis)
    assert leases.acquire(rredis, sid, "run|1|y", ttl_seconds=30).outcome == "ok"
    holdings.renew()
    assert sid not in holdings  # the run's lease watches it now
    leases.release(rredis, sid, "run|1|y", "finished")


def test_the_heartbeat_keeps_the_lease_and_notices_when_another_run_holds_it(rredis, store):
    sid = new_session(store)
    leases.acquire(rredis, sid, "h|1|x", ttl_seconds=1.0)
    lease = leases.Lease(rredis, sid, "h|1|x", ttl_seconds=1.0, renew_seconds=0.2).start()
    time.sleep(1.5)
    assert leases.holder(rredis, sid) == "h|1|x" and not lease.lost  # renewed past its ttl
    rredis.set(leases.lease_key(sid), "thief|2|y")
    time.sleep(0.5)
    with pytest.raises(leases.LeaseLost):
        lease.check()
    lease.release()
    assert leases.holder(rredis, sid) == "thief|2|y"  # a lost lease is not released by its old holder
    rredis.delete(leases.lease_key(sid))
    rredis.zrem(leases.ACTIVE_KEY, sid)


def test_a_redelivered_message_for_a_finished_session_does_nothing(rstack, rredis, rstorage, rclient, tenant_key):
    """What happens when the visibility timeout finally hands back a killed worker's message."""
    with workers(rstack, ["d1"]):
        up = harness.upload(rclient, harness.paper(60000, 3), "redelivered.txt")
        assert harness.wait_all(rclient, [up.session_id], 60)[up.session_id]["status"] == "complete"
        before = harness.record(rredis, up.session_id)
        objects = sorted(rstorage.list_keys(object_prefix(tenant_key[0], up.session_id)))
        app = make_celery(rstack.settings)
        app.send_task(PROCESS_QUESTION_PAPER, args=[up.session_id], task_id=up.session_id,
                      queue=rstack.settings.queue)
        harness.wait_for(lambda: "already complete; nothing to do" in rstack.log_path("d1").read_text(), 30,
                         "the duplicate message to be consumed")
    after = harness.record(rredis, up.session_id)
    assert after["attempts"] == before["attempts"] == "1" and after["finished_at"] == before["finished_at"]
    assert sorted(rstorage.list_keys(object_prefix(tenant_key[0], up.session_id))) == objects
    harness.SUMMARY.append(harness.Row(
        fault="Duplicate message for a finished session (late redelivery)", injected="1 message sent again",
        jobs=1, lost=0, duplicated=0, notes="dropped: no second run, no new objects, same record"))


def test_the_parse_sandbox_bounds_memory_and_passes_results_and_errors_through():
    sandbox.configure(256 * 1024 * 1024, 60)
    try:
        assert len(parse_document(hostile.valid_pdf(), "ok.pdf").questions) == 3
        with pytest.raises(TooComplex, match="memory"):
            parse_document(hostile.decompression_bomb_pdf(512), "bomb.pdf")
        from qagen.documents.errors import EncryptedPDF

        with pytest.raises(EncryptedPDF):
            parse_document(hostile.encrypted_pdf(), "locked.pdf")
    finally:
        sandbox.disable()


def test_settings_keep_the_lease_and_time_limits_in_order():
    with pytest.raises(ValidationError, match="third"):
        Settings(lease_ttl_seconds=10, lease_renew_seconds=5)
    with pytest.raises(ValidationError, match="PARSE_TIMEOUT"):
        Settings(parse_timeout_seconds=1500)
    defaults = Settings()
    assert defaults.worker_max_tasks_per_child == 50
    assert defaults.lease_ttl_seconds + defaults.recovery_interval_seconds <= 30
    celery = make_celery(defaults).conf
    assert celery.broker_transport_options["visibility_timeout"] > defaults.task_hard_time_limit_seconds \
        > defaults.task_soft_time_limit_seconds
    assert celery.task_acks_late and celery.task_reject_on_worker_lost and celery.worker_prefetch_multiplier == 1
    assert celery.worker_max_tasks_per_child == 50

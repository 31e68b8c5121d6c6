"""Fencing tokens on real Redis: every run of a job takes a larger token with its lease, and a
run whose token is stale (a newer run took the job, or the sweeper gave it away) can change
nothing: not the progress, not the result it publishes, not its release, not the answers cache."""

from __future__ import annotations

import time
import uuid

import pytest

from qagen.answering.cache import AnswerCache
from qagen.jobs import leases
from qagen.jobs.fencing import Fence, LeaseLost, fence_key, losing_objects, run_prefix
from qagen.jobs.records import JobState, Session, SessionStore, key_for, object_prefix
from qagen.model import Answer


@pytest.fixture
def store(redis_client) -> SessionStore:
    return SessionStore(redis_client, ttl_seconds=3600)


def new_session(store: SessionStore) -> str:
    session = Session(id=str(uuid.uuid4()), tenant="fencing", filename="p.txt", input_key="x/p.txt")
    store.create(session)
    return session.id


def expire_lease(redis_client, session_id: str) -> None:
    redis_client.delete(leases.lease_key(session_id))  # what the TTL does to a run that stopped renewing


def test_each_run_takes_a_larger_token_with_its_lease(redis_client, store):
    sid = new_session(store)

    first = leases.acquire(redis_client, sid, "a|1|x", ttl_seconds=30)
    busy = leases.acquire(redis_client, sid, "b|2|y", ttl_seconds=30)
    expire_lease(redis_client, sid)
    second = leases.acquire(redis_client, sid, "c|3|z", ttl_seconds=30)

    assert (first.outcome, first.fence) == ("ok", 1)
    assert busy.outcome == "busy"  # a message that finds the lease held takes no token
    assert (second.outcome, second.fence) == ("ok", 2)
    assert store.fetch(sid).fence == 2
    # The counter lives as long as the record.
    assert 3500 < redis_client.ttl(fence_key(sid)) <= 3600


def test_a_stale_run_can_write_nothing_and_the_current_one_can(redis_client, store):
    sid = new_session(store)
    old = leases.acquire(redis_client, sid, "a|1|x", ttl_seconds=30)
    expire_lease(redis_client, sid)
    new = leases.acquire(redis_client, sid, "b|2|y", ttl_seconds=30)
    stale = store.for_run(Fence(fence_key(sid), old.fence))
    current = store.for_run(Fence(fence_key(sid), new.fence))

    current.mark_running(sid, "answering", 40, "answering 4/10")
    with pytest.raises(LeaseLost, match="fencing token 1 is stale"):
        stale.update(sid, stage="storing", progress=97)
    with pytest.raises(LeaseLost):
        stale.mark_complete(sid, "sessions/fencing/x/runs/1/answers.pdf", "sessions/fencing/x/runs/1/result.json", 3)
    with pytest.raises(LeaseLost):
        stale.mark_failed(sid, "the stale run's error")
    record = store.fetch(sid)
    assert (record.status, record.stage, record.progress, record.result_key, record.error) == (
        JobState.RUNNING, "answering", 40, None, None)

    current.mark_complete(sid, "sessions/fencing/x/runs/2/answers.pdf", "sessions/fencing/x/runs/2/result.json", 3)
    assert store.fetch(sid).result_key == "sessions/fencing/x/runs/2/answers.pdf"


def test_the_sweeper_fences_a_lost_run_before_any_new_run_starts(redis_client, store):
    sid = new_session(store)
    lost = leases.acquire(redis_client, sid, "cut-off|1|x", ttl_seconds=0.2)
    time.sleep(0.4)  # its node is cut off: the lease expires
    requeued: list[str] = []

    report = leases.sweep(redis_client, requeue=requeued.append, hard_limit_seconds=1800, claim_seconds=5)

    assert report.requeued == [sid] == requeued
    # The link comes back: the lost run's next write is refused, and the session stays queued.
    with pytest.raises(LeaseLost):
        store.for_run(Fence(fence_key(sid), lost.fence)).update(sid, status=JobState.RUNNING, stage="answering")
    assert store.fetch(sid).status is JobState.QUEUED
    assert leases.acquire(redis_client, sid, "other|2|y", ttl_seconds=30).fence == lost.fence + 2


def test_a_stale_run_ending_leaves_the_record_and_the_watch_list_to_the_current_run(redis_client, store):
    sid = new_session(store)
    old = leases.acquire(redis_client, sid, "a|1|x", ttl_seconds=0.2)
    time.sleep(0.4)
    leases.sweep(redis_client, requeue=lambda _: None, hard_limit_seconds=1800, claim_seconds=5)

    # The lost run comes back and asks to be retried later: nothing changes.
    leases.release(redis_client, sid, "a|1|x", "retry", watch_from=time.time() + 60, fence=old.fence)

    assert redis_client.hget(key_for(sid), "run_token") == b"a|1|x"  # the next run counts the loss
    assert redis_client.zscore(leases.ACTIVE_KEY, sid) is None
    assert leases.acquire(redis_client, sid, "b|2|y", ttl_seconds=30).losses == 1


def test_a_stale_run_cannot_note_what_it_is_doing(redis_client, store):
    sid = new_session(store)
    old = leases.acquire(redis_client, sid, "a|1|x", ttl_seconds=0.2)
    time.sleep(0.4)
    leases.sweep(redis_client, requeue=lambda _: None, hard_limit_seconds=1800, claim_seconds=5)
    lease = leases.Lease(redis_client, sid, "a|1|x", 0.2, 0.1, fence=old.fence)

    assert not lease.note(stage_note="still here")
    assert redis_client.hget(key_for(sid), "stage_note") is None


def test_a_stale_run_cannot_fill_the_answers_cache(redis_client, store):
    sid = new_session(store)
    old = leases.acquire(redis_client, sid, "a|1|x", ttl_seconds=30)
    expire_lease(redis_client, sid)
    new = leases.acquire(redis_client, sid, "b|2|y", ttl_seconds=30)
    answer = Answer(text="42")
    stale_key, current_key = f"qagen:answer:test-{uuid.uuid4().hex}", f"qagen:answer:test-{uuid.uuid4().hex}"

    with pytest.raises(LeaseLost):
        AnswerCache(redis_client, 60, fence=Fence(fence_key(sid), old.fence)).put(stale_key, answer)
    AnswerCache(redis_client, 60, fence=Fence(fence_key(sid), new.fence)).put(current_key, answer)

    assert redis_client.get(stale_key) is None
    assert AnswerCache(redis_client).get(current_key).text == "42"
    assert 0 < redis_client.ttl(current_key) <= 60


def test_each_run_writes_under_its_own_keys_and_the_winner_knows_the_losers():
    prefix = object_prefix("t", "s1")
    keys = [f"{prefix}input/p.pdf", f"{run_prefix(prefix, 3)}answers.pdf", f"{run_prefix(prefix, 3)}result.json",
            f"{run_prefix(prefix, 4)}answers.pdf", f"{run_prefix(prefix, 4)}result.json", f"{prefix}paper-1.json"]

    assert run_prefix(prefix, 4) == "sessions/t/s1/runs/4/"
    assert losing_objects(keys, prefix, winner=4) == keys[1:3]

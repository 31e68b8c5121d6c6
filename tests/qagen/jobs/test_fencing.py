"""Fencing tokens on real Redis: every run of a job takes a larger token with its lease, and a
run whose token is stale (a newer run took the job) can change nothing: not the progress, not
the result it publishes, not the answers cache. (The sweeper's part, which needs a Redis no
worker sweeps, is in tests/reliability/test_fencing.py.)"""

from __future__ import annotations

import uuid

import pytest

from qagen.answering.cache import AnswerCache
from qagen.jobs import leases
from qagen.jobs.fencing import Fence, LeaseLost, fence_key, losing_objects, run_prefix
from qagen.jobs.records import JobState, Session, SessionStore, key_for, object_prefix
from qagen.model import Answer


@pytest.fixture
def store(redis_client):
    """A session store; the sessions made with it leave no lease or watch entry for the test
    stack's own sweeper to act on."""
    made = SessionStore(redis_client, ttl_seconds=3600)
    made.created = []
    yield made
    for sid in made.created:
        redis_client.delete(key_for(sid), leases.lease_key(sid), fence_key(sid))
        redis_client.zrem(leases.ACTIVE_KEY, sid)


def new_session(store: SessionStore) -> str:
    session = Session(id=str(uuid.uuid4()), tenant="fencing", filename="p.txt", input_key="x/p.txt")
    store.create(session)
    store.created.append(session.id)
    return session.id


def expire_lease(redis_client, session_id: str) -> None:
    """What the TTL does to a run that stopped renewing (out of the watch list too, so that the
    test stack's sweeper does not queue the session meanwhile)."""
    redis_client.delete(leases.lease_key(session_id))
    redis_client.zrem(leases.ACTIVE_KEY, session_id)


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

"""Fencing and the sweeper on real Redis (no worker sweeps this stack): the sweeper that gives a
lost run's job away bumps its fencing token, so the lost run is fenced before any new run
starts: it cannot write, its end leaves the record alone, it cannot note what it is doing."""

from __future__ import annotations

import time
import uuid

import pytest

from qagen.jobs import leases
from qagen.jobs.fencing import Fence, LeaseLost, fence_key
from qagen.jobs.records import JobState, Session, SessionStore, key_for


@pytest.fixture
def store(rredis) -> SessionStore:
    return SessionStore(rredis, 3600)


def new_session(store: SessionStore) -> str:
    session = Session(id=str(uuid.uuid4()), tenant="fencing", filename="p.txt", input_key="x/p.txt")
    store.create(session)
    return session.id


def test_the_sweeper_fences_a_lost_run_before_any_new_run_starts(rredis, store):
    sid = new_session(store)
    lost = leases.acquire(rredis, sid, "cut-off|1|x", ttl_seconds=0.2)
    time.sleep(0.4)  # its node is cut off: the lease expires
    requeued: list[str] = []

    report = leases.sweep(rredis, requeue=requeued.append, hard_limit_seconds=1800, claim_seconds=5)

    assert report.requeued == [sid] == requeued
    # The link comes back: the lost run's next write is refused, and the session stays queued.
    with pytest.raises(LeaseLost):
        store.for_run(Fence(fence_key(sid), lost.fence)).update(sid, status=JobState.RUNNING, stage="answering")
    assert store.fetch(sid).status is JobState.QUEUED
    assert leases.acquire(rredis, sid, "other|2|y", ttl_seconds=30).fence == lost.fence + 2


def test_a_stale_run_ending_leaves_the_record_and_the_watch_list_to_the_current_run(rredis, store):
    sid = new_session(store)
    old = leases.acquire(rredis, sid, "a|1|x", ttl_seconds=0.2)
    time.sleep(0.4)
    leases.sweep(rredis, requeue=lambda _: None, hard_limit_seconds=1800, claim_seconds=5)

    # The lost run comes back and asks to be retried later: nothing changes.
    leases.release(rredis, sid, "a|1|x", "retry", watch_from=time.time() + 60, fence=old.fence)

    assert rredis.hget(key_for(sid), "run_token") == b"a|1|x"  # the next run counts the loss
    assert rredis.zscore(leases.ACTIVE_KEY, sid) is None
    assert leases.acquire(rredis, sid, "b|2|y", ttl_seconds=30).losses == 1


def test_a_stale_run_cannot_note_what_it_is_doing(rredis, store):
    sid = new_session(store)
    old = leases.acquire(rredis, sid, "a|1|x", ttl_seconds=0.2)
    time.sleep(0.4)
    leases.sweep(rredis, requeue=lambda _: None, hard_limit_seconds=1800, claim_seconds=5)
    lease = leases.Lease(rredis, sid, "a|1|x", 0.2, 0.1, fence=old.fence)

    assert not lease.note(stage_note="still here")
    assert rredis.hget(key_for(sid), "stage_note") is None

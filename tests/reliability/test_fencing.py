"""Fencing and the sweeper on real Redis (no worker sweeps this stack): the sweeper that gives a
lost run's job away bumps its fencing token, so the lost run is fenced before any new run
starts: it cannot write, its end leaves the record alone, it cannot note what it is doing.
And a real worker's run whose token goes stale mid-job: it stands down at its next write,
and the run after it publishes alone."""

from __future__ import annotations

import time
import uuid

import pytest

from qagen.jobs import leases
from qagen.jobs.fencing import Fence, LeaseLost, fence_key
from qagen.jobs.records import JobState, Session, SessionStore, key_for
from tests.reliability import harness
from tests.reliability.conftest import llm_stub, stub_env, workers


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


@pytest.mark.timeout(300)
def test_a_running_job_whose_token_goes_stale_stands_down_and_the_next_run_publishes_alone(
        rstack, rredis, rstorage, rclient, tenant_key):
    with llm_stub("--latency-ms", "700") as (api_base, _), \
            workers(rstack, ["f1"], stub_env(api_base, llm_concurrency=1)):
        sid = harness.upload(rclient, harness.paper(70000, 12), "fenced.txt").session_id
        harness.wait_for(lambda: sid in harness.lease_holders(rredis)
                         and int(harness.record(rredis, sid).get("progress") or 0) >= 10, 60, "the job to be answering")
        first = harness.lease_holders(rredis)[sid]
        # What a sweeper does when it gives the job away (the run is alive, as one cut off or frozen would be).
        rredis.incr(fence_key(sid))
        done = harness.wait_all(rclient, [sid], timeout=120)
        record = harness.record(rredis, sid)
        log = rstack.log_path("f1").read_text(errors="replace")

    assert done[sid]["status"] == "complete"
    # The first run's next write (an answer it cached, or its progress) was refused, and it stopped.
    stopped = log.split(f"run {first} stopped (", 1)
    assert len(stopped) == 2 and "was refused: this run's fencing token" in stopped[1][:300]
    assert f"run {first} ended (lost)" in log
    # The sweeper queued the job again; the next run took a newer token and published alone.
    assert int(record["fence"]) >= 3 and f"/runs/{record['fence']}/" in record["result_key"]
    assert harness.unexpected_objects(rstorage, tenant_key[0], sid, complete=True) == []

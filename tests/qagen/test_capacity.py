"""The capacity estimate counts every job that holds a worker slot: papers and notes alike."""

from __future__ import annotations

import uuid

import pytest

from qagen.jobs import capacity
from qagen.jobs.fairness import Waiting

SUFFIX = uuid.uuid4().hex[:8]  # keys of our own: the suite's worker uses the real ones
UNACKED, DURATIONS = f"test-unacked-{SUFFIX}", f"test-durations-{SUFFIX}"


def measure(client, queue, **kwargs):  # type: ignore[no-untyped-def]
    return capacity.measure(client, queue, unacked_key=UNACKED, durations_key=DURATIONS, **kwargs)


@pytest.fixture
def busy(redis_client):
    """A queue of our own, a median job time of 10 s, and no slots taken yet."""
    queue = f"capacity-test-{SUFFIX}"
    redis_client.lpush(DURATIONS, "10.000")
    yield queue
    redis_client.delete(UNACKED, DURATIONS, queue)


def _running(redis_client, count: int) -> None:
    for k in range(count):
        redis_client.hset(UNACKED, f"tag-{k}", "{}")


def test_a_free_slot_means_no_wait(redis_client, busy):
    _running(redis_client, 1)

    assert measure(redis_client, busy, worker_concurrency=2, workers=None).estimated_wait_seconds == 0


def test_every_slot_busy_means_a_wait_even_with_nothing_queued(redis_client, busy):
    # Two notes being indexed hold both slots of the only worker: a paper waits for one.
    _running(redis_client, 2)

    capacity = measure(redis_client, busy, worker_concurrency=2, workers=None)

    assert capacity.running == 2 and capacity.queued == 0
    assert capacity.estimated_wait_seconds == 10


def test_queued_jobs_add_to_the_wait(redis_client, busy):
    _running(redis_client, 2)
    redis_client.rpush(busy, "a", "b")

    assert measure(redis_client, busy, worker_concurrency=2, workers=None).estimated_wait_seconds == 20
    assert measure(redis_client, busy, worker_concurrency=2, workers=2).estimated_wait_seconds == 10
    assert measure(redis_client, busy, worker_concurrency=2, workers=0).estimated_wait_seconds is None


def test_pending_jobs_count_as_queued_and_other_tenants_backlogs_count_one_per_turn(redis_client, busy):
    # Both slots busy; tenant "big" has 10 jobs waiting in the dispatcher, "me" has none.
    _running(redis_client, 2)
    backlog = Waiting(pending={"big": 10}, dispatched={"big": 2})

    mine = measure(redis_client, busy, worker_concurrency=2, workers=None, waiting=backlog, tenant="me")
    theirs = measure(redis_client, busy, worker_concurrency=2, workers=None, waiting=backlog, tenant="big")

    assert mine.queued == theirs.queued == 10
    # Mine waits for one slot and one of big's turns: floor((1 + 2) / 2) jobs' time.
    assert mine.estimated_wait_seconds == 10
    # Big's next job waits behind its own ten: floor((10 + 2) / 2).
    assert theirs.estimated_wait_seconds == 60

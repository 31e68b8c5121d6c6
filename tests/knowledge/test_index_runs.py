"""An index build runs under a lease, like a paper's job: one run at a time, a run that died
is counted as a worker loss, and past the cap the knowledge base fails with a message.
Real Redis (the test stack's), no worker: the decisions of `begin_indexing` are checked
directly; tests/reliability/test_index_faults.py kills real workers."""

from __future__ import annotations

import pytest

from qagen.jobs import leases
from qagen.knowledge.indexing import INDEX_LEASES, begin_indexing
from qagen.knowledge.store import Document, KnowledgeBaseStore, KnowledgeStatus, run_key_for


@pytest.fixture
def store(redis_client) -> KnowledgeBaseStore:
    return KnowledgeBaseStore(redis_client)


@pytest.fixture
def kb(store):
    base = store.create("tenant-index-runs", "Physics notes")
    base = store.add_documents(base.id, [Document(id="d1", filename="a.md", sha256="x", size=1, key="k")])
    yield base
    store.delete(base.id)


def quick(settings, **changes):
    return settings.model_copy(update={"lease_ttl_seconds": 3.0, "lease_renew_seconds": 1.0, **changes})


def die(redis_client, kb_id: str) -> None:
    """What a killed pool process leaves: its lease gone (expired) and its run_token still set."""
    redis_client.delete(INDEX_LEASES.lease_prefix + kb_id)


def test_a_second_delivery_finds_the_live_run_and_does_not_index(redis_client, store, settings, kb):
    first = begin_indexing(redis_client, store, quick(settings), kb.id, "w1")
    try:
        second = begin_indexing(redis_client, store, quick(settings), kb.id, "w2")

        assert first.outcome == "run" and second.outcome == "busy"
        assert second.holder == first.lease.token
    finally:
        first.lease.release("finished")


def test_a_finished_run_is_not_a_worker_loss(redis_client, store, settings, kb):
    for _ in range(5):
        start = begin_indexing(redis_client, store, quick(settings, max_worker_losses=1), kb.id, "w1")
        assert start.outcome == "run"
        start.lease.release("finished")

    assert redis_client.hget(run_key_for(kb.id), "worker_losses") == b"0"


def test_a_base_whose_runs_keep_dying_fails_with_a_message_after_the_cap(redis_client, store, settings, kb):
    capped = quick(settings, max_worker_losses=2)
    outcomes = []
    for _ in range(4):
        start = begin_indexing(redis_client, store, capped, kb.id, "w1")
        outcomes.append(start.outcome)
        if start.lease:
            start.lease._stop.set()  # the heartbeat dies with the process
            die(redis_client, kb.id)

    failed = store.fetch(kb.id)
    assert outcomes == ["run", "run", "run", "failed"]  # losses 0, 1, 2, then 3 > 2
    assert failed.status == KnowledgeStatus.FAILED
    assert "stopped the worker 3 times" in failed.error and "upload the notes again" in failed.error
    assert leases.holder(redis_client, kb.id, INDEX_LEASES) is None  # nothing left holding it


def test_new_documents_get_a_fresh_set_of_attempts(redis_client, store, settings, kb):
    capped = quick(settings, max_worker_losses=0)
    start = begin_indexing(redis_client, store, capped, kb.id, "w1")
    start.lease._stop.set()
    die(redis_client, kb.id)
    store.add_documents(kb.id, [Document(id="d2", filename="b.md", sha256="y", size=1, key="k2")])

    again = begin_indexing(redis_client, store, capped, kb.id, "w1")
    try:
        assert again.outcome == "run"  # the loss belonged to the previous generation
    finally:
        again.lease.release("finished")


def test_a_deleted_base_is_not_indexed(redis_client, store, settings, kb):
    store.delete(kb.id)

    assert begin_indexing(redis_client, store, quick(settings), kb.id, "w1").outcome == "gone"
    assert not redis_client.exists(run_key_for(kb.id))


def test_index_leases_never_touch_the_paper_jobs_watch_list(redis_client, store, settings, kb):
    start = begin_indexing(redis_client, store, quick(settings), kb.id, "w1")
    start.lease.release("finished")

    assert redis_client.zscore(leases.ACTIVE_KEY, kb.id) is None  # the papers' sweeper never sees it

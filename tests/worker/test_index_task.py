"""The index task (worker/tasks.py: index_knowledge_base) ends every way it can stop on the
knowledge base: it indexes under the base's lease, a second delivery that finds a live run
drops out, a base whose runs keep dying fails after the cap with the name of the file they
were reading, and a build stopped at the soft or the hard time limit fails the base with a
message instead of leaving it `indexing`.

The task runs in this process as a worker runs it (Celery's `apply`: its retries run at once),
against the test stack's Redis and S3. What a dying run leaves behind is made with the same
calls a run makes (`begin_indexing`, `Lease.note`) and then its lease taken away, as a killed
process's lease expires; the soft time limit arrives as billiard delivers it to a pool process
(SIGUSR1, whose handler raises SoftTimeLimitExceeded). tests/reliability/test_index_faults.py
does the same with real workers killed and timed out.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest
from billiard.pool import SIG_SOFT_TIMEOUT, soft_timeout_sighandler
from celery.exceptions import TimeLimitExceeded

import worker.tasks as tasks
from qagen.jobs import leases
from qagen.knowledge.indexing import INDEX_LEASES, begin_indexing, time_limit_message
from qagen.knowledge.store import (
    Document,
    KnowledgeBaseStore,
    KnowledgeStatus,
    key_for,
    prefix_for,
    run_key_for,
    sha256,
)
from worker.tasks import index_knowledge_base

QUEUES = b"# Queues\n\nA queue is first in, first out: items leave in the order they arrived.\n"


@pytest.fixture
def knowledge(redis_client) -> KnowledgeBaseStore:
    return KnowledgeBaseStore(redis_client)


@pytest.fixture
def worker_settings(settings, monkeypatch, redis_client, knowledge, storage):
    """The settings and clients the task reads, pointed at the test stack; leases of seconds."""
    quick = settings.model_copy(update={"lease_ttl_seconds": 3.0, "lease_renew_seconds": 1.0,
                                        "max_worker_losses": 1})
    monkeypatch.setattr(tasks, "get_settings", lambda: quick)
    monkeypatch.setattr(tasks, "_resources", lambda: (redis_client, None, knowledge, storage))
    return quick


def put_document(knowledge, storage, kb, filename: str, data: bytes):
    doc_id = sha256(filename.encode())[:12]
    key = f"{prefix_for(kb.tenant, kb.id)}docs/{doc_id}/{filename}"
    storage.put(key, data, "text/markdown")
    return knowledge.add_documents(kb.id, [Document(id=doc_id, filename=filename, sha256=sha256(data),
                                                    size=len(data), key=key)])


@pytest.fixture
def kb(knowledge, storage):
    base = knowledge.create("tenant-index-task", "Data structures")
    base = put_document(knowledge, storage, base, "queues.md", QUEUES)
    yield base
    knowledge.delete(base.id)
    for key in storage.list_keys(prefix_for(base.tenant, base.id)):
        storage.delete(key)


def index_objects(storage, kb) -> list[str]:
    return list(storage.list_keys(f"{prefix_for(kb.tenant, kb.id)}index/"))


def dies(redis_client, start) -> None:
    """The run's process is killed: its heartbeat stops and its lease expires; its run_token and
    what it noted stay on the run record."""
    start.lease._stop.set()
    redis_client.delete(INDEX_LEASES.lease_prefix + start.lease.session_id)


def test_a_delivery_indexes_the_notes_under_the_lease_and_leaves_nothing_held(
        redis_client, knowledge, storage, worker_settings, kb):
    assert index_knowledge_base.apply(args=[kb.id]).successful()

    ready = knowledge.fetch(kb.id)
    run = redis_client.hgetall(run_key_for(kb.id))
    assert ready.status == KnowledgeStatus.READY and ready.chunk_count > 0
    assert index_objects(storage, kb) == [ready.index_key]
    assert leases.holder(redis_client, kb.id, INDEX_LEASES) is None
    assert run[b"run_token"] == b"" and run[b"attempts"] == b"1"
    assert run[b"building"] == str(kb.generation).encode() and run[b"reading"] == b""  # done reading


def test_a_second_delivery_that_finds_a_live_run_drops_out_and_indexes_nothing(
        redis_client, knowledge, storage, worker_settings, kb):
    first = begin_indexing(redis_client, knowledge, worker_settings, kb.id, "w1")  # alive: its heartbeat runs
    try:
        assert index_knowledge_base.apply(args=[kb.id]).successful()  # looks twice, one lease ttl apart

        assert leases.holder(redis_client, kb.id, INDEX_LEASES) == first.lease.token
        assert knowledge.fetch(kb.id).status == KnowledgeStatus.INDEXING
        assert index_objects(storage, kb) == []
        assert redis_client.hget(run_key_for(kb.id), "attempts") == b"1"  # only the live run's
    finally:
        first.lease.release("finished")


def test_notes_whose_runs_keep_dying_fail_the_base_after_the_cap_naming_the_file_being_read(
        redis_client, knowledge, storage, worker_settings, kb):
    kb = put_document(knowledge, storage, kb, "unit-2-scan.pdf", b"%PDF-1.4 never read in this test")
    for _ in range(worker_settings.max_worker_losses + 1):  # 0 losses, then 1: still within the cap
        start = begin_indexing(redis_client, knowledge, worker_settings, kb.id, "w1")
        assert start.outcome == "run"
        start.lease.note(building=kb.generation, reading="unit-2-scan.pdf")  # what build_index notes
        dies(redis_client, start)

    assert index_knowledge_base.apply(args=[kb.id]).successful()  # the next delivery: 2 losses > 1

    failed = knowledge.fetch(kb.id)
    assert failed.status == KnowledgeStatus.FAILED
    assert failed.error.startswith("Indexing these notes stopped the worker 2 times"), failed.error
    assert "the last time while reading unit-2-scan.pdf" in failed.error
    assert "upload the notes again without unit-2-scan.pdf" in failed.error
    assert index_objects(storage, kb) == []  # it did not index
    assert leases.holder(redis_client, kb.id, INDEX_LEASES) is None


@pytest.fixture
def soft_limit_in(request):
    """Deliver the soft time limit to this process after `seconds`, as billiard's pool does."""
    previous = signal.signal(SIG_SOFT_TIMEOUT, soft_timeout_sighandler)
    timers = []

    def arm(seconds: float) -> None:
        timer = threading.Timer(seconds, os.kill, (os.getpid(), SIG_SOFT_TIMEOUT))
        timers.append(timer)
        timer.start()

    yield arm
    for timer in timers:
        timer.cancel()
    signal.signal(SIG_SOFT_TIMEOUT, previous)


def test_a_build_past_the_soft_time_limit_fails_the_base_with_a_message(
        redis_client, knowledge, storage, worker_settings, kb, soft_limit_in):
    # The build is slow: the base's lock is held for a while, so it waits to read its documents.
    assert redis_client.lock(f"{key_for(kb.id)}:lock", timeout=1.5).acquire()
    soft_limit_in(0.5)

    assert index_knowledge_base.apply(args=[kb.id]).successful()

    failed = knowledge.fetch(kb.id)
    assert failed.status == KnowledgeStatus.FAILED
    assert failed.error == time_limit_message(worker_settings.task_soft_time_limit_seconds)
    assert failed.error.startswith("Indexing took longer than the time limit (")
    assert leases.holder(redis_client, kb.id, INDEX_LEASES) is None
    assert redis_client.hget(run_key_for(kb.id), "run_token") == b""  # it ended; not a worker loss


def test_a_build_stopped_at_the_hard_time_limit_fails_the_base_with_a_message(
        redis_client, knowledge, worker_settings, kb):
    start = begin_indexing(redis_client, knowledge, worker_settings, kb.id, "w1")
    start.lease.note(building=kb.generation, reading="queues.md")
    dies(redis_client, start)  # Celery killed the pool process, and acknowledged its message

    # What the worker's main process then calls (celery.worker.request.Request.on_timeout).
    index_knowledge_base.on_failure(TimeLimitExceeded(worker_settings.task_hard_time_limit_seconds),
                                    "task-id", [kb.id], {}, None)

    failed = knowledge.fetch(kb.id)
    assert failed.status == KnowledgeStatus.FAILED
    assert failed.error == time_limit_message(worker_settings.task_hard_time_limit_seconds)


def test_a_build_stopped_at_the_hard_time_limit_leaves_a_newer_generation_to_its_own_task(
        redis_client, knowledge, storage, worker_settings, kb):
    start = begin_indexing(redis_client, knowledge, worker_settings, kb.id, "w1")
    start.lease.note(building=kb.generation)
    dies(redis_client, start)
    put_document(knowledge, storage, kb, "stacks.md", b"# Stacks\n\nLast in, first out.\n")  # queues its own task

    index_knowledge_base.on_failure(TimeLimitExceeded(worker_settings.task_hard_time_limit_seconds),
                                    "task-id", [kb.id], {}, None)

    assert knowledge.fetch(kb.id).status == KnowledgeStatus.INDEXING

"""Session records in real Redis: created with a TTL, updated field by field, never conjured."""

from __future__ import annotations

import uuid

import pytest

from qagen.errors import SessionNotFound
from qagen.jobs.records import JobState, Session, SessionStore, key_for


@pytest.fixture
def store(redis_client):
    return SessionStore(redis_client, ttl_seconds=3600)


def new_session() -> Session:
    return Session(id=str(uuid.uuid4()), tenant="o", filename="p.pdf", input_key="uploads/x/p.pdf")


def test_a_created_session_reads_back_queued_with_a_ttl(store, redis_client):
    session = store.create(new_session())

    fetched = store.fetch(session.id)

    assert fetched.status is JobState.QUEUED and fetched.progress == 0 and fetched.error is None
    assert 3500 < redis_client.ttl(key_for(session.id)) <= 3600


def test_progress_then_completion_is_recorded(store):
    session = store.create(new_session())

    store.mark_running(session.id, "answering", 40, "answering 4/10")
    running = store.fetch(session.id)
    store.mark_complete(session.id, "results/x/answers.pdf", "results/x/result.json", 10)
    done = store.fetch(session.id)

    assert (running.status, running.stage, running.progress, running.message) == (
        JobState.RUNNING, "answering", 40, "answering 4/10")
    assert running.started_at
    assert (done.status, done.progress, done.question_count) == (JobState.COMPLETE, 100, 10)
    assert done.started_at == running.started_at and done.finished_at >= done.started_at


def test_updating_an_unknown_session_raises_and_leaves_no_record(store, redis_client):
    missing = str(uuid.uuid4())

    with pytest.raises(SessionNotFound):
        store.update(missing, progress=50)

    assert not redis_client.exists(key_for(missing))


def test_deleting_a_session_that_was_never_queued_removes_it_from_the_tenants_list(store, redis_client):
    session = store.create(Session(id=str(uuid.uuid4()), tenant="tenant-delete", filename="p.pdf", input_key="k"))
    kept = store.create(Session(id=str(uuid.uuid4()), tenant="tenant-delete", filename="q.pdf", input_key="k2"))

    store.delete(session.id, "tenant-delete")

    listed, _ = store.list_for_tenant("tenant-delete")
    assert [s.id for s in listed] == [kept.id]
    assert not redis_client.exists(key_for(session.id))


def test_the_parses_warnings_and_confidence_are_recorded_and_shown_once_parsed(store):
    session = store.create(new_session())
    queued = store.fetch(session.id).to_public()
    warnings = ["The numbering jumps from 7 to 9: check whether question 8 is on the paper.",
                'Page 3 has no text layer and was read with OCR: check the "wording".', "हिन्दी पाठ"]

    store.mark_running(session.id, "parsing", 2, "reading the paper")
    store.record_parse(session.id, warnings, "low")
    parsed = store.fetch(session.id)
    store.mark_complete(session.id, "r/answers.pdf", "r/result.json", 9)
    done = store.fetch(session.id).to_public()

    assert (queued["warnings"], queued["confidence"]) == (None, None)
    assert (parsed.warnings, parsed.confidence) == (warnings, "low")
    assert (done["warnings"], done["confidence"]) == (warnings, "low")


def test_a_parse_without_warnings_records_an_empty_list_not_nothing(store):
    session = store.create(new_session())

    store.record_parse(session.id, [], "high")

    assert store.fetch(session.id).to_public()["warnings"] == []
    assert store.fetch(session.id).to_public()["confidence"] == "high"

"""A session's review moves in real Redis (qagen.jobs.review): edits land only in review, a
continuation happens once, and no run, hold or sweep touches a session awaiting review."""

from __future__ import annotations

import time
import uuid

import pytest

from qagen.jobs import leases
from qagen.jobs.records import JobState, Session, SessionStore
from qagen.jobs.review import begin_answering, replace_paper, stop_for_review, undo_answering
from qagen.model import Paper, Question


@pytest.fixture
def store(redis_client):
    return SessionStore(redis_client, ttl_seconds=3600)


def paper(count: int = 2) -> Paper:
    return Paper(title="Quiz", questions=[Question(str(n), f"Q{n}") for n in range(1, count + 1)],
                 warnings=["Check it."], confidence="medium")


def session_in_review(store: SessionStore) -> Session:
    session = store.create(Session(id=str(uuid.uuid4()), tenant="t", filename="q.txt", input_key="k", review=True))
    stop_for_review(store, session.id, "sessions/t/x/paper-1.json", paper())
    return store.fetch(session.id)


def test_stopping_for_review_records_the_paper_and_what_to_do(store):
    session = session_in_review(store)

    assert (session.status, session.stage, session.progress) == (JobState.AWAITING_REVIEW, "review", 15)
    assert session.review is True and session.paper_key == "sessions/t/x/paper-1.json"
    assert (session.question_count, session.warnings, session.confidence) == (2, ["Check it."], "medium")
    assert "check them" in session.message


def test_an_edit_replaces_the_paper_only_in_review_and_hands_back_the_key_to_remove(store, redis_client):
    session = session_in_review(store)

    done = replace_paper(redis_client, session.id, "sessions/t/x/paper-2.json", paper(3))
    assert done.ok and done.detail == "sessions/t/x/paper-1.json"
    assert (store.fetch(session.id).paper_key, store.fetch(session.id).question_count) == (
        "sessions/t/x/paper-2.json", 3)

    assert begin_answering(redis_client, session.id).ok
    late = replace_paper(redis_client, session.id, "sessions/t/x/paper-3.json", paper(1))
    assert (late.status, late.detail) == ("queued", "sessions/t/x/paper-3.json")
    assert store.fetch(session.id).paper_key == "sessions/t/x/paper-2.json"


def test_a_session_is_sent_on_once_and_put_back_only_by_its_own_continuation(store, redis_client):
    session = session_in_review(store)

    first, second = begin_answering(redis_client, session.id), begin_answering(redis_client, session.id)
    assert first.ok and second.status == "queued"
    continued = store.fetch(session.id)
    assert continued.status is JobState.QUEUED and continued.reviewed_at

    assert not undo_answering(redis_client, session.id, "0.5", 2)  # not its stamp
    assert undo_answering(redis_client, session.id, first.detail, 2)
    back = store.fetch(session.id)
    assert back.status is JobState.AWAITING_REVIEW and back.reviewed_at is None


def test_a_gone_session_says_so(redis_client):
    missing = str(uuid.uuid4())

    assert begin_answering(redis_client, missing).status == "gone"
    assert replace_paper(redis_client, missing, "k", paper()).status == "gone"


def test_no_run_hold_or_sweep_touches_a_session_in_review(store, redis_client):
    session = session_in_review(store)
    # As if a run had been watched and its lease had expired.
    redis_client.zadd(leases.ACTIVE_KEY, {session.id: time.time() - 60})

    assert leases.acquire(redis_client, session.id, "w|1|x", 30).outcome == "done"
    assert not leases.hold(redis_client, session.id, 30)
    requeued: list[str] = []
    leases.sweep(redis_client, requeue=requeued.append, hard_limit_seconds=1800, claim_seconds=5)

    assert requeued == [] and redis_client.zscore(leases.ACTIVE_KEY, session.id) is None
    assert store.fetch(session.id).status is JobState.AWAITING_REVIEW

"""The answer engine against a real HTTP model server (our stub), through litellm, not a mock."""

from __future__ import annotations

import httpx
import pytest

from qagen.answering.cache import AnswerCache
from qagen.answering.engine import AnswerEngine, work_items
from qagen.answering.limiter import ModelRateLimiter
from qagen.errors import ModelError, TransientError
from qagen.model import Paper, Part, Question
from devtools.llm_stub import running_stub


def paper_of(count: int) -> Paper:
    return Paper(title="T", questions=[Question(number=str(n), text=f"Explain idea number {n}.", marks=2)
                                       for n in range(1, count + 1)])


def engine_for(base: str, **overrides) -> AnswerEngine:
    options = dict(model="openai/stub", api_base=f"{base}/v1", timeout_seconds=5, concurrency=8, max_attempts=4,
                   backoff_initial_seconds=0.05, backoff_max_seconds=0.2)
    options.update(overrides)
    return AnswerEngine(**options)


def stats(base: str) -> dict:
    return httpx.get(f"{base}/stats").json()


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-stub")


def test_work_items_are_leaf_parts_with_their_stem_and_alternatives():
    paper = Paper(title="T", questions=[
        Question(number="1", text="Stem one", parts=[Part(label="a", text="first"),
                                                      Part(label="b", text="second", parts=[Part("i", "deep")])]),
        Question(number="2", text="Plain", alternatives=[Question(number="2", text="Or this")]),
    ])

    items = work_items(paper)

    assert [w.item.text for w in items] == ["first", "deep", "Plain", "Or this"]
    assert items[1].context == "Stem one\nsecond"


def test_questions_are_answered_concurrently_but_never_above_the_limit():
    with running_stub("--latency-ms", "200") as base:
        progress = []
        paper = engine_for(base, concurrency=4).answer_paper(paper_of(12), lambda d, t: progress.append((d, t)))
        seen = stats(base)

    assert all(q.answer and q.answer.text.startswith("Stub model answer") for q in paper.questions)
    assert 1 < seen["max_in_flight"] <= 4
    assert progress[-1] == (12, 12) and [d for d, _ in progress] == list(range(1, 13))


def test_transient_failures_are_retried_in_one_layer_until_answered():
    with running_stub("--error-rate", "0.3", "--hang-seconds", "10", "--seed", "3") as base:
        paper = engine_for(base, timeout_seconds=1, max_attempts=6).answer_paper(paper_of(10))
        seen = stats(base)

    assert all(q.answer.text.startswith("Stub model answer") for q in paper.questions)
    failures = seen["rate_limited"] + seen["errors"] + seen["hangs"]
    assert failures > 0
    # One hit per attempt: our retries are the only ones (the SDK's are off).
    assert seen["requests"] == seen["ok"] + failures


def test_a_model_that_keeps_failing_fails_the_stage_as_transient():
    with running_stub("--error-rate", "1.0", "--hang-seconds", "5") as base:
        with pytest.raises(TransientError):
            engine_for(base, max_attempts=2, timeout_seconds=0.5).answer_paper(paper_of(3))
        seen = stats(base)

    assert seen["requests"] == 6


def test_a_wrong_model_name_is_a_model_error_naming_the_setting():
    with running_stub() as base:
        engine = engine_for(base, model="qagen-no-such-provider/x")
        with pytest.raises(ModelError, match="QAGEN_MODEL"):
            engine.answer_paper(paper_of(1))
        seen = stats(base)

    assert seen["requests"] == 0


def test_the_shared_limit_keeps_a_burst_under_the_providers_rate(redis_client, settings):
    # The stub allows 6 calls per 2 s window; we allow ourselves 5 in the same window.
    with running_stub("--rpm", "6", "--window-seconds", "2") as base:
        limiter = ModelRateLimiter(5, settings.redis_url, window_seconds=2)
        paper = engine_for(base, limiter=limiter).answer_paper(paper_of(12))
        seen = stats(base)

    assert all(q.answer.text.startswith("Stub model answer") for q in paper.questions)
    assert seen["rate_limited"] == 0
    assert seen["ok"] == 12


def test_a_repeated_paper_is_answered_from_the_cache(redis_client):
    cache = AnswerCache(redis_client, ttl_seconds=60)
    with running_stub() as base:
        first = engine_for(base, cache=cache).answer_paper(paper_of(5))
        second = engine_for(base, cache=cache).answer_paper(paper_of(5))
        seen = stats(base)

    assert seen["ok"] == 5
    assert [q.answer.text for q in second.questions] == [q.answer.text for q in first.questions]


def test_a_real_models_computational_answer_is_checked_with_sympy():
    paper = Paper(title="T", questions=[Question(number="1", text="Solve for x: 2x + 3 = 11", marks=2)])
    with running_stub() as base:
        engine_for(base).answer_paper(paper)

    # The stub only echoes the question, so it never states x = 4: flagged for the teacher.
    assert paper.questions[0].answer.notes == ["Check this answer: sympy computes 4, which the answer does not state."]

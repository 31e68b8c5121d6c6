"""The answer engine against a real HTTP model server (our stub), through litellm, not a mock."""

from __future__ import annotations

import httpx
import pytest

from qagen.answering.cache import AnswerCache
from qagen.answering.engine import AnswerEngine, work_items
from qagen.answering.limiter import ModelRateLimiter
from qagen.errors import ModelError, TransientError
from qagen.model import Citation, Paper, Part, Question
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


# --- the paper's own answer key ---------------------------------------------------------


def test_work_items_carry_the_papers_answer_key_cut_to_each_labelled_part():
    paper = Paper(title="T", questions=[
        Question(number="1", text="Answer these.", given_answer="(a) 4\n(b) It has two steps:\nadd, then divide.\n(c) 9",
                 parts=[Part("a", "2 + 2?"), Part("b", "Describe it."), Part("c", "3 x 3?")]),
        Question(number="2", text="Nested.", given_answer="a. first\nb.\n(i) one\n(ii) two",
                 parts=[Part("a", "x"), Part("b", "y", parts=[Part("i", "p"), Part("ii", "q")])]),
        Question(number="3", text="Unlabelled key.", given_answer="Both parts: 4 and 9.",
                 parts=[Part("a", "2 + 2?"), Part("b", "3 x 3?")]),
        Question(number="4", text="No key.", alternatives=[Question(number="4", text="Or this.", given_answer="Alt.")]),
    ])

    keys = [w.answer_key for w in work_items(paper)]

    assert keys == ["(a) 4", "(b) It has two steps:\nadd, then divide.", "(c) 9",
                    "a. first", "(i) one", "(ii) two",
                    "Both parts: 4 and 9.", "Both parts: 4 and 9.",
                    "", "Alt."]


def test_the_offline_engine_answers_from_the_papers_answer_key_and_cites_it():
    key = "A linear data structure that follows the FIFO principle."
    paper = Paper(title="T", questions=[
        Question(number="1", text="Define a queue.", marks=2, given_answer=key),
        Question(number="2", text="Define a stack.", marks=2),
        Question(number="3", text="Work these out.", given_answer="(a) 4\n(b) 9",
                 parts=[Part("a", "What is 2 + 2?", 1), Part("b", "What is 3 x 3?", 1)]),
    ])

    AnswerEngine(model="qagen/offline").answer_paper(paper)
    first, second, third = paper.questions

    assert key in first.answer.text and first.answer.text.endswith("[1]")
    assert first.answer.citations == [Citation(document="the paper's answer key", page=None, excerpt=key)]
    assert second.answer.citations == [] and "No source was found" in second.answer.text
    part_a, part_b = third.parts
    assert "(a) 4" in part_a.answer.text and "9" not in part_a.answer.text
    assert part_b.answer.citations == [Citation("the paper's answer key", None, "(b) 9")]


def test_a_model_is_sent_the_answer_key_as_its_first_source():
    from qagen.llm.prompt import read_messages

    sent = []
    engine = AnswerEngine(model="qagen/offline")
    original = engine._call

    async def recording(messages):
        sent.append(messages)
        return await original(messages)

    engine._call = recording
    engine.answer_paper(Paper(title="T", questions=[Question("1", "Define power.", 1, given_answer="P = W / t")]))

    [prompt] = [read_messages(messages) for messages in sent]
    assert [(s.tag, s.where, s.text) for s in prompt.sources] == [("S1", "the paper's answer key", "P = W / t")]
    assert "the paper's answer key" in sent[0][0]["content"]  # the system message says how to use it

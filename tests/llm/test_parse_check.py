"""The model's second look at a parse, over real HTTP: the job's parse stage against the
OpenAI-compatible stub (devtools/llm_stub.py) with scripted replies, through litellm."""

from __future__ import annotations

import json
import textwrap

import httpx
import pytest

from devtools.llm_stub import running_stub
from qagen.pipeline.parse import parse
from qagen.pipeline.run import parse_paper, run_pipeline
from qagen.settings import Settings

STATEMENTS = textwrap.dedent("""\
    Physics Unit Test
    Maximum Marks: 10

    1. State Newton's second law of motion. [2]
    2. Which of these statements are true? Give reasons. [5]
    3. The sun is a star.
    4. Explain why the sky is blue. [3]
    """).encode()
MISSED = textwrap.dedent("""\
    Physics Unit Test
    Maximum Marks: 10

    1. State Newton's second law of motion. [2]
    2. Define velocity. 3. Define acceleration. [2]
    4. Explain why the sky is blue. [3]
    """).encode()
IGNORED = "The model's corrections to the questions were ignored ("


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-stub")


def settings_for(base: str, **overrides) -> Settings:  # type: ignore[no-untyped-def]
    options = dict(model="openai/stub", llm_api_base=f"{base}/v1", parse_check=True, llm_max_attempts=2,
                   llm_timeout_seconds=5)
    options.update(overrides)
    return Settings(**options)


def reply(*corrections: dict) -> str:
    return json.dumps({"corrections": [{"new_number": None, "second_number": None, "split_at": None,
                                        "split_offset": None, "reason": "the page shows it", **c}
                                       for c in corrections]})


def checked(data: bytes, script: list[dict], tmp_path, **overrides):  # type: ignore[no-untyped-def]
    """The parse stage's paper, what the stub saw, and the progress reported."""
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    progress = []
    with running_stub("--script", str(path)) as base:
        paper = parse_paper(data, "paper.txt", settings_for(base, **overrides),
                            lambda stage, percent, message="": progress.append(message))
        stats = httpx.get(f"{base}/stats").json()
        requests = httpx.get(f"{base}/requests").json()["requests"]
    return paper, stats, requests, progress


def test_a_valid_merge_is_applied_and_listed_in_the_warnings(tmp_path):
    script = [{"reply": reply({"kind": "merge", "index": 3, "number": "3"},
                              {"kind": "renumber", "index": 4, "number": "4", "new_number": "3"})}]

    paper, stats, requests, progress = checked(STATEMENTS, script, tmp_path)

    assert [(q.number, q.text, q.marks) for q in paper.questions] == [
        ("1", "State Newton's second law of motion.", 2.0),
        ("2", "Which of these statements are true? Give reasons.\n3. The sun is a star.", 5.0),
        ("3", "Explain why the sky is blue.", 3.0)]
    assert paper.warnings == ["The model merged question 3 into question 2: check it on the printed paper.",
                              "The model renumbered question 4 as 3: check it on the printed paper."]
    assert paper.confidence == "medium"
    assert "checking the questions with the model" in progress
    # One call, with the page text, the parser's questions and the corrections' JSON schema.
    assert stats["scripted"] == len(requests) == 1
    (request,) = requests
    assert request["model"] == "stub"
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"]["required"] == ["corrections"]
    user = request["messages"][-1]["content"]
    assert "<<<PAGES\n--- page 1 ---\nPhysics Unit Test" in user and "3. The sun is a star." in user
    assert '"number": "4"' in user


def test_a_valid_split_is_applied_and_fixes_the_numbering(tmp_path):
    script = [{"reply": reply({"kind": "split", "index": 2, "number": "2", "split_at": "3. Define acceleration.",
                               "second_number": "3"})}]

    paper, _, _, _ = checked(MISSED, script, tmp_path)

    assert [(q.number, q.text) for q in paper.questions] == [
        ("1", "State Newton's second law of motion."), ("2", "Define velocity."), ("3", "Define acceleration."),
        ("4", "Explain why the sky is blue.")]
    assert paper.warnings == ["No marks were found for question 2.",
                              "The model split question 2 into questions 2 and 3: check them on the printed paper."]


@pytest.mark.parametrize("content, reason", [
    ("I think question 3 belongs to question 2.", "the reply was not JSON"),
    (reply({"kind": "split", "index": 2, "number": "2", "split_offset": 22, "second_number": "3"}),
     "the result would lose text or change its order (the word 'define')"),
    (reply({"kind": "merge", "index": 5, "number": "5"}),
     "the reply named question 5 at position 5, but the parser listed 3 questions"),
    (reply({"kind": "renumber", "index": 3, "number": "3", "new_number": "2"}),
     "the reply named question 3 at position 3, where the parser found question 4"),
])
def test_a_malformed_or_inconsistent_reply_leaves_the_parsers_paper_with_a_warning(tmp_path, content, reason):
    parsed = parse(MISSED, "paper.txt")

    paper, stats, _, _ = checked(MISSED, [{"reply": content}], tmp_path)

    assert paper.questions == parsed.questions and paper.confidence == parsed.confidence == "low"
    assert paper.warnings == [*parsed.warnings, f"{IGNORED}{reason}): the questions are as the parser found them."]
    assert stats["scripted"] == 1


def test_a_failing_model_never_fails_the_job(tmp_path):
    # Both attempts of the check get a 500; the answers that follow get the stub's usual replies.
    path = tmp_path / "script.json"
    path.write_text(json.dumps([{"status": 500, "when": "<<<PAGES"}] * 2))
    parsed = parse(STATEMENTS, "paper.txt")
    with running_stub("--script", str(path)) as base:
        result = run_pipeline(STATEMENTS, "paper.txt", settings_for(base))
        stats = httpx.get(f"{base}/stats").json()

    assert stats["scripted"] == 2 and stats["ok"] == len(parsed.questions)
    assert result.paper.warnings == [*parsed.warnings, "The model could not check the questions (it did not answer "
                                                       "after 2 attempts): they are as the parser found them."]
    assert [q.text for q in result.paper.questions] == [q.text for q in parsed.questions]
    assert all(q.answer and q.answer.text.startswith("Stub model answer") for q in result.paper.questions)
    assert result.pdf.startswith(b"%PDF")


@pytest.mark.parametrize("overrides", [{"parse_check": False}, {"model": "qagen/offline"}])
def test_without_the_setting_or_with_the_offline_engine_the_model_is_not_asked(tmp_path, overrides):
    paper, stats, requests, progress = checked(STATEMENTS, [{"reply": reply()}], tmp_path, **overrides)

    assert requests == [] and stats["scripted"] == stats["requests"] == 0
    assert paper == parse(STATEMENTS, "paper.txt")
    assert "checking the questions with the model" not in progress

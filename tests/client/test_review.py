"""Review (docs/review.md) through the client and the CLI, against the real stack: an upload that
stops after parsing, its questions read, corrected and put back, then answered as corrected."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading

import pytest

from qagen.client import QagenAPIError, QagenClient
from qagen.model import Paper
from tests.client.conftest import RecordingTransport
from tests.conftest import EXAMPLE_PAPER, REPO

QUIZ = """Physics quiz
1. Define velocity. [2]
2. State Newton's first law of motion. [2]
3. What is the SI unit of force? [1]
4. Define acceleration. [2]
"""


@pytest.fixture
def quiz(tmp_path):
    path = tmp_path / "quiz.txt"
    path.write_text(QUIZ)
    return path


def in_review(qagen: QagenClient, path) -> str:
    """A session of `path` uploaded with review, waited for until it awaits review."""
    job = qagen.upload(path, review=True)
    parsed = qagen.wait(job.session_id, timeout=120)
    assert parsed.awaiting_review and not parsed.done, parsed
    return job.session_id


def session_id_in(output: str) -> str:
    return output.split("Session ", 1)[1].split(" ", 1)[0]


def test_a_reviewed_upload_stops_is_corrected_and_answers_the_correction(qagen):
    seen = []
    job = qagen.upload(EXAMPLE_PAPER, review=True)
    parsed = qagen.wait(job.session_id, on_progress=seen.append, timeout=120)

    assert job.paper_url and job.answer_url
    assert parsed.status == "awaiting_review" and parsed.awaiting_review and not parsed.done
    assert parsed.review and parsed.stage == "review" and parsed.question_count == 11
    assert seen[-1].status == "awaiting_review"

    paper = qagen.paper(job.session_id)
    assert isinstance(paper, Paper) and len(paper.questions) == 11
    assert all(q.answer is None for q in paper.questions)
    # Merge questions 1 and 2 (the parser "split one question"), delete the last one.
    first, second = paper.questions[0], paper.questions[1]
    first.text = f"{first.text} Also: {second.text}"
    first.marks = (first.marks or 0) + (second.marks or 0)
    del paper.questions[1]
    del paper.questions[-1]
    stored = qagen.put_paper(job.session_id, paper)

    assert [q.number for q in stored.questions] == ["1", *map(str, range(3, 11))]
    assert stored.questions[0].text == first.text
    assert qagen.status(job.session_id).question_count == 9

    again = qagen.answer(job.session_id)
    final = qagen.wait(again.session_id, timeout=120)

    assert again.session_id == job.session_id and again.idempotency_key
    assert final.complete, final
    result = qagen.result(job.session_id)
    assert [q.number for q in result.questions] == ["1", *map(str, range(3, 11))]
    assert result.questions[0].text == first.text and result.questions[0].marks == 4
    assert all(q.answer and q.answer.text for q in result.questions)


def test_wait_stops_at_the_review_event_and_returns_at_once_when_already_in_review(stack, client_key, quiz):
    transport = RecordingTransport()
    with QagenClient(stack.layout.api_url, client_key, transport=transport) as client:
        job = client.upload(quiz, review=True)
        parsed = client.wait(job.session_id, timeout=120)
        during = [request.url.path for request, _ in transport.exchanges[1:]]
        transport.exchanges.clear()
        again = client.wait(job.session_id, timeout=5)
        after = [request.url.path for request, _ in transport.exchanges]

    status, events = f"/api/v1/sessions/{job.session_id}", f"/api/v1/sessions/{job.session_id}/events"
    assert parsed.awaiting_review and again.awaiting_review
    # One status, then (unless the parse was already done) one stream, which ended at `review`.
    assert during in ([status, events], [status]), during
    assert after == [status]  # in review already: one status, no stream, no polling


def test_a_put_accepts_the_json_as_a_dict_and_wait_can_go_on_through_the_review(qagen, quiz):
    session_id = in_review(qagen, quiz)
    body = qagen.paper_json(session_id)
    body["questions"] = body["questions"][:2]
    qagen.put_paper(session_id, body)
    answered = threading.Timer(1.0, qagen.answer, args=[session_id])

    answered.start()
    try:
        final = qagen.wait(session_id, stop_at_review=False, timeout=120)
    finally:
        answered.join()

    assert final.complete, final
    assert [q.text for q in qagen.result(session_id).questions] == ["Define velocity.",
                                                                    "State Newton's first law of motion."]


def test_answering_twice_or_editing_after_the_review_is_a_409(qagen, quiz, answered):
    session_id = in_review(qagen, quiz)
    paper = qagen.paper(session_id)
    qagen.answer(session_id)

    with pytest.raises(QagenAPIError) as twice:
        qagen.answer(session_id)
    with pytest.raises(QagenAPIError) as late:
        qagen.put_paper(session_id, paper)
    with pytest.raises(QagenAPIError) as never_in_review:
        qagen.put_paper(answered.submission.session_id, paper)
    with pytest.raises(QagenAPIError) as no_paper:
        qagen.paper(answered.submission.session_id)

    for refused in (twice, late, never_in_review):
        assert (refused.value.status, refused.value.code) == (409, "not_in_review"), refused.value
    assert (no_paper.value.status, no_paper.value.code) == (409, "not_parsed")
    assert qagen.wait(session_id, timeout=120).complete


def test_an_invalid_paper_is_a_422_naming_each_bad_field(qagen, quiz):
    session_id = in_review(qagen, quiz)
    body = qagen.paper_json(session_id)
    body["questions"][1]["text"] = "bell\x07"
    body["questions"][2]["colour"] = "red"

    with pytest.raises(QagenAPIError) as refused:
        qagen.put_paper(session_id, body)

    assert (refused.value.status, refused.value.code) == (422, "invalid_paper")
    assert {"questions.1.text", "questions.2.colour"} <= set(refused.value.detail or {}), refused.value.detail
    assert len(qagen.paper(session_id).questions) == 4  # nothing changed
    assert qagen.status(session_id).awaiting_review


def test_the_cli_gets_puts_and_answers_a_corrected_paper(run, qagen, quiz, tmp_path):
    session_id = in_review(qagen, quiz)
    saved, pdf = tmp_path / "paper.json", tmp_path / "out.pdf"

    got = run("paper", "get", session_id, "-o", str(saved))
    body = json.loads(saved.read_text(encoding="utf-8"))
    body["questions"][0]["text"] = "Define velocity and give its SI unit."
    del body["questions"][3]
    saved.write_text(json.dumps(body), encoding="utf-8")
    put = run("paper", "put", session_id, str(saved))
    answered = run("paper", "answer", session_id, "--wait", "-o", str(pdf))

    assert got.exit_code == 0, got.output
    assert "4 questions" in got.stderr
    assert put.exit_code == 0, put.output
    assert f"Stored the paper of session {session_id}: 3 questions" in put.stdout
    assert answered.exit_code == 0, answered.output
    assert pdf.read_bytes().startswith(b"%PDF-") and f"Wrote {pdf} (3 questions)." in answered.stdout
    result = qagen.result(session_id)
    assert [q.text for q in result.questions] == ["Define velocity and give its SI unit.",
                                                  "State Newton's first law of motion.", "What is the SI unit of force?"]


def test_the_cli_prints_the_paper_as_json_and_as_text(run, qagen, quiz):
    session_id = in_review(qagen, quiz)

    as_json = run("paper", "get", session_id)
    as_text = run("paper", "get", session_id, "--format", "text")

    assert json.loads(as_json.stdout) == qagen.paper_json(session_id)
    assert "1. Define velocity.  [2]" in as_text.stdout


def test_the_cli_refuses_an_invalid_file_before_sending_it(run, qagen, quiz, tmp_path):
    session_id = in_review(qagen, quiz)
    bad, not_json = tmp_path / "bad.json", tmp_path / "not.json"
    body = qagen.paper_json(session_id)
    body["questions"][3]["text"] = "x" * 100_000
    body["questions"][0]["answer"] = {"text": "mine"}
    bad.write_text(json.dumps(body))
    not_json.write_text("{not json")

    refused = run("paper", "put", session_id, str(bad))
    broken = run("paper", "put", session_id, str(not_json))

    assert refused.exit_code == 1
    assert f"{bad} is invalid (nothing was sent):" in refused.stderr
    assert "  questions.3.text: is longer than" in refused.stderr
    assert "  questions.0.answer: must be null" in refused.stderr
    assert broken.exit_code == 1 and "is not valid JSON" in broken.stderr
    assert qagen.paper_json(session_id)["questions"][3]["text"] == "Define acceleration."


def test_submit_review_off_a_terminal_prints_the_questions_and_leaves_them_in_review(run, qagen, quiz):
    result = run("submit", str(quiz), "--review")

    assert result.exit_code == 0, result.output
    assert "Physics quiz" in result.stdout and "2. State Newton's first law of motion.  [2]" in result.stdout
    session_id = session_id_in(result.stdout)
    assert f"qagen paper put {session_id} paper.json" in result.stdout
    assert f"qagen paper answer {session_id} --wait" in result.stdout
    assert "[ 15%] review:" in result.stderr
    assert qagen.status(session_id).awaiting_review


def test_submit_review_asks_then_answers_on_enter_or_leaves_it_on_ctrl_c(run, qagen, quiz, tmp_path):
    answered = run("submit", str(quiz), "--review", "--prompt", "-o", str(tmp_path / "a.pdf"), input="\n")
    left = run("submit", str(quiz), "--review", "--prompt", input="")  # end of input, as Ctrl-C

    assert answered.exit_code == 0, answered.output
    assert "Answer these questions?" in answered.stderr
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF-")
    assert f"Wrote {tmp_path / 'a.pdf'} (4 questions)." in answered.stdout
    assert left.exit_code == 0, left.output
    assert qagen.status(session_id_in(left.stdout)).awaiting_review


def test_answer_in_process_answers_an_edited_paper(tmp_path):
    paper = tmp_path / "sample-paper.txt"
    shutil.copy(REPO / "examples" / "sample-paper.txt", paper)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({"title": "Edited", "questions": [
        {"number": "1", "text": "State Newton's second law of motion and define the newton.", "marks": 3},
        {"number": "2", "text": "Solve for x: 2x + 3 = 11.", "marks": 2}]}))
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"title": "Edited", "questions": []}))

    def qagen_answer(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "qagen.cli", "answer", str(paper), *args],
                              capture_output=True, text=True, cwd=REPO)

    result = qagen_answer("--paper", str(edited), "--json", str(tmp_path / "out.json"))
    refused = qagen_answer("--paper", str(invalid))

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sample-paper-answers.pdf").read_bytes().startswith(b"%PDF-")
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["title"] == "Edited"
    assert [q["text"] for q in out["questions"]] == ["State Newton's second law of motion and define the newton.",
                                                     "Solve for x: 2x + 3 = 11."]
    assert all(q["answer"]["text"] for q in out["questions"])
    assert "parsing" not in result.stderr
    assert refused.returncode == 1 and "questions: must hold at least one question" in refused.stderr

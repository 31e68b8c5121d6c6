"""The client's CLI commands (submit, status, download, sessions) against the real stack, via CliRunner."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from devtools.stack import free_port
from tests.conftest import EXAMPLE_PAPER


def test_submit_wait_shows_progress_and_downloads_the_answers(run, tmp_path):
    paper = tmp_path / "paper.pdf"
    shutil.copy(EXAMPLE_PAPER, paper)

    result = run("submit", str(paper), "--wait")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "paper-answers.pdf").read_bytes().startswith(b"%PDF-")
    assert "Submitted paper.pdf as session" in result.stderr
    assert "[100%] complete: Answered PDF ready." in result.stderr  # not a terminal: one line per stage
    assert f"Wrote {tmp_path / 'paper-answers.pdf'} (11 questions)." in result.stdout


def test_submit_without_wait_prints_the_session_id(run, tmp_path):
    quiz = tmp_path / "quiz.txt"
    quiz.write_text("Quiz\n1. Define velocity. [1]\n")

    result = run("submit", str(quiz))

    assert result.exit_code == 0, result.output
    uuid.UUID(result.stdout.strip())


def test_status_json_is_the_apis_session(run, answered):
    result = run("status", answered.submission.session_id, "--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["session_id"] == answered.submission.session_id
    assert body["status"] == "complete" and body["progress"] == 100


def test_status_for_people(run, answered):
    result = run("status", answered.submission.session_id)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{answered.submission.session_id}  complete  100%")
    assert "sample-paper.pdf" in result.stdout


def test_download_writes_the_pdf(run, answered, tmp_path):
    target = tmp_path / "out.pdf"

    result = run("download", answered.submission.session_id, "-o", str(target))

    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF-")


def test_failures_print_the_apis_message_and_exit_1(run):
    session_id = str(uuid.uuid4())

    unknown = run("status", session_id)
    wrong_key = run("status", session_id, QAGEN_API_KEY="qk_wrong")
    no_key = run("status", session_id, QAGEN_API_KEY="")

    assert unknown.exit_code == 1 and f"No session '{session_id}'." in unknown.stderr
    assert "Retry after" not in unknown.stderr  # only refusals that say "later" get that hint
    assert wrong_key.exit_code == 1 and "That API key is not valid." in wrong_key.stderr
    assert no_key.exit_code == 1 and "QAGEN_API_KEY" in no_key.stderr
    assert not any("Traceback" in r.output for r in (unknown, wrong_key, no_key))


def test_an_unreachable_api_is_reported_not_raised(run):
    url = f"http://127.0.0.1:{free_port()}"

    result = run("status", "x", "--api-url", url)

    assert result.exit_code == 1
    assert f"Could not reach the qagen API at {url}" in result.stderr


def test_sessions_lists_recent_sessions(run, answered):
    result = run("sessions", "--status", "complete", "--limit", "5")

    assert result.exit_code == 0, result.output
    assert answered.submission.session_id in result.stdout


def test_the_qagen_command_has_the_client_commands():
    from qagen.cli import main

    assert {"submit", "status", "download", "sessions"} <= set(main.commands)


TWO_TESTS = """Internal Test 1: Compiler Design
Time: 1 hour                         Max. Marks: 15
1. Define a token. [5]
2. What is a regular expression? [5]
4. Draw the phases of a compiler. [5]
Internal Test 1: Cloud Computing
Time: 1 hour                         Max. Marks: 20
1. What is virtualisation? [10]
"""
JUMP = "The numbering jumps from 2 to 4: check whether question 3 is on the paper."


def test_the_parses_confidence_and_warnings_are_shown_by_submit_status_and_sessions(run, tmp_path):
    paper = tmp_path / "tests.txt"
    paper.write_text(TWO_TESTS)

    submitted = run("submit", str(paper), "--wait")
    session_id = submitted.stderr.split("as session ", 1)[1].split(".", 1)[0]
    shown = run("status", session_id)
    listed = run("sessions", "--limit", "100")

    assert submitted.exit_code == 0, submitted.output
    assert "Parse confidence: low" in submitted.stderr and f"  - {JUMP}" in submitted.stderr
    assert "  confidence:     low" in shown.stdout
    assert f"  check:          {JUMP}" in shown.stdout
    assert "                  The file holds 2 papers" in shown.stdout
    line = next(line for line in listed.stdout.splitlines() if line.startswith(session_id))
    assert line.endswith("tests.txt  [low confidence, 2 warnings]")


def test_a_clean_parse_adds_only_its_confidence_to_the_status(run, answered):
    shown = run("status", answered.submission.session_id)
    listed = run("sessions", "--limit", "100")

    assert "  confidence:     high" in shown.stdout and "check:" not in shown.stdout
    line = next(line for line in listed.stdout.splitlines() if line.startswith(answered.submission.session_id))
    assert line.endswith("sample-paper.pdf")

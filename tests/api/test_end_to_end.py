"""An LMS's whole journey over HTTP: upload, follow progress, download through a signed URL."""

from __future__ import annotations

import io
import json
import time

import httpx
import pdfplumber

from tests.conftest import EXAMPLE_PAPER
from tests.waiting import wait_for_session


def upload(client: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return client.post("/api/v1/upload", files={"file": (name, data)})


def test_an_uploaded_paper_is_answered_and_downloadable_through_a_signed_url(client, storage):
    response = upload(client, "sample-paper.pdf", EXAMPLE_PAPER.read_bytes())

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"session_id", "status_url", "download_url", "events_url", "result_url", "paper_url",
                         "answer_url"}
    assert response.headers["Location"] == body["status_url"]

    final = wait_for_session(client, body["session_id"])
    assert final["status"] == "complete", final
    assert final["progress"] == 100
    assert final["question_count"] == 11
    assert final["started_at"] and final["finished_at"]

    redirect = client.get(body["download_url"])
    assert redirect.status_code == 302
    signed_url = redirect.headers["Location"]
    assert "X-Amz-Signature=" in signed_url

    # A browser fetches the signed URL with no credentials at all.
    pdf = httpx.get(signed_url)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    assert "sample-paper-answers.pdf" in pdf.headers["Content-Disposition"]
    with pdfplumber.open(io.BytesIO(pdf.content)) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
    for number in range(1, 12):
        assert f"Question {number}" in text
    result = client.get(body["result_url"]).json()
    assert [q["number"] for q in result["questions"]] == [str(n) for n in range(1, 12)]
    assert all(q["answer"]["text"] for q in result["questions"])


def test_a_text_paper_is_accepted_too(client):
    paper = b"Quiz\n1. Define velocity. [1]\n2. Define acceleration. [1]\n"
    body = upload(client, "quiz.txt", paper).json()

    final = wait_for_session(client, body["session_id"])

    assert final["status"] == "complete"
    assert final["question_count"] == 2


def test_a_paper_without_questions_fails_with_a_message_a_person_can_act_on(client):
    body = upload(client, "notes.txt", b"These are lecture notes with no numbered questions at all.").json()

    final = wait_for_session(client, body["session_id"])

    assert final["status"] == "failed"
    assert "no numbered questions" in final["error"]
    conflict = client.get(f"/api/v1/download/{body['session_id']}")
    assert conflict.status_code == 409
    assert "no numbered questions" in conflict.json()["error"]["message"]


def test_a_tampered_signed_url_is_refused_by_the_s3_server(client, storage):
    storage.put("tests/tamper.pdf", b"%PDF-1.4 secret", "application/pdf")
    url = storage.signed_url("tests/tamper.pdf", expires_in=600)
    assert httpx.get(url).status_code == 200

    other_key = url.replace("tests/tamper.pdf", "tests/other.pdf")
    position = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    flipped = url[:position] + ("0" if url[position] != "0" else "1") + url[position + 1:]
    longer = url.replace("X-Amz-Expires=600", "X-Amz-Expires=6000")

    for tampered in (other_key, flipped, longer):
        assert httpx.get(tampered).status_code == 403


def test_an_expired_signed_url_is_refused_by_the_s3_server(storage):
    storage.put("tests/expiring.pdf", b"%PDF-1.4 soon gone", "application/pdf")
    # The signing time is whole seconds (X-Amz-Date), so a 1 s URL can be up to ~1 s old
    # when it is made: 3 s leaves the first GET room on a busy machine.
    url = storage.signed_url("tests/expiring.pdf", expires_in=3)
    assert httpx.get(url).status_code == 200

    time.sleep(4.1)

    assert httpx.get(url).status_code == 403


def test_anonymous_requests_to_the_bucket_are_denied(storage, settings):
    storage.put("tests/private.pdf", b"%PDF-1.4 private", "application/pdf")

    response = httpx.get(f"{settings.s3_endpoint}/{settings.s3_bucket}/tests/private.pdf")

    assert response.status_code == 403


def test_an_upload_over_the_default_20_mb_limit_is_413_over_http(client):
    response = upload(client, "big.pdf", b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024))

    assert response.status_code == 413
    assert response.json()["error"]["message"] == "The upload is larger than the 20 MB limit."


TWO_TESTS_WITH_A_KEY = b"""Internal Test 1: Compiler Design
Time: 1 hour                         Max. Marks: 15
1. Define a token. [5]
Answer: A token is the smallest meaningful unit of a program, such as a keyword or an identifier.
2. What is a regular expression? [5]
4. Draw the phases of a compiler. [5]
Internal Test 1: Cloud Computing
Time: 1 hour                         Max. Marks: 20
1. What is virtualisation? [10]
2. Explain the service models of cloud computing. [10]
"""


def events_of(stack, api_key: str, session_id: str) -> list[dict]:
    seen = []
    token = httpx.post(f"{stack.layout.api_url}/api/v1/sessions/{session_id}/token",
                       headers={"Authorization": f"Bearer {api_key}"}).json()["access_token"]
    with httpx.stream("GET", f"{stack.layout.api_url}/api/v1/sessions/{session_id}/events",
                      params={"access_token": token}, timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
    return seen


def test_the_parses_warnings_and_confidence_reach_the_status_and_the_result(client, stack, api_key):
    body = upload(client, "tests.txt", TWO_TESTS_WITH_A_KEY).json()

    seen = events_of(stack, api_key, body["session_id"])
    final = client.get(body["status_url"]).json()
    result = client.get(body["result_url"]).json()

    assert final["status"] == "complete" and final["confidence"] == "low"
    assert "The numbering jumps from 2 to 4: check whether question 3 is on the paper." in final["warnings"]
    assert any("2 papers" in warning for warning in final["warnings"])
    # Recorded when the parse stage ends: every later update carries them, no earlier one does.
    for event in seen:
        if event["confidence"] is None:
            assert event["warnings"] is None and event["stage"] in ("queued", "parsing"), event
        else:
            assert (event["warnings"], event["confidence"]) == (final["warnings"], "low")
    assert seen[-1]["confidence"] == "low"
    # result.json is the paper with everything the parse found.
    assert (result["warnings"], result["confidence"]) == (final["warnings"], "low")
    assert [(p["title"], p["first"], p["count"], p["total_marks"]) for p in result["papers"]] == [
        ("Internal Test 1: Compiler Design", 0, 3, 15.0), ("Internal Test 1: Cloud Computing", 3, 2, 20.0)]
    first = result["questions"][0]
    assert first["given_answer"].startswith("A token is the smallest meaningful unit of a program")
    assert first["translations"] == [] and result["questions"][1]["given_answer"] is None
    # The answer stage used the paper's answer key as a source.
    assert [c["document"] for c in first["answer"]["citations"]] == ["the paper's answer key"]
    assert first["answer"]["citations"][0]["page"] is None
    assert result["questions"][1]["answer"]["citations"] == []
    # The answered PDF says the same on its cover, and groups the questions by paper.
    pdf = httpx.get(client.get(body["download_url"]).headers["Location"]).content
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        pages = [" ".join((page.extract_text() or "").split()) for page in document.pages]
    assert "Parse confidence low: check the points below" in pages[0]
    assert "Check these on the printed paper • The numbering jumps from 2 to 4" in pages[0]
    assert any("Paper 2: Internal Test 1: Cloud Computing" in page for page in pages[1:])
    assert any("The paper's answer key A token is the smallest meaningful unit" in page for page in pages)


def test_a_clean_paper_reports_high_confidence_and_no_warnings(client):
    body = upload(client, "quiz.txt", b"Quiz\n1. Define velocity. [1]\n2. Define acceleration. [1]\n").json()

    final = wait_for_session(client, body["session_id"])
    result = client.get(body["result_url"]).json()

    assert (final["warnings"], final["confidence"]) == ([], "high")
    assert (result["warnings"], result["confidence"], result["papers"]) == ([], "high", [])

"""Review over HTTP on the real stack (docs/review.md): an upload with review stops after parsing,
its questions can be read and replaced, and the answers follow the corrected questions."""

from __future__ import annotations

import json
import threading
import uuid

import httpx
import pytest

from qagen.jobs.leases import ACTIVE_KEY, lease_key
from qagen.jobs.names import PROCESS_QUESTION_PAPER
from qagen.jobs.queue import make_celery
from qagen.jobs.records import key_for
from tests.waiting import poll_until, wait_for_session

PAPER = (b"Physics quiz\n1. Define velocity. [2]\n2. Give its SI unit. [1]\n3. Define acceleration. [2]\n"
         b"4. State Newton's first law. Then state Newton's second law. [4]\n")


def upload_for_review(client: httpx.Client, **params) -> str:
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", PAPER)}, data={"review": "true"}, **params)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["paper_url"].endswith(f"/api/v1/sessions/{body['session_id']}/paper")
    assert body["answer_url"].endswith(f"/api/v1/sessions/{body['session_id']}/answer")
    return body["session_id"]


def wait_for_review(client: httpx.Client, session_id: str) -> dict:
    return poll_until(client, f"/api/v1/sessions/{session_id}", {"awaiting_review", "complete", "failed"})


@pytest.fixture
def in_review(client) -> tuple[str, dict]:
    session_id = upload_for_review(client)
    status = wait_for_review(client, session_id)
    assert status["status"] == "awaiting_review", (status["error"], status)
    return session_id, client.get(f"/api/v1/sessions/{session_id}/paper").json()


def test_an_upload_with_review_stops_after_parsing_holding_no_worker_and_no_queue_place(client, redis_client,
                                                                                       in_review):
    session_id, paper = in_review
    status = client.get(f"/api/v1/sessions/{session_id}").json()

    assert (status["stage"], status["progress"], status["review"], status["question_count"]) == ("review", 15, True, 4)
    assert "check them" in status["message"]
    assert [q["number"] for q in paper["questions"]] == ["1", "2", "3", "4"]
    assert paper["warnings"] == status["warnings"] and paper["confidence"] == status["confidence"]
    assert all(q["answer"] is None for q in paper["questions"])
    # Nothing runs it or watches it as running work.
    assert redis_client.zscore(ACTIVE_KEY, session_id) is None
    assert not redis_client.exists(lease_key(session_id))
    # It expires like any other session.
    assert 0 < redis_client.ttl(key_for(session_id))


def test_the_event_stream_says_review_and_ends(client, in_review):
    session_id, _ = in_review
    with client.stream("GET", f"/api/v1/sessions/{session_id}/events", timeout=10) as response:
        text = "".join(response.iter_text())

    assert "event: review" in text
    assert json.loads(text.split("event: review", 1)[1].split("data: ", 1)[1].split("\n", 1)[0])["status"] == \
        "awaiting_review"


def test_edited_questions_are_what_gets_answered(client, in_review):
    session_id, paper = in_review
    first, second, third, fourth = paper["questions"]
    # Merge 2 into 1; split 4 in two; drop nothing else.
    first["text"] = first["text"] + " " + second["text"]
    first["marks"] = 3
    fourth_a = dict(fourth, text="State Newton's first law.", marks=2)
    fourth_b = dict(fourth, number="4b", text="State Newton's second law.", marks=2)
    edited = dict(paper, questions=[first, third, fourth_a, fourth_b])

    put = client.put(f"/api/v1/sessions/{session_id}/paper", json=edited)
    assert put.status_code == 200, put.text
    assert [q["number"] for q in put.json()["questions"]] == ["1", "3", "4", "4b"]
    assert client.get(f"/api/v1/sessions/{session_id}/paper").json() == put.json()
    assert client.get(f"/api/v1/sessions/{session_id}").json()["question_count"] == 4

    continued = client.post(f"/api/v1/sessions/{session_id}/answer")
    assert continued.status_code == 202, continued.text
    assert continued.headers["Location"] == continued.json()["status_url"]
    again = client.post(f"/api/v1/sessions/{session_id}/answer")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_in_review"

    final = wait_for_session(client, session_id)
    assert final["status"] == "complete", final
    result = client.get(f"/api/v1/sessions/{session_id}/result.json").json()
    assert [(q["number"], q["text"], q["marks"]) for q in result["questions"]] == [
        ("1", "Define velocity. Give its SI unit.", 3), ("3", "Define acceleration.", 2),
        ("4", "State Newton's first law.", 2), ("4b", "State Newton's second law.", 2)]
    assert all(q["answer"] for q in result["questions"])
    assert client.get(f"/api/v1/download/{session_id}").status_code == 302
    # After answering, the checked paper can still be read, not changed.
    assert client.get(f"/api/v1/sessions/{session_id}/paper").status_code == 200
    assert client.put(f"/api/v1/sessions/{session_id}/paper", json=edited).status_code == 409


def test_review_can_be_asked_in_the_query_string(client):
    response = client.post("/api/v1/upload?review=yes", files={"file": ("quiz.txt", PAPER)})
    assert response.status_code == 202

    assert wait_for_review(client, response.json()["session_id"])["status"] == "awaiting_review"


def test_without_review_nothing_changes_and_the_review_routes_refuse(client):
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", PAPER)})
    session_id = response.json()["session_id"]
    final = wait_for_session(client, session_id)

    assert final["status"] == "complete" and final["review"] is False
    got = client.get(f"/api/v1/sessions/{session_id}/paper")
    assert got.status_code == 409 and got.json()["error"]["code"] == "not_parsed"
    assert client.post(f"/api/v1/sessions/{session_id}/answer").status_code == 409
    assert client.put(f"/api/v1/sessions/{session_id}/paper", json={"questions": [{"number": "1"}]}).status_code == 409


def test_an_unclear_review_value_is_a_400(client):
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", PAPER)}, data={"review": "maybe"})

    assert response.status_code == 400


BAD_PAPERS = {
    "an unknown field": ({"questions": [{"number": "1", "text": "x", "colour": "red"}]}, "questions.0.colour"),
    "a text over the size limit": ({"questions": [{"number": "1", "text": "x" * 20_001}]}, "questions.0.text"),
    "more questions than the cap": ({"questions": [{"number": str(n), "text": "x"} for n in range(501)]},
                                    "questions"),
    "a control character": ({"questions": [{"number": "1", "text": "Define\x07 velocity"}]}, "questions.0.text"),
    "no questions": ({"questions": []}, "questions"),
    "an answer filled in": ({"questions": [{"number": "1", "text": "x", "answer": {"text": "y"}}]},
                            "questions.0.answer"),
    "a negative mark": ({"questions": [{"number": "1", "text": "x", "marks": -1}]}, "questions.0.marks"),
    "parts nested too deep": ({"questions": [{"number": "1", "parts": [
        {"label": "a", "parts": [{"label": "b", "parts": [{"label": "c", "parts": [{"label": "d", "parts": [
            {"label": "e", "parts": [{"label": "f", "parts": [{"label": "g"}]}]}]}]}]}]}]}]}, "questions.0.parts"),
}


@pytest.mark.parametrize("case", sorted(BAD_PAPERS))
def test_a_bad_paper_gets_a_422_naming_the_field_and_changes_nothing(client, in_review, case):
    session_id, paper = in_review
    body, field = BAD_PAPERS[case]

    response = client.put(f"/api/v1/sessions/{session_id}/paper", json=body)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_paper" and field in error["detail"], error
    assert client.get(f"/api/v1/sessions/{session_id}/paper").json() == paper
    assert client.get(f"/api/v1/sessions/{session_id}").json()["status"] == "awaiting_review"


def test_a_body_that_is_not_a_json_paper_gets_a_clear_4xx(client, in_review):
    session_id, paper = in_review
    url = f"/api/v1/sessions/{session_id}/paper"

    assert client.put(url, content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert client.put(url, content=b"questions", headers={"Content-Type": "text/plain"}).status_code == 415
    assert client.put(url, json=["a list"]).status_code == 422
    deep = b"[" * 100_000 + b"]" * 100_000
    assert client.put(url, content=deep, headers={"Content-Type": "application/json"}).status_code in (413, 422)
    huge = json.dumps({"questions": [{"number": "1", "text": "x" * 9_000_000}]}).encode()
    too_large = client.put(url, content=huge, headers={"Content-Type": "application/json"})
    assert too_large.status_code == 413 and "edited paper" in too_large.json()["error"]["message"]
    assert client.get(url).json() == paper


def test_another_tenant_cannot_read_change_or_continue_a_session_in_review(in_review, other_tenant):
    session_id, paper = in_review

    assert other_tenant.get(f"/api/v1/sessions/{session_id}/paper").status_code == 404
    assert other_tenant.put(f"/api/v1/sessions/{session_id}/paper", json=paper).status_code == 404
    assert other_tenant.post(f"/api/v1/sessions/{session_id}/answer").status_code == 404


def test_continuing_twice_at_once_starts_one_job(client, in_review):
    session_id, _ = in_review
    codes: list[int] = []

    def go() -> None:
        codes.append(client.post(f"/api/v1/sessions/{session_id}/answer").status_code)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [202] + [409] * 5
    assert wait_for_session(client, session_id)["status"] == "complete"


def test_an_idempotency_key_replays_the_first_continuation(client, in_review):
    session_id, _ = in_review
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = client.post(f"/api/v1/sessions/{session_id}/answer", headers=key)
    replay = client.post(f"/api/v1/sessions/{session_id}/answer", headers=key)

    assert first.status_code == replay.status_code == 202
    assert replay.json() == first.json()
    assert client.post(f"/api/v1/sessions/{session_id}/answer",
                       headers={"Idempotency-Key": str(uuid.uuid4())}).status_code == 409


def test_a_stray_message_for_a_session_in_review_changes_nothing(client, settings, redis_client, in_review):
    session_id, paper = in_review
    stored = redis_client.hget(key_for(session_id), "paper_key")

    make_celery(settings).send_task(PROCESS_QUESTION_PAPER, args=[session_id], task_id=str(uuid.uuid4()),
                                    queue=settings.queue)
    # A job sent after it to the same queue finishes, so the stray message was consumed by then.
    marker = client.post("/api/v1/upload", files={"file": ("quiz.txt", PAPER)}).json()["session_id"]
    wait_for_session(client, marker)

    assert client.get(f"/api/v1/sessions/{session_id}").json()["status"] == "awaiting_review"
    assert redis_client.hget(key_for(session_id), "paper_key") == stored
    assert client.get(f"/api/v1/sessions/{session_id}/paper").json() == paper


def test_the_session_list_filters_sessions_in_review(client, in_review):
    session_id, _ = in_review

    listed = client.get("/api/v1/sessions", params={"status": "awaiting_review"}).json()["sessions"]

    assert session_id in [s["session_id"] for s in listed]
    assert {s["status"] for s in listed} == {"awaiting_review"}

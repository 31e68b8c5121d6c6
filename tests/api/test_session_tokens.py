"""No long-lived key in URLs (issue 16): the event stream and the download take a short-lived
token scoped to one session, minted with the key; a key in `?access_token=` is refused."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import httpx
import pytest

from api import create_app, session_tokens
from qagen.apikeys import ApiKeyStore
from qagen.jobs.records import Session, SessionStore
from tests.waiting import wait_for_session

QUIZ = b"Quiz\n1. Define velocity. [1]\n2. Define acceleration. [1]\n"


def upload(client) -> str:
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", QUIZ)})
    assert response.status_code == 202, response.text
    return response.json()["session_id"]


def error_of(response) -> dict:
    return json.loads(response.text)["error"]


@pytest.fixture(scope="module")
def answered(stack, redis_client) -> tuple[str, str]:
    """(key, session id) of one complete session, shared by the tests that only read it."""
    key = ApiKeyStore(redis_client).create("tests")
    with httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        session_id = upload(c)
        assert wait_for_session(c, session_id)["status"] == "complete"
    return key, session_id


@pytest.fixture
def owner(stack, answered):
    with httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {answered[0]}"},
                      timeout=30) as c:
        yield c


def mint(client, session_id: str) -> dict:
    response = client.post(f"/api/v1/sessions/{session_id}/token")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_minted_token_opens_the_sessions_event_stream_and_download(owner, anonymous, answered):
    session_id = answered[1]

    body = mint(owner, session_id)

    assert body["access_token"].startswith("qst_") and body["token_type"] == "session"
    assert body["session_id"] == session_id and body["expires_in"] == session_tokens.TTL_SECONDS <= 600
    assert body["expires_at"].endswith("+00:00")
    token = body["access_token"]
    with anonymous.stream("GET", f"/api/v1/sessions/{session_id}/events", params={"access_token": token}) as events:
        assert events.status_code == 200 and events.headers["content-type"].startswith("text/event-stream")
        lines = list(events.iter_lines())
    assert "event: done" in lines
    download = anonymous.get(f"/api/v1/download/{session_id}", params={"access_token": token})
    assert download.status_code == 302 and "answers.pdf" in download.headers["location"]
    # The links the answer gives are the same, ready to use.
    assert anonymous.get(body["download_url"]).status_code == 302
    assert body["events_url"].endswith(f"/api/v1/sessions/{session_id}/events?access_token={token}")


@pytest.mark.parametrize("path", ["/api/v1/sessions/{id}/events", "/api/v1/download/{id}"])
def test_an_api_key_in_the_url_is_refused_saying_what_to_use_instead(anonymous, answered, path):
    key, session_id = answered

    response = anonymous.get(path.format(id=session_id), params={"access_token": key})

    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "key_in_url"
    assert "POST /api/v1/sessions/{id}/token" in error["message"] and "Authorization: Bearer" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_key_in_the_header_still_opens_both(owner, answered):
    assert owner.get(f"/api/v1/download/{answered[1]}").status_code == 302


def test_a_token_opens_only_its_own_session(owner, anonymous, answered, redis_client):
    mine = answered[1]
    token = mint(owner, mine)["access_token"]
    other_session = upload(owner)  # the same tenant's other session
    foreign = str(uuid.uuid4())  # another tenant's session
    SessionStore(redis_client, 3600).create(Session(id=foreign, tenant="someone-else", filename="p.pdf",
                                                    input_key="k"))

    for session_id in (other_session, foreign):
        for path in (f"/api/v1/sessions/{session_id}/events", f"/api/v1/download/{session_id}"):
            response = anonymous.get(path, params={"access_token": token})
            assert response.status_code == 401, path
            assert error_of(response)["code"] == "invalid_token"
            assert "another session" in error_of(response)["message"]


def test_a_token_opens_no_other_route_and_mints_nothing(owner, anonymous, answered):
    session_id = answered[1]
    token = mint(owner, session_id)["access_token"]

    for method, path in (("GET", f"/api/v1/sessions/{session_id}"), ("GET", f"/api/v1/sessions/{session_id}/result.json"),
                         ("GET", "/api/v1/sessions"), ("POST", f"/api/v1/sessions/{session_id}/token")):
        response = anonymous.request(method, path, params={"access_token": token})
        assert response.status_code == 401, path


def test_tokens_are_minted_only_for_the_callers_own_sessions(client, redis_client):
    foreign = str(uuid.uuid4())
    SessionStore(redis_client, 3600).create(Session(id=foreign, tenant="someone-else", filename="p.pdf",
                                                    input_key="k"))

    assert client.post(f"/api/v1/sessions/{foreign}/token").status_code == 404
    assert client.post(f"/api/v1/sessions/{uuid.uuid4()}/token").status_code == 404


def test_unknown_tokens_are_refused(anonymous, answered):
    for token in ("qst_made-up", "anything", "qst_" + "x" * 200):
        response = anonymous.get(f"/api/v1/download/{answered[1]}", params={"access_token": token})
        assert response.status_code == 401
        assert error_of(response)["code"] == "invalid_token"


def test_an_expired_token_is_refused(settings, redis_client, answered, monkeypatch):
    """An app of this test's own (tokens of 1 s) against the stack's Redis, which expires them."""
    monkeypatch.setattr(session_tokens, "TTL_SECONDS", 1)
    key, session_id = answered
    client = create_app(settings).test_client()
    token = client.post(f"/api/v1/sessions/{session_id}/token", headers={"Authorization": f"Bearer {key}"}).json[
        "access_token"]
    assert client.get(f"/api/v1/download/{session_id}", query_string={"access_token": token}).status_code == 302

    time.sleep(1.5)

    response = client.get(f"/api/v1/download/{session_id}", query_string={"access_token": token})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"
    assert "expired" in response.json["error"]["message"]


def test_tokens_are_stored_only_as_hashes_and_expire(owner, answered, redis_client):
    token = mint(owner, answered[1])["access_token"]

    record = session_tokens.RECORD_PREFIX + hashlib.sha256(token.encode()).hexdigest()

    assert 0 < redis_client.ttl(record) <= session_tokens.TTL_SECONDS
    assert not any(token in k.decode() for k in redis_client.scan_iter(f"{session_tokens.RECORD_PREFIX}*"))
    assert token.encode() not in redis_client.get(record)

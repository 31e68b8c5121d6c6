"""What an LMS integration relies on: tenants, idempotency, live progress, lists, limits, capacity, docs."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from api import create_app
from qagen.apikeys import ApiKeyStore
from qagen.jobs.records import object_prefix
from tests.conftest import EXAMPLE_PAPER
from tests.waiting import wait_for_session

QUIZ = b"Quiz\n1. Define velocity. [1]\n2. Define acceleration. [1]\n"


def upload(client, data: bytes = QUIZ, name: str = "quiz.txt", headers=None, **form) -> httpx.Response:
    return client.post("/api/v1/upload", files={"file": (name, data)}, data=form, headers=headers or {})


class TestTenants:
    def test_another_tenants_session_is_404_on_every_route(self, client, other_tenant):
        session_id = upload(client).json()["session_id"]
        wait_for_session(client, session_id)

        for path in (f"/api/v1/sessions/{session_id}", f"/api/v1/sessions/{session_id}/result.json",
                     f"/api/v1/sessions/{session_id}/events", f"/api/v1/download/{session_id}"):
            response = other_tenant.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found"

    def test_a_tenants_objects_live_under_its_own_prefix(self, client, storage):
        session_id = upload(client).json()["session_id"]
        wait_for_session(client, session_id)

        keys = storage.list_keys(object_prefix("tests", session_id))

        assert {k.rsplit("/", 1)[-1] for k in keys} == {"quiz.txt", "answers.pdf", "result.json"}

    def test_the_session_list_shows_only_the_tenants_own(self, client, other_tenant):
        mine = upload(client).json()["session_id"]

        listed = [s["session_id"] for s in other_tenant.get("/api/v1/sessions").json()["sessions"]]

        assert mine not in listed


class TestIdempotency:
    def test_the_same_key_and_body_returns_the_original_session(self, client, redis_client):
        key = str(uuid.uuid4())
        first = upload(client, headers={"Idempotency-Key": key})
        second = upload(client, headers={"Idempotency-Key": key})

        assert first.status_code == second.status_code == 202
        assert second.json() == first.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        sessions = client.get("/api/v1/sessions", params={"limit": 100}).json()["sessions"]
        assert [s["session_id"] for s in sessions].count(first.json()["session_id"]) == 1

    def test_the_same_key_with_a_different_body_is_422(self, client):
        key = str(uuid.uuid4())
        assert upload(client, headers={"Idempotency-Key": key}).status_code == 202

        response = upload(client, data=QUIZ + b"3. Define jerk. [1]\n", headers={"Idempotency-Key": key})

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"

    def test_keys_are_scoped_per_tenant(self, client, other_tenant):
        key = str(uuid.uuid4())
        first = upload(client, headers={"Idempotency-Key": key}).json()

        other = upload(other_tenant, headers={"Idempotency-Key": key})

        assert other.status_code == 202 and other.json()["session_id"] != first["session_id"]

    def test_a_refused_request_can_be_retried_with_the_same_key(self, client):
        key = str(uuid.uuid4())
        assert upload(client, data=b"", headers={"Idempotency-Key": key}).status_code == 400

        assert upload(client, headers={"Idempotency-Key": key}).status_code == 202


class TestLiveProgress:
    def test_the_event_stream_reports_progress_until_done_at_100(self, client, stack):
        session_id = upload(client, EXAMPLE_PAPER.read_bytes(), "paper.pdf").json()["session_id"]
        events = []
        # EventSource cannot send headers: a short-lived token for this session rides as access_token.
        token = client.post(f"/api/v1/sessions/{session_id}/token").json()["access_token"]
        with httpx.stream("GET", f"{stack.layout.api_url}/api/v1/sessions/{session_id}/events",
                          params={"access_token": token}, timeout=120) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            event = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    events.append((event, json.loads(line[6:])))

        assert events[-1][0] == "done"
        assert events[-1][1]["status"] == "complete" and events[-1][1]["progress"] == 100
        progress = [data["progress"] for _, data in events]
        assert progress == sorted(progress)

    def test_each_change_is_streamed_as_it_happens(self, client, stack, redis_client):
        from qagen.jobs.records import Session, SessionStore

        store = SessionStore(redis_client, 3600)
        session_id = str(uuid.uuid4())
        store.create(Session(id=session_id, tenant="tests", filename="p.pdf", input_key="k"))
        seen = []
        token = client.post(f"/api/v1/sessions/{session_id}/token").json()["access_token"]
        with httpx.stream("GET", f"{stack.layout.api_url}/api/v1/sessions/{session_id}/events",
                          params={"access_token": token}, timeout=30) as response:
            lines = response.iter_lines()
            for line in lines:
                if not line.startswith("data: "):
                    continue
                seen.append(json.loads(line[6:]))
                if len(seen) == 1:
                    store.mark_running(session_id, "answering", 40, "answering 4/10")
                elif len(seen) == 2:
                    store.mark_complete(session_id, "r.pdf", "r.json", 10)

        assert [(s["status"], s["progress"]) for s in seen] == [("queued", 0), ("running", 40), ("complete", 100)]
        assert seen[1]["message"] == "answering 4/10"

    def test_the_stream_needs_a_key(self, anonymous):
        assert anonymous.get(f"/api/v1/sessions/{uuid.uuid4()}/events").status_code == 401


class TestSessionList:
    def test_pages_follow_the_cursor_newest_first_without_repeats(self, stack, redis_client):
        key = ApiKeyStore(redis_client).create(f"lister-{uuid.uuid4().hex[:6]}")
        with httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {key}"}) as c:
            created = [upload(c).json()["session_id"] for _ in range(5)]
            pages, cursor = [], None
            while True:
                body = c.get("/api/v1/sessions", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
                pages.append([s["session_id"] for s in body["sessions"]])
                cursor = body["next_cursor"]
                if not cursor:
                    break

        assert [sid for page in pages for sid in page] == list(reversed(created))
        assert all(len(page) <= 2 for page in pages)

    def test_a_status_filter_and_bad_queries(self, client):
        session_id = upload(client).json()["session_id"]
        wait_for_session(client, session_id)

        complete = client.get("/api/v1/sessions", params={"status": "complete", "limit": 100}).json()["sessions"]

        assert session_id in [s["session_id"] for s in complete]
        assert all(s["status"] == "complete" for s in complete)
        assert client.get("/api/v1/sessions", params={"status": "bogus"}).status_code == 400
        assert client.get("/api/v1/sessions", params={"limit": 0}).status_code == 400
        assert client.get("/api/v1/sessions", params={"cursor": "not-a-cursor"}).status_code == 400
        for number_redis_refuses in ("nan", "NaN", "inf", "-inf"):  # float() reads them; a client must not retry
            assert client.get("/api/v1/sessions", params={"cursor": number_redis_refuses}).status_code == 400


class TestRateLimits:
    def test_a_tenant_over_its_limit_gets_429_with_retry_after_and_ratelimit_headers(self, settings, redis_client):
        app = create_app(settings.model_copy(update={"rate_limit": "3/minute"}))
        key = ApiKeyStore(redis_client).create(f"limited-{uuid.uuid4().hex[:6]}")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}

        answers = [client.get("/api/v1/capacity", headers=headers) for _ in range(4)]

        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[0].headers["RateLimit-Policy"] == '"default";q=3;w=60'
        assert answers[1].headers["RateLimit"].startswith('"default";r=1;')
        assert int(answers[3].headers["Retry-After"]) > 0
        assert answers[3].json["error"]["code"] == "rate_limited"
        assert client.get("/healthz").status_code == 200  # probes are never limited


class TestCapacityAndDocs:
    def test_capacity_reports_the_queue_and_an_estimate(self, client):
        wait_for_session(client, upload(client).json()["session_id"])

        body = client.get("/api/v1/capacity").json()

        assert body["queued"] >= 0 and body["running"] >= 0
        assert body["workers"] is None  # no cluster here: falls back to the queue alone
        assert body["median_job_seconds"] > 0
        assert body["estimated_wait_seconds"] is not None

    def test_the_openapi_document_and_interactive_docs_are_served(self, anonymous):
        spec = anonymous.get("/openapi.json").json()

        assert spec["openapi"].startswith("3.")
        for path in ("/api/v1/upload", "/api/v1/sessions/{session_id}", "/api/v1/sessions/{session_id}/events",
                     "/api/v1/sessions/{session_id}/result.json", "/api/v1/download/{session_id}", "/api/v1/knowledge",
                     "/api/v1/capacity"):
            assert path in spec["paths"], path
        assert anonymous.get("/docs").status_code == 200


def test_uploads_have_their_own_tighter_limit(settings, redis_client):
    app = create_app(settings.model_copy(update={"upload_rate_limit": "1/minute",
                                                 "queue": f"unconsumed-{uuid.uuid4().hex[:6]}"}))
    key = ApiKeyStore(redis_client).create(f"uploader-{uuid.uuid4().hex[:6]}")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"

    def post():
        import io

        return client.post("/api/v1/upload", data={"file": (io.BytesIO(QUIZ), "q.txt")}, content_type="multipart/form-data")

    assert [post().status_code, post().status_code] == [202, 429]
    assert client.get("/api/v1/capacity").status_code == 200  # other routes keep the general limit


def test_a_tenant_reads_and_rotates_its_webhook_secret(client, other_tenant):
    first = client.get("/api/v1/webhook-secret").json()["secret"]

    rotated = client.post("/api/v1/webhook-secret/rotate").json()["secret"]

    assert first.startswith("whsec_") and rotated.startswith("whsec_") and rotated != first
    assert client.get("/api/v1/webhook-secret").json()["secret"] == rotated
    assert other_tenant.get("/api/v1/webhook-secret").json()["secret"] not in (first, rotated)

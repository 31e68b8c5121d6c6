"""Keys, unknown ids, not-yet-ready downloads and bad uploads, each with the one JSON error shape."""

from __future__ import annotations

import json
import uuid

import pytest

from api import create_app
from qagen.apikeys import ApiKeyStore
from qagen.jobs.records import Session, SessionStore


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = json.loads(response.text)["error"]  # works for httpx and Flask test responses
    assert error["code"] == code
    assert error["message"]
    return error


@pytest.mark.parametrize("path", ["/api/v1/sessions/x", "/api/v1/download/x"])
def test_requests_without_a_key_are_refused(anonymous, path):
    assert_error(anonymous.get(path), 401, "unauthorized")


def test_uploads_without_a_key_are_refused(anonymous):
    assert_error(anonymous.post("/api/v1/upload", files={"file": ("a.txt", b"1. Q?")}), 401, "unauthorized")


def test_a_wrong_key_is_refused(anonymous):
    response = anonymous.get("/api/v1/sessions/x", headers={"Authorization": "Bearer qk_not-a-real-key"})
    assert_error(response, 401, "unauthorized")


def test_keys_are_stored_only_as_hashes(redis_client):
    key = ApiKeyStore(redis_client).create("hash-check")

    stored = [k.decode() for k in redis_client.scan_iter("qagen:apikey:*")]

    assert stored and all(key not in name for name in stored)
    assert not any(key.encode() in (redis_client.get(name) or b"") for name in stored)


def test_an_unknown_session_is_404(client):
    assert_error(client.get(f"/api/v1/sessions/{uuid.uuid4()}"), 404, "not_found")
    assert_error(client.get(f"/api/v1/download/{uuid.uuid4()}"), 404, "not_found")


def test_another_keys_session_is_404(client, redis_client, settings):
    session_id = str(uuid.uuid4())
    SessionStore(redis_client, 3600).create(Session(id=session_id, tenant="someone-else", filename="p.pdf", input_key="k"))

    assert_error(client.get(f"/api/v1/sessions/{session_id}"), 404, "not_found")


def test_download_before_completion_is_409(client, redis_client):
    session_id = str(uuid.uuid4())
    SessionStore(redis_client, 3600).create(Session(id=session_id, tenant="tests", filename="p.pdf", input_key="k"))

    error = assert_error(client.get(f"/api/v1/download/{session_id}"), 409, "not_ready")
    assert "queued" in error["message"]


def test_healthz_and_readyz_answer_on_a_healthy_stack(anonymous):
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"redis": "ok", "s3": "ok"}


def test_readyz_is_503_naming_s3_when_s3_is_down(settings):
    from devtools.stack import free_port

    dead_s3 = settings.model_copy(update={"s3_endpoint": f"http://127.0.0.1:{free_port()}"})
    app = create_app(dead_s3)

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["checks"]["redis"] == "ok"
    assert response.json["checks"]["s3"].startswith("unreachable")


class TestBadUploadsLeaveNothingBehind:
    """Bad uploads are refused before anything is stored or queued.

    The app under test sends to a queue no worker consumes, so any message it
    enqueued would still be sitting there.
    """

    @pytest.fixture
    def app_client(self, settings, redis_client):
        # A tenant of its own, so its bucket prefix changes only through this app.
        api_key = ApiKeyStore(redis_client).create("bad-input")
        queue = f"unconsumed-{uuid.uuid4().hex[:8]}"
        app = create_app(settings.model_copy(update={"queue": queue, "max_upload_mb": 1}))
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {api_key}"
        return client, queue

    @pytest.fixture
    def nothing_left(self, app_client, storage, redis_client):
        _, queue = app_client
        objects = set(storage.list_keys("sessions/bad-input/")) | set(storage.list_keys("tenants/bad-input/"))
        sessions = set(redis_client.scan_iter("qagen:session:*"))
        yield
        assert set(storage.list_keys("sessions/bad-input/")) | set(storage.list_keys("tenants/bad-input/")) == objects
        assert set(redis_client.scan_iter("qagen:session:*")) == sessions
        assert redis_client.llen(queue) == 0

    def post(self, client, name, data):
        import io

        return client.post("/api/v1/upload", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")

    def test_binary_content_named_pdf_is_415(self, app_client, nothing_left):
        client, _ = app_client
        response = self.post(client, "paper.pdf", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
        assert_error(response, 415, "unsupported_media_type")

    def test_an_empty_file_is_400(self, app_client, nothing_left):
        client, _ = app_client
        assert_error(self.post(client, "paper.pdf", b""), 400, "empty_file")

    def test_a_missing_file_field_is_400(self, app_client, nothing_left):
        client, _ = app_client
        error = assert_error(client.post("/api/v1/upload", data={"other": "x"}), 400, "validation_error")
        assert "file" in error["message"] and error["detail"]["form_and_files"]["file"]

    def test_a_file_over_the_size_limit_is_413(self, app_client, nothing_left):
        client, _ = app_client
        error = assert_error(self.post(client, "big.txt", b"1. Why?\n" * 200_000), 413, "payload_too_large")
        assert "1 MB" in error["message"]

    def test_a_good_upload_through_the_same_app_is_queued(self, app_client, redis_client):
        """The control: the same app does store and enqueue a valid paper."""
        client, queue = app_client
        response = self.post(client, "quiz.txt", b"1. Define force. [1]\n")
        assert response.status_code == 202
        assert redis_client.llen(queue) == 1

    def test_a_session_store_lost_after_the_file_was_stored_is_503_and_leaves_no_object(self, app_client,
                                                                                          nothing_left):
        """Redis going away between the key check and the session record: the stored file goes too."""
        from devtools.stack import free_port
        from qagen.redis_client import redis_from_settings

        client, _ = app_client
        services = client.application.extensions["qagen"]
        dead = redis_from_settings(services.settings.model_copy(
            update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"}), timeout_seconds=0.5)
        services.sessions = SessionStore(dead, 3600)

        response = self.post(client, "quiz.txt", b"1. Define force. [1]\n")

        error = assert_error(response, 503, "unavailable")
        assert response.headers.get("Retry-After")
        assert "retry" in error["message"].lower()

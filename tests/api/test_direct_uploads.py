"""Direct-to-bucket uploads (docs/direct-uploads.md) on the real stack: the form, the file POSTed to
SeaweedFS over HTTP with it, then the session; what the bucket itself refuses, and what the API does."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from api import create_app, direct_uploads
from qagen.jobs.records import object_prefix
from qagen.lifecycle import sweep
from tests.conftest import EXAMPLE_PAPER
from tests.waiting import wait_for_session


def form(client) -> dict:
    response = client.post("/api/v1/uploads/direct")
    assert response.status_code == 201, response.text
    return response.json()


def to_bucket(direct: dict, data: bytes, name: str = "paper.pdf") -> httpx.Response:
    """What a client does with the form: one multipart POST straight to the bucket, no API key."""
    return httpx.post(direct["url"], data=direct["fields"], files={"file": (name, data)}, timeout=60)


def session(client, upload_id: str, **fields) -> httpx.Response:
    return client.post(f"/api/v1/uploads/direct/{upload_id}/session", json=fields)


def test_a_paper_sent_straight_to_the_bucket_is_answered(client, storage, settings):
    direct = form(client)
    assert set(direct) == {"upload_id", "url", "fields", "expires_at", "max_bytes"}
    assert direct["max_bytes"] == settings.max_upload_bytes
    assert direct["url"].startswith(settings.signing_endpoint)
    assert direct["fields"]["key"] == f"sessions/tests/{direct['upload_id']}/pending"

    assert to_bucket(direct, EXAMPLE_PAPER.read_bytes()).status_code == 204
    response = session(client, direct["upload_id"], filename="sample-paper.pdf")

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["session_id"] == direct["upload_id"]
    assert response.headers["Location"] == body["status_url"]
    final = wait_for_session(client, body["session_id"])
    assert final["status"] == "complete", final
    assert final["question_count"] == 11
    assert final["filename"] == "sample-paper.pdf"
    prefix = object_prefix("tests", body["session_id"])
    keys = storage.list_keys(prefix)
    assert f"{prefix}input/sample-paper.pdf" in keys and f"{prefix}pending" not in keys  # copied, then removed
    assert storage.client.head_object(Bucket=storage.bucket, Key=f"{prefix}input/sample-paper.pdf")[
        "ContentType"] == "application/pdf"

    # The upload made its session: it makes no other.
    again = session(client, direct["upload_id"], filename="again.pdf")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_form_fields_json_review_and_idempotency(client):
    key = str(uuid.uuid4())
    first = client.post("/api/v1/uploads/direct", headers={"Idempotency-Key": key})
    replay = client.post("/api/v1/uploads/direct", headers={"Idempotency-Key": key})
    assert first.status_code == replay.status_code == 201
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == first.json()
    direct = first.json()
    assert to_bucket(direct, b"Quiz\n1. Define velocity. [1]\n", "quiz.txt").status_code == 204

    headers = {"Idempotency-Key": str(uuid.uuid4())}
    url = f"/api/v1/uploads/direct/{direct['upload_id']}/session"
    made = client.post(url, data={"filename": "quiz.txt", "review": "true"}, headers=headers)
    replayed = client.post(url, data={"filename": "quiz.txt", "review": "true"}, headers=headers)
    assert made.status_code == replayed.status_code == 202, made.text
    assert replayed.json() == made.json() and replayed.headers.get("Idempotent-Replayed") == "true"
    status = wait_for_session_status(client, made.json()["session_id"], {"awaiting_review", "failed"})
    assert status["status"] == "awaiting_review", status


def wait_for_session_status(client, session_id: str, finished: set[str]) -> dict:
    from tests.waiting import poll_until

    return poll_until(client, f"/api/v1/sessions/{session_id}", finished)


def test_the_bucket_refuses_a_file_over_the_limit_the_form_signs(settings):
    app = create_app(settings.model_copy(update={"max_upload_mb": 1}))
    from qagen.apikeys import ApiKeyStore
    from qagen.redis_client import redis_from_settings

    key = ApiKeyStore(redis_from_settings(settings)).create("tests")
    with app.test_client() as api:
        direct = api.post("/api/v1/uploads/direct", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert direct["max_bytes"] == 1024 * 1024

    refused = to_bucket(direct, b"%PDF-1.4\n" + b"0" * (1024 * 1024))  # one MiB and 9 bytes
    assert refused.status_code == 400, refused.text  # the bucket's own answer; the API saw no byte
    assert "<Code>EntityTooLarge</Code>" in refused.text
    assert to_bucket(direct, b"%PDF-1.4\n" + b"0" * (1024 * 1024 - 9)).status_code == 204  # exactly the limit
    # The form is for its key only: another key is refused by the signature.
    moved = httpx.post(direct["url"], data={**direct["fields"], "key": direct["fields"]["key"] + "x"},
                       files={"file": ("p.pdf", b"%PDF-1.4")})
    assert moved.status_code == 403 and "Policy" in moved.text


def test_an_expired_form_is_refused_by_the_bucket(client, monkeypatch, settings):
    monkeypatch.setattr(direct_uploads, "FORM_SECONDS", 1)
    app = create_app(settings)
    with app.test_client() as api:
        direct = api.post("/api/v1/uploads/direct", headers={"Authorization": client.headers["Authorization"]}
                          ).get_json()
    time.sleep(2.5)
    refused = to_bucket(direct, EXAMPLE_PAPER.read_bytes())
    assert refused.status_code == 403 and "expired" in refused.text, refused.text
    answer = session(client, direct["upload_id"])
    assert answer.status_code == 404 and "Nothing was uploaded" in answer.json()["error"]["message"]


def test_a_non_paper_is_refused_at_the_session_and_removed(client, storage):
    direct = form(client)
    assert to_bucket(direct, b"\x7fELF\x02\x01\x01" + bytes(200), "tool").status_code == 204
    refused = session(client, direct["upload_id"], filename="tool")
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_media_type"
    assert storage.list_keys(object_prefix("tests", direct["upload_id"])) == []
    assert client.get(f"/api/v1/sessions/{direct['upload_id']}").status_code == 404


def test_an_empty_or_missing_upload(client):
    direct = form(client)
    missing = session(client, direct["upload_id"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    # The bucket refuses an empty file itself (content-length-range starts at 1).
    assert to_bucket(direct, b"").status_code == 400
    assert client.post(f"/api/v1/uploads/direct/{uuid.uuid4()}/session", json={}).status_code == 404
    assert client.post("/api/v1/uploads/direct/not-a-uuid/session", json={}).status_code == 404


def test_another_tenant_cannot_use_an_upload(client, other_tenant, storage):
    direct = form(client)
    assert to_bucket(direct, EXAMPLE_PAPER.read_bytes()).status_code == 204
    theirs = session(other_tenant, direct["upload_id"])
    assert theirs.status_code == 404  # nothing under *their* prefix: exactly like a never-uploaded id
    assert storage.exists(f"sessions/tests/{direct['upload_id']}/pending")  # untouched

    made = session(client, direct["upload_id"])
    assert made.status_code == 202
    after = session(other_tenant, direct["upload_id"])
    assert after.status_code == 404  # a session of another tenant's: as unknown as any
    assert other_tenant.get(f"/api/v1/sessions/{direct['upload_id']}").status_code == 404


def test_the_sweep_removes_an_abandoned_upload_and_keeps_a_live_one(client, storage, redis_client):
    abandoned, used = form(client), form(client)
    for direct in (abandoned, used):
        assert to_bucket(direct, EXAMPLE_PAPER.read_bytes()).status_code == 204
    assert session(client, used["upload_id"], filename="p.pdf").status_code == 202
    wait_for_session(client, used["upload_id"])

    report = sweep(redis_client, storage, grace_seconds=0, dry_run=True)

    assert f"sessions/tests/{abandoned['upload_id']}/pending" in report.deleted
    assert not [k for k in report.deleted if used["upload_id"] in k]


@pytest.mark.parametrize("path", ["/api/v1/uploads/direct", f"/api/v1/uploads/direct/{uuid.uuid4()}/session"])
def test_both_routes_need_a_key(anonymous, path):
    assert anonymous.post(path).status_code == 401


def test_forms_count_against_the_upload_rate_limit(settings, redis_client):
    from qagen.apikeys import ApiKeyStore

    app = create_app(settings.model_copy(update={"upload_rate_limit": "1/minute"}))
    key = ApiKeyStore(redis_client).create(f"direct-limit-{uuid.uuid4().hex[:8]}")
    with app.test_client() as api:
        headers = {"Authorization": f"Bearer {key}"}
        assert api.post("/api/v1/uploads/direct", headers=headers).status_code == 201
        refused = api.post("/api/v1/uploads/direct", headers=headers)
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
    assert refused.headers["Retry-After"]


def test_the_api_checks_the_size_and_reads_a_zip_whole(client, settings, storage):
    import io
    import zipfile

    # Uploaded under a 20 MB form, made into a session by an API whose limit is now 1 MB: 413, removed.
    direct = form(client)
    assert to_bucket(direct, b"%PDF-1.4\n" + b"0" * (1024 * 1024)).status_code == 204
    app = create_app(settings.model_copy(update={"max_upload_mb": 1}))
    with app.test_client() as api:
        refused = api.post(f"/api/v1/uploads/direct/{direct['upload_id']}/session", json={},
                           headers={"Authorization": client.headers["Authorization"]})
    assert refused.status_code == 413 and refused.get_json()["error"]["code"] == "payload_too_large"
    assert storage.list_keys(object_prefix("tests", direct["upload_id"])) == []

    # A ZIP over the 64 KiB read first is read whole to look for word/document.xml: not a .docx, 415.
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("notes.bin", bytes(range(256)) * 400)
    direct = form(client)
    assert to_bucket(direct, archive.getvalue(), "notes.zip").status_code == 204
    refused = session(client, direct["upload_id"], filename="notes.zip")
    assert refused.status_code == 415 and "not a Word .docx" in refused.json()["error"]["message"]

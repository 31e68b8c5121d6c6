"""DELETE /api/v1/sessions/{id} on the real stack: what it removes (seen by an independent S3
client, minio, and in Redis), tenant isolation, and a running job that must not write back."""

from __future__ import annotations

import time
import uuid

import pytest
from minio import Minio

from qagen.jobs import leases
from qagen.jobs.records import key_for, object_prefix
from qagen.knowledge.store import KnowledgeBaseStore
from qagen.webhooks.deliveries import enqueue_once, event_for, record_key
from tests.api.test_knowledge import NOTES, PAPER, wait_until_indexed
from tests.waiting import wait_for_session


@pytest.fixture(scope="module")
def minio_client(settings) -> Minio:
    return Minio(settings.s3_endpoint.removeprefix("http://"), access_key=settings.s3_access_key,
                 secret_key=settings.s3_secret_key.get_secret_value(), secure=False)


def objects(minio_client, settings, session_id: str, tenant: str = "tests") -> set[str]:
    return {o.object_name for o in minio_client.list_objects(settings.s3_bucket, prefix=object_prefix(tenant, session_id),
                                                              recursive=True)}


def answered(client, idempotency_key: str | None = None) -> str:
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", PAPER)}, headers=headers)
    assert response.status_code == 202, response.text
    session_id = response.json()["session_id"]
    assert wait_for_session(client, session_id)["status"] == "complete"
    return session_id


def test_deleting_a_session_removes_its_objects_and_records(client, minio_client, settings, redis_client):
    idempotency_key = str(uuid.uuid4())
    session_id = answered(client, idempotency_key)
    public = client.get(f"/api/v1/sessions/{session_id}").json()
    event_id, body = event_for(public, "tests")
    enqueue_once(redis_client, event_id, body, "https://lms.example.org/hook", "tests")
    assert {k.rsplit("/", 1)[-1] for k in objects(minio_client, settings, session_id)} == {
        "quiz.txt", "answers.pdf", "result.json"}
    assert redis_client.exists(record_key(event_id))

    response = client.delete(f"/api/v1/sessions/{session_id}")

    assert response.status_code == 204 and response.content == b""
    assert objects(minio_client, settings, session_id) == set()
    for path in (f"/api/v1/sessions/{session_id}", f"/api/v1/sessions/{session_id}/result.json",
                 f"/api/v1/download/{session_id}"):
        assert client.get(path).status_code == 404, path
    assert session_id not in [s["session_id"] for s in client.get("/api/v1/sessions?limit=100").json()["sessions"]]
    assert not redis_client.exists(key_for(session_id), record_key(event_id))
    assert not redis_client.zscore("qagen:tenant:tests:sessions", session_id)
    # The upload's Idempotency-Key is forgotten: the same request now makes a new session.
    again = client.post("/api/v1/upload", files={"file": ("quiz.txt", PAPER)}, headers={"Idempotency-Key": idempotency_key})
    assert again.status_code == 202 and again.json()["session_id"] != session_id
    assert "Idempotent-Replayed" not in again.headers
    assert client.delete(f"/api/v1/sessions/{session_id}").status_code == 404


def test_another_tenant_can_neither_delete_a_session_nor_learn_it_exists(client, other_tenant, minio_client, settings):
    session_id = answered(client)
    before = objects(minio_client, settings, session_id)

    refused = other_tenant.delete(f"/api/v1/sessions/{session_id}")
    unknown = other_tenant.delete(f"/api/v1/sessions/{uuid.uuid4()}")

    assert refused.status_code == unknown.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/sessions/{session_id}").json()["status"] == "complete"
    assert objects(minio_client, settings, session_id) == before and len(before) == 3


def test_a_running_job_is_stopped_and_writes_nothing_back(stack, client, minio_client, settings, redis_client):
    # The job waits for its knowledge base to be indexed again (a real record, put back to
    # `indexing` with no index task), so it is surely running when the session is deleted;
    # then the base becomes ready and the job carries on past the deletion.
    created = client.post("/api/v1/knowledge", data={"name": "DS notes"}, files={"file": ("notes.md", NOTES)})
    kb_id = created.json()["knowledge_base_id"]
    assert wait_until_indexed(client, kb_id)["status"] == "ready"
    store = KnowledgeBaseStore(redis_client)
    kb = store.add_documents(kb_id, [])
    session_id = client.post("/api/v1/upload", data={"knowledge_base": kb_id},
                             files={"file": ("quiz.txt", PAPER)}).json()["session_id"]
    deadline = time.monotonic() + 60
    while client.get(f"/api/v1/sessions/{session_id}").json()["message"] != "loading the knowledge base":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    assert leases.holder(redis_client, session_id)
    log = stack.log_path("worker")
    offset = log.stat().st_size

    assert client.delete(f"/api/v1/sessions/{session_id}").status_code == 204
    store.finish_indexing(kb_id, kb.generation, documents=kb.documents, version=kb.version, index_key=kb.index_key,
                          chunk_count=kb.chunk_count, error=None)

    def lines() -> list[str]:
        return [line for line in log.read_text()[offset:].splitlines() if session_id in line]

    deadline = time.monotonic() + 60
    while not any(" ended (" in line for line in lines()):  # "session <id>: run <token> ended (<mode>)"
        assert time.monotonic() < deadline, f"the job's run never ended: {lines()}"
        time.sleep(0.2)
    assert objects(minio_client, settings, session_id) == set()
    assert not redis_client.exists(key_for(session_id), leases.lease_key(session_id))
    assert not redis_client.zscore(leases.ACTIVE_KEY, session_id)
    assert not any("failed unexpectedly" in line or "Traceback" in line for line in lines()), lines()
    # The worker is free for the next paper.
    assert answered(client)

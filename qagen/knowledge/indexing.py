"""Building a knowledge base's index from its stored documents, and loading it for a job.

An index build runs under a lease, like a paper's job (qagen.jobs.leases, scope
INDEX_LEASES): `begin_indexing` takes it, so a duplicate delivery finds it held; a build
whose worker died (its lease left behind, its `run_token` still set) counts as a worker
loss on the next delivery, and past `max_worker_losses` the base fails with a message
instead of killing one worker after another; the message names the document the last run
was reading (`build_index` notes it on the run record as it goes). Celery redelivers an
index task whose pool process died (acks late, reject on worker lost); no sweeper is needed.
A pool process stopped at the hard time limit is not redelivered: the worker fails the
generation that run noted it was building (`fail_stopped_build`).

With QAGEN_EMBEDDING_MODEL set, the build also embeds every chunk (qagen.knowledge.dense) and
stores the vectors in the index object. An embeddings server that cannot be reached, times
out or answers 429/5xx raises `EmbeddingUnavailable`, a TransientError: the task retries the
whole build later (5, 20, 60 s) and then fails the base saying the service stayed
unavailable. A server that refuses the model or answers with the wrong shape fails the base
at once with that message (`EmbeddingError`): retrying would not fix a configuration. A base
is never indexed silently without the embeddings its settings ask for.

Worker side: imports the retrieval library lazily through qagen.knowledge.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import redis

from qagen.errors import InputError, NotFound
from qagen.jobs import leases
from qagen.knowledge.store import KnowledgeBaseNotFound, KnowledgeBaseStore, KnowledgeStatus, prefix_for, run_key_for
from qagen.settings import Settings
from qagen.storage import S3Storage

if TYPE_CHECKING:
    from qagen.knowledge.dense import Embedder

log = logging.getLogger(__name__)


class KnowledgeBaseUnavailable(InputError):
    """Raised when a job's knowledge base was deleted, failed to index, or is still indexing too long."""


INDEX_LEASES = leases.Scope(lease_prefix="qagen:lease:kb:", record_key=run_key_for, active_key="qagen:kb:indexing")


@dataclass
class IndexStart:
    """What `begin_indexing` decided: run (`lease` is held), `busy`, `gone` or `failed` (too many losses)."""

    outcome: str
    generation: int = 0
    lease: leases.Lease | None = None
    holder: str = ""


def begin_indexing(client: redis.Redis, store: KnowledgeBaseStore, settings: Settings, kb_id: str,
                   hostname: str | None) -> IndexStart:
    try:
        kb = store.fetch(kb_id)
    except KnowledgeBaseNotFound:
        return IndexStart("gone")
    record = run_key_for(kb_id)
    # Worker losses count per generation: new documents get a fresh set of attempts (and a dead
    # run of the old documents is not held against them; a live one still holds the lease).
    if client.hget(record, "generation") != str(kb.generation).encode():
        fresh = {"generation": kb.generation, "worker_losses": 0, "reading": ""}
        if not leases.holder(client, kb_id, INDEX_LEASES):
            fresh["run_token"] = ""
        client.hset(record, mapping=fresh)
    token = leases.new_token(hostname)
    got = leases.acquire(client, kb_id, token, settings.lease_ttl_seconds, scope=INDEX_LEASES)
    if got.outcome != "ok":
        return IndexStart("busy" if got.outcome == "busy" else "gone", kb.generation, holder=got.detail)
    if got.losses > settings.max_worker_losses:
        reading = (client.hget(record, "reading") or b"").decode()
        store.fail_indexing(kb_id, kb.generation, worker_losses_message(got.losses, reading))
        leases.release(client, kb_id, token, "finished", scope=INDEX_LEASES)
        log.warning("knowledge base %s: failed after %d worker loss(es)", kb_id, got.losses)
        return IndexStart("failed", kb.generation)
    lease = leases.Lease(client, kb_id, token, settings.lease_ttl_seconds, settings.lease_renew_seconds,
                         scope=INDEX_LEASES)
    return IndexStart("run", kb.generation, lease=lease.start())


def worker_losses_message(losses: int, reading: str = "") -> str:
    """Why a base failed after its index runs died `losses` times, the last while reading `reading`."""
    if reading:
        return (f"Indexing these notes stopped the worker {losses} times (for example by exhausting its memory), "
                f"the last time while reading {reading}, so it was not tried again. Delete this knowledge base "
                f"and upload the notes again without {reading}, or with it saved as a plain PDF or text file.")
    return (f"Indexing these notes stopped the worker {losses} times (for example by exhausting its memory), so "
            "it was not tried again. Delete this knowledge base and upload the notes again without the file "
            "that caused it, or as plain PDF or text files.")


def time_limit_message(seconds: float) -> str:
    return (f"Indexing took longer than the time limit ({seconds:.0f} s). Split the notes into smaller files, "
            "or upload only the chapters the papers need.")


def fail_stopped_build(client: redis.Redis, store: KnowledgeBaseStore, kb_id: str, error: str) -> bool:
    """Fail the build whose run was stopped for good (its pool process killed at the hard time
    limit, a message Celery does not redeliver): the generation that run noted it was building,
    so a newer generation, which has a task of its own, is left alone. False if nothing failed."""
    building = client.hget(run_key_for(kb_id), "building")
    if not building:
        return False
    return store.fail_indexing(kb_id, int(building), error)


def build_index(kb_id: str, store: KnowledgeBaseStore, storage: S3Storage,
                note: Callable[..., object] = lambda **fields: None, embedder: Embedder | None = None) -> bool:
    """Index every document of the base; False when the base changed or vanished meanwhile.

    `note(**fields)` records where the build is (a run's `Lease.note`): the generation it
    builds, then the document it reads, then how many passages are embedded, for the run
    after it if this one dies. With an `embedder` (Embedder.from_settings) the chunks'
    embeddings are stored with the index; EmbeddingUnavailable propagates (the task retries)."""
    from qagen.knowledge import KnowledgeIndex, chunk_document
    from qagen.knowledge.dense import EmbeddingError

    try:
        kb = store.snapshot_for_indexing(kb_id)
    except KnowledgeBaseNotFound:
        return False
    if kb.indexed_generation == kb.generation:
        return True
    note(building=kb.generation)
    chunks, documents = [], []
    for document in kb.documents:
        note(reading=document.filename)
        try:
            found = chunk_document(storage.get(document.key), document.filename)
            documents.append(replace(document, chunks=len(found), error=None))
            chunks.extend(found)
        except NotFound:
            documents.append(replace(document, chunks=0, error="The document is missing from storage."))
        except InputError as exc:
            documents.append(replace(document, chunks=0, error=str(exc)))
    note(reading="")
    if not chunks:
        errors = "; ".join(f"{d.filename}: {d.error}" for d in documents if d.error) or "no documents"
        return store.finish_indexing(kb_id, kb.generation, documents=documents, version=None, index_key=None,
                                     chunk_count=0, error=f"No document had readable text ({errors}).")
    try:
        embeddings = _embed(kb_id, chunks, embedder, note)
    except EmbeddingError as exc:
        return store.finish_indexing(kb_id, kb.generation, documents=documents, version=None, index_key=None,
                                     chunk_count=0, error=f"The notes were read but could not be embedded for "
                                     f"dense retrieval: {exc}")
    index = KnowledgeIndex.build(chunks, embeddings=embeddings)
    key = f"{prefix_for(kb.tenant, kb_id)}index/{index.version}.bin"
    storage.put(key, index.to_bytes(), "application/octet-stream")
    saved = store.finish_indexing(kb_id, kb.generation, documents=documents, version=index.version, index_key=key,
                                  chunk_count=len(chunks), error=None)
    if not saved:
        _drop_unless_current(kb_id, key, store, storage)
    return saved


def _embed(kb_id: str, chunks: list, embedder: Embedder | None, note: Callable[..., object]):
    """The chunks' DenseVectors, or None without an embedder; progress noted as "embedded/total"."""
    if embedder is None:
        return None
    from qagen.knowledge.dense import embed_chunks

    started = time.monotonic()
    embeddings = embed_chunks(embedder, chunks, lambda done, total: note(embedding=f"{done}/{total}"))
    seconds = time.monotonic() - started
    log.info("knowledge base %s: embedded %d passages with %s in %.1f s (%.0f ms each)", kb_id, len(chunks),
             embedder.model, seconds, 1000 * seconds / max(len(chunks), 1))
    return embeddings


def _drop_unless_current(kb_id: str, key: str, store: KnowledgeBaseStore, storage: S3Storage) -> None:
    try:
        current = store.fetch(kb_id).index_key
    except KnowledgeBaseNotFound:
        current = None
    if current != key:
        storage.delete(key)


_CACHE: OrderedDict[tuple[str, str], object] = OrderedDict()
_CACHE_SIZE = 4


def load_ready_index(kb_id: str, store: KnowledgeBaseStore, storage: S3Storage, wait_seconds: float):
    """The base's current index, waiting for indexing to finish; cached per worker process."""
    from qagen.knowledge import KnowledgeIndex

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            kb = store.fetch(kb_id)
        except KnowledgeBaseNotFound as exc:
            raise KnowledgeBaseUnavailable("The knowledge base for this paper was deleted before the job could use "
                                           "it; upload the notes again or submit without them.") from exc
        if kb.status == KnowledgeStatus.FAILED:
            raise KnowledgeBaseUnavailable(f"The knowledge base {kb.name!r} could not be indexed: {kb.error}")
        if kb.status == KnowledgeStatus.READY and kb.indexed_generation == kb.generation:
            break
        if time.monotonic() >= deadline:
            raise KnowledgeBaseUnavailable(f"The knowledge base {kb.name!r} was still indexing after "
                                           f"{wait_seconds:.0f} s; try again when its status is ready.")
        time.sleep(1.0)
    cache_key = (kb_id, kb.version)
    if cache_key in _CACHE:
        _CACHE.move_to_end(cache_key)
        return _CACHE[cache_key]
    try:
        index = KnowledgeIndex.from_bytes(storage.get(kb.index_key))
    except NotFound as exc:
        raise KnowledgeBaseUnavailable("The knowledge base was deleted while this job was starting.") from exc
    _CACHE[cache_key] = index
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return index

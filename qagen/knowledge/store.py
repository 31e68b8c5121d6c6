"""Knowledge-base records: a named set of course documents and the state of its search index.

The record is JSON in Redis at `key_for(id)`; documents and the built index live in the
bucket under `knowledge/<id>/`. Every change to the document list bumps `generation`
under a per-base lock, and an index build saves its result only if the generation it
read is still current, so concurrent additions never leave a stale index marked ready.

A tenant's bases are listed by `tenant_index_for(tenant)`, a sorted set of ids scored by
creation time, written with the record and removed with it (tenant deletion removes the
set with the rest of `qagen:tenant:<tenant>:*`). Bases made before the set existed are put
in it once, by the first listing after an upgrade (`ensure_tenant_index`).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

import redis

from qagen.errors import NotFound

KEY_PREFIX = "qagen:kb:"
# Set once every base made before the per-tenant sets existed has been put in its tenant's.
BACKFILLED_KEY = "qagen:knowledge:tenant-index:backfilled"
_BACKFILL_LOCK = "qagen:knowledge:tenant-index:backfill-lock"


class KnowledgeBaseNotFound(NotFound):
    """Raised when no knowledge base has the given id (never created, or deleted)."""


class KnowledgeStatus(str, Enum):
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


@dataclass
class Document:
    id: str
    filename: str
    sha256: str
    size: int
    key: str
    chunks: int | None = None
    error: str | None = None


@dataclass
class KnowledgeBase:
    id: str
    tenant: str
    name: str
    status: KnowledgeStatus = KnowledgeStatus.INDEXING
    error: str | None = None
    documents: list[Document] = field(default_factory=list)
    generation: int = 0
    indexed_generation: int = -1
    version: str | None = None
    index_key: str | None = None
    chunk_count: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_public(self) -> dict[str, Any]:
        return {
            "knowledge_base_id": self.id,
            "name": self.name,
            "status": self.status.value,
            "error": self.error,
            "version": self.version,
            "chunk_count": self.chunk_count,
            "documents": [
                {"document_id": d.id, "filename": d.filename, "size": d.size, "chunks": d.chunks, "error": d.error}
                for d in self.documents
            ],
        }

    @classmethod
    def from_json(cls, raw: bytes | str) -> KnowledgeBase:
        data = json.loads(raw)
        data["status"] = KnowledgeStatus(data["status"])
        data["documents"] = [Document(**d) for d in data["documents"]]
        return cls(**data)


def key_for(kb_id: str) -> str:
    return KEY_PREFIX + kb_id


def run_key_for(kb_id: str) -> str:
    """The hash that records the base's index runs (qagen.knowledge.indexing's leases)."""
    return f"{KEY_PREFIX}{kb_id}:run"


def tenant_index_for(tenant: str) -> str:
    """A tenant's knowledge bases: a sorted set of ids scored by creation time."""
    return f"qagen:tenant:{tenant}:knowledge"


def prefix_for(tenant: str, kb_id: str) -> str:
    """Where a knowledge base's objects live in the bucket."""
    return f"tenants/{tenant}/knowledge/{kb_id}/"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class KnowledgeBaseStore:
    def __init__(self, client: redis.Redis):
        self.client = client

    @contextmanager
    def locked(self, kb_id: str) -> Iterator[None]:
        with self.client.lock(f"{key_for(kb_id)}:lock", timeout=30, blocking_timeout=30):
            yield

    def _save(self, kb: KnowledgeBase) -> None:
        kb.updated_at = time.time()
        self.client.set(key_for(kb.id), json.dumps(asdict(kb), default=lambda v: v.value))

    def create(self, tenant: str, name: str) -> KnowledgeBase:
        kb = KnowledgeBase(id=str(uuid.uuid4()), tenant=tenant, name=name, created_at=time.time())
        kb.updated_at = kb.created_at
        pipe = self.client.pipeline()  # MULTI: never a base its tenant cannot list
        pipe.set(key_for(kb.id), json.dumps(asdict(kb), default=lambda v: v.value))
        pipe.zadd(tenant_index_for(tenant), {kb.id: kb.created_at})
        pipe.execute()
        return kb

    def fetch(self, kb_id: str) -> KnowledgeBase:
        raw = self.client.get(key_for(kb_id))
        if raw is None:
            raise KnowledgeBaseNotFound(f"No knowledge base {kb_id!r}; it may have been deleted.")
        return KnowledgeBase.from_json(raw)

    def add_documents(self, kb_id: str, documents: list[Document]) -> KnowledgeBase:
        """Append documents and mark the base as needing a new index."""
        with self.locked(kb_id):
            kb = self.fetch(kb_id)
            kb.documents.extend(documents)
            kb.generation += 1
            kb.status = KnowledgeStatus.INDEXING
            kb.error = None
            self._save(kb)
            return kb

    def snapshot_for_indexing(self, kb_id: str) -> KnowledgeBase:
        with self.locked(kb_id):
            return self.fetch(kb_id)

    def finish_indexing(self, kb_id: str, generation: int, *, documents: list[Document], version: str | None,
                        index_key: str | None, chunk_count: int, error: str | None) -> bool:
        """Record a build of `generation`; False (nothing saved) if the base changed or vanished meanwhile."""
        with self.locked(kb_id):
            try:
                kb = self.fetch(kb_id)
            except KnowledgeBaseNotFound:
                return False
            if kb.generation != generation:
                return False
            by_id = {d.id: d for d in documents}
            kb.documents = [by_id.get(d.id, d) for d in kb.documents]
            kb.indexed_generation = generation
            kb.version, kb.index_key, kb.chunk_count = version, index_key, chunk_count
            kb.status = KnowledgeStatus.FAILED if error else KnowledgeStatus.READY
            kb.error = error
            self._save(kb)
            return True

    def fail_indexing(self, kb_id: str, generation: int, error: str) -> bool:
        """Mark `generation`'s build failed with `error`; False if the base changed or vanished meanwhile."""
        try:
            kb = self.fetch(kb_id)
        except KnowledgeBaseNotFound:
            return False
        return self.finish_indexing(kb_id, generation, documents=kb.documents, version=None, index_key=None,
                                    chunk_count=0, error=error)

    def delete(self, kb_id: str) -> None:
        with self.locked(kb_id):
            raw = self.client.get(key_for(kb_id))
            pipe = self.client.pipeline()
            pipe.delete(key_for(kb_id), run_key_for(kb_id))
            if raw is not None:
                pipe.zrem(tenant_index_for(json.loads(raw)["tenant"]), kb_id)
            pipe.execute()

    def list_for_tenant(self, tenant: str, *, limit: int = 20,
                        after: tuple[float, str] | None = None) -> tuple[list[KnowledgeBase], tuple[float, str] | None]:
        """The tenant's bases newest first, those after `after` (the (score, id) of the last one
        seen: equal scores are ordered by id, so none is skipped); and `after` for the next page."""
        self.ensure_tenant_index()
        index = tenant_index_for(tenant)
        upper = "+inf" if after is None else repr(after[0])
        found: list[tuple[KnowledgeBase, float]] = []
        stale: list[str] = []
        offset = 0
        while len(found) <= limit:
            batch = self.client.zrevrangebyscore(index, upper, "-inf", start=offset, num=limit + 1, withscores=True)
            if not batch:
                break
            offset += len(batch)
            ids = [(member.decode(), score) for member, score in batch]
            if after is not None:  # equal scores come in descending id order
                ids = [(kb_id, score) for kb_id, score in ids if score != after[0] or kb_id < after[1]]
            records = self.client.mget([key_for(kb_id) for kb_id, _ in ids]) if ids else []
            for (kb_id, score), raw in zip(ids, records):
                kb = KnowledgeBase.from_json(raw) if raw is not None else None
                if kb is None or kb.tenant != tenant:
                    stale.append(kb_id)  # deleted meanwhile (or never this tenant's): not listed
                    continue
                found.append((kb, score))
        if stale:
            self.client.zrem(index, *stale)
        if len(found) > limit:
            last, score = found[limit - 1]
            return [kb for kb, _ in found[:limit]], (score, last.id)
        return [kb for kb, _ in found], None

    def ensure_tenant_index(self) -> None:
        """Put every base made before the per-tenant sets existed in its tenant's, once.

        One SCAN of the keyspace, the first time any tenant lists its bases after an upgrade;
        a listing that finds another process doing it lists what is indexed so far.
        """
        if self.client.exists(BACKFILLED_KEY) or not self.client.set(_BACKFILL_LOCK, "1", nx=True, ex=300):
            return
        try:
            for name in self.client.scan_iter(match=KEY_PREFIX + "*", count=1000):
                if b":" in name[len(KEY_PREFIX):]:  # :run, :lock
                    continue
                try:
                    raw = self.client.get(name)
                    kb = KnowledgeBase.from_json(raw) if raw else None
                except (redis.ResponseError, ValueError, TypeError, KeyError):
                    continue  # not a base's record
                if kb is not None:
                    self.client.zadd(tenant_index_for(kb.tenant), {kb.id: kb.created_at}, nx=True)
            self.client.set(BACKFILLED_KEY, str(time.time()))
        finally:
            self.client.delete(_BACKFILL_LOCK)

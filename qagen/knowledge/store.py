"""Knowledge-base records: a named set of course documents and the state of its search index.

The record is JSON in Redis at `key_for(id)`; documents and the built index live in the
bucket under `knowledge/<id>/`. Every change to the document list bumps `generation`
under a per-base lock, and an index build saves its result only if the generation it
read is still current, so concurrent additions never leave a stale index marked ready.
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
        self._save(kb)
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
            self.client.delete(key_for(kb_id), run_key_for(kb_id))

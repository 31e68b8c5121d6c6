"""Building a knowledge base's index from its stored documents, and loading it for a job.

Worker side: imports the retrieval library lazily through qagen.knowledge.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import replace

from qagen.errors import InputError, NotFound
from qagen.knowledge.store import KnowledgeBaseNotFound, KnowledgeBaseStore, KnowledgeStatus, prefix_for
from qagen.storage import S3Storage

log = logging.getLogger(__name__)


class KnowledgeBaseUnavailable(InputError):
    """Raised when a job's knowledge base was deleted, failed to index, or is still indexing too long."""


def build_index(kb_id: str, store: KnowledgeBaseStore, storage: S3Storage) -> bool:
    """Index every document of the base; False when the base changed or vanished meanwhile."""
    from qagen.knowledge import KnowledgeIndex, chunk_document

    try:
        kb = store.snapshot_for_indexing(kb_id)
    except KnowledgeBaseNotFound:
        return False
    if kb.indexed_generation == kb.generation:
        return True
    chunks, documents = [], []
    for document in kb.documents:
        try:
            found = chunk_document(storage.get(document.key), document.filename)
            documents.append(replace(document, chunks=len(found), error=None))
            chunks.extend(found)
        except NotFound:
            documents.append(replace(document, chunks=0, error="The document is missing from storage."))
        except InputError as exc:
            documents.append(replace(document, chunks=0, error=str(exc)))
    if not chunks:
        errors = "; ".join(f"{d.filename}: {d.error}" for d in documents if d.error) or "no documents"
        return store.finish_indexing(kb_id, kb.generation, documents=documents, version=None, index_key=None,
                                     chunk_count=0, error=f"No document had readable text ({errors}).")
    index = KnowledgeIndex.build(chunks)
    key = f"{prefix_for(kb.tenant, kb_id)}index/{index.version}.bin"
    storage.put(key, index.to_bytes(), "application/octet-stream")
    saved = store.finish_indexing(kb_id, kb.generation, documents=documents, version=index.version, index_key=key,
                                  chunk_count=len(chunks), error=None)
    if not saved:
        _drop_unless_current(kb_id, key, store, storage)
    return saved


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

"""Knowledge bases: upload course notes once, answer many papers grounded in them."""

from __future__ import annotations

import logging
import uuid

from apiflask import APIBlueprint
from flask import g, request

from api.auth import require_key, require_key_or_launch
from api.errors import ApiError
from api.files import read_upload
from api import idempotency
from api.schemas import Empty, KnowledgeIn, KnowledgeOut
from api.services import services
from qagen.knowledge.store import (Document, KnowledgeBase, KnowledgeBaseNotFound, KnowledgeStatus, prefix_for,
                                   sha256)
from qagen.jobs.names import INDEX_KNOWLEDGE_BASE

log = logging.getLogger(__name__)
bp = APIBlueprint("knowledge", __name__, tag="Knowledge bases")

AUTH = {401: "Missing or invalid API key", 429: "Rate limited"}
FOUND = {**AUTH, 404: "No such knowledge base for this tenant"}
# All the documents were already in the base: nothing stored or indexed, the base as it is.
DUPLICATES = {200: {"description": "Every document was a duplicate: nothing to index (`skipped` says why)",
                    "content": {"application/json": {"schema": KnowledgeOut}}}}
UPLOAD = {**AUTH, 400: "Missing or empty document", 409: "Same Idempotency-Key in progress",
          413: "Too large", 415: "Not a document type qagen reads",
          422: "Idempotency-Key reused with a different body", 503: "Briefly unavailable"}

KNOWLEDGE_KINDS = {"pdf": "application/pdf", "text": "text/plain; charset=utf-8",
                   "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def owned_knowledge_base(kb_id: str) -> KnowledgeBase:
    """The caller's knowledge base; someone else's answers 404 exactly like a missing one."""
    try:
        kb = services().knowledge.fetch(kb_id)
    except KnowledgeBaseNotFound:
        kb = None
    if kb is None or kb.tenant != g.tenant:
        raise ApiError(404, "not_found", f"No knowledge base {kb_id!r}.")
    return kb


def _read_documents(kb: KnowledgeBase) -> tuple[list[tuple[Document, bytes, str]], list[dict]]:
    """Validate every uploaded file before storing any; duplicates of stored documents are skipped."""
    files = request.files.getlist("file")
    if not files:
        raise ApiError(400, "missing_file", "Send one or more documents as multipart form fields named 'file'.")
    known = {d.sha256 for d in kb.documents}
    accepted: list[tuple[Document, bytes, str]] = []
    skipped: list[dict] = []
    for file in files:
        name, data, kind = read_upload(file)
        if kind not in KNOWLEDGE_KINDS:
            raise ApiError(415, "unsupported_media_type",
                           f"{name}: images are not supported as notes; upload a PDF (scanned pages are read by OCR), a DOCX or a text file.")
        digest = sha256(data)
        if digest in known:
            skipped.append({"filename": name, "reason": "the same document is already in this knowledge base"})
            continue
        known.add(digest)
        doc_id = uuid.uuid4().hex[:12]
        key = f"{prefix_for(kb.tenant, kb.id)}docs/{doc_id}/{name}"
        accepted.append((Document(id=doc_id, filename=name, sha256=digest, size=len(data), key=key), data, kind))
    return accepted, skipped


def _store_and_index(kb: KnowledgeBase):
    s = services()
    accepted, skipped = _read_documents(kb)
    if not accepted:
        return {**kb.to_public(), "skipped": skipped}, 200
    for document, data, kind in accepted:
        s.storage.put(document.key, data, KNOWLEDGE_KINDS[kind])
    kb = s.knowledge.add_documents(kb.id, [document for document, _, _ in accepted])
    body = {**kb.to_public(), "skipped": skipped}
    idempotency.accept(body, 202, ref=kb.id)  # before the job exists (api/idempotency.py)
    s.celery.send_task(INDEX_KNOWLEDGE_BASE, args=[kb.id], queue=s.settings.queue)
    return body, 202


def reindex(kb_id: str) -> bool:
    """An accepted upload of notes whose request ended before it said the index job was queued:
    queue it again while the base is indexing (a duplicate drops out at the lease); False when the
    base is gone (removed after a failed request)."""
    s = services()
    try:
        kb = s.knowledge.fetch(kb_id)
    except KnowledgeBaseNotFound:
        return False
    if kb.status == KnowledgeStatus.INDEXING:
        s.celery.send_task(INDEX_KNOWLEDGE_BASE, args=[kb.id], queue=s.settings.queue)
    return True


@bp.post("/knowledge")
@require_key_or_launch
@bp.input(KnowledgeIn, location="form_and_files", arg_name="form")
@bp.output(KnowledgeOut, status_code=202, description="Accepted: documents stored, indexing started")
@bp.doc(security="BearerAuth", responses={**UPLOAD, **DUPLICATES}, operation_id="create_knowledge_base")
@idempotency.idempotent(recover=reindex)
def create(form: dict):
    """Create a knowledge base from one or more documents (field `file`, repeatable)"""
    name = (form.get("name") or "").strip()[:120] or "Course notes"
    s = services()
    kb = s.knowledge.create(g.tenant, name)
    try:
        return _store_and_index(kb)
    except Exception:
        # Refused or interrupted: leave no half-made base behind.
        s.knowledge.delete(kb.id)
        for key in s.storage.list_keys(prefix_for(kb.tenant, kb.id)):
            s.storage.delete(key)
        raise


@bp.post("/knowledge/<kb_id>/documents")
@require_key
@bp.input(KnowledgeIn, location="form_and_files", arg_name="form")
@bp.output(KnowledgeOut, status_code=202, description="Accepted: the base is re-indexed")
@bp.doc(security="BearerAuth", responses={**UPLOAD, **FOUND, **DUPLICATES}, operation_id="add_knowledge_documents")
@idempotency.idempotent(recover=reindex)
def add_documents(kb_id: str, form: dict):
    """Add documents to a knowledge base; it is re-indexed"""
    return _store_and_index(owned_knowledge_base(kb_id))


@bp.get("/knowledge/<kb_id>")
@require_key_or_launch
@bp.output(KnowledgeOut)
@bp.doc(security="BearerAuth", responses=FOUND, operation_id="get_knowledge_base")
def show(kb_id: str):
    """A knowledge base's documents, chunk count and indexing status"""
    return owned_knowledge_base(kb_id).to_public()


@bp.delete("/knowledge/<kb_id>")
@require_key
@bp.output(Empty, status_code=204, description="Deleted")
@bp.doc(security="BearerAuth", responses=FOUND, operation_id="delete_knowledge_base")
def delete(kb_id: str):
    """Delete a knowledge base, its documents and its index"""
    kb = owned_knowledge_base(kb_id)
    s = services()
    s.knowledge.delete(kb.id)
    for key in s.storage.list_keys(prefix_for(kb.tenant, kb.id)):
        s.storage.delete(key)
    return ""

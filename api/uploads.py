"""POST /api/upload: store the paper, create the session, enqueue the job."""

from __future__ import annotations

import logging
import uuid

from flask import Blueprint, g, request, url_for

from api.auth import require_key
from api.errors import ApiError
from api.files import CONTENT_TYPES, read_upload
from api.knowledge import owned_knowledge_base
from api.services import services
from qagen.sessions import Session
from qagen.tasknames import PROCESS_QUESTION_PAPER

log = logging.getLogger(__name__)
bp = Blueprint("uploads", __name__, url_prefix="/api")


@bp.post("/upload")
@require_key
def upload():
    """Accept a paper (multipart field `file`); answer 202 with where to follow the job."""
    s = services()
    file = request.files.get("file")
    if file is None:
        raise ApiError(400, "missing_file", "Send the paper as a multipart form field named 'file'.")
    filename, data, kind = read_upload(file)

    kb_id = (request.form.get("knowledge_base") or "").strip() or None
    if kb_id:
        owned_knowledge_base(kb_id)  # 404 now, not a failed job later

    session_id = str(uuid.uuid4())
    input_key = f"uploads/{session_id}/{filename}"
    s.storage.put(input_key, data, CONTENT_TYPES[kind])
    s.sessions.create(Session(id=session_id, owner=g.owner, filename=filename, input_key=input_key,
                                knowledge_base_id=kb_id))
    try:
        s.celery.send_task(PROCESS_QUESTION_PAPER, args=[session_id], task_id=session_id, queue=s.settings.queue)
    except Exception:
        # Not queued: leave nothing behind that looks like a job.
        log.exception("enqueue failed for session %s", session_id)
        s.sessions.delete(session_id)
        s.storage.delete(input_key)
        raise ApiError(503, "unavailable", "The job queue is briefly unavailable; retry shortly.", {"Retry-After": "5"})

    body = {
        "session_id": session_id,
        "status_url": url_for("sessions.status", session_id=session_id, _external=True),
        "download_url": url_for("sessions.download", session_id=session_id, _external=True),
    }
    return body, 202, {"Location": body["status_url"]}

"""POST /api/v1/upload: store the paper, create the session, enqueue the job."""

from __future__ import annotations

import logging
import uuid

from apiflask import APIBlueprint
from flask import g, url_for

from api.auth import require_key_or_launch
from api.errors import ApiError
from api.files import CONTENT_TYPES, read_upload
from api import idempotency
from api.knowledge import owned_knowledge_base
from api.schemas import Submission, UploadIn, UploadQuery
from api.services import services
from api.usage import reserve, unreserve
from qagen.errors import InputError, SessionNotFound
from qagen.jobs import fairness
from qagen.jobs.records import JobState, Session, object_prefix, patiently

log = logging.getLogger(__name__)
YES = ("true", "1", "yes", "on")
bp = APIBlueprint("uploads", __name__, tag="Sessions")

ERRORS = {400: "Missing, empty or invalid field", 401: "Missing or invalid API key",
          404: "Unknown knowledge base", 409: "Same Idempotency-Key still in progress",
          413: "Upload too large", 415: "Not a paper qagen reads",
          422: "Idempotency-Key reused with a different body, or callback URL refused",
          429: "Rate limited, or a monthly quota used up (quota_exceeded: docs/errors.md)",
          503: "Storage or queue briefly unavailable"}


def submission(session_id: str) -> dict[str, str]:
    def link(endpoint: str) -> str:
        return url_for(endpoint, session_id=session_id, _external=True)

    return {"session_id": session_id, "status_url": link("sessions.status"), "download_url": link("sessions.download"),
            "events_url": link("sessions.events"), "result_url": link("sessions.result"),
            "paper_url": link("review.get_paper"), "answer_url": link("review.answer")}


def _review(form: dict, query: dict) -> bool:
    """The upload's `review`, from the form or the query string (a yes in either)."""
    return any((source.get("review") or "").strip().lower() in YES for source in (form, query))


def _discard_input(storage, key: str) -> None:
    try:
        storage.delete(key)
    except Exception:
        log.warning("could not remove the orphaned upload %s", key)


def requeue(session_id: str) -> bool:
    """An accepted upload whose request ended before it said the job was queued (api/idempotency.py):
    queue the job again if it has not started (a duplicate drops out at the lease); False when the
    session is gone (its enqueue failed and it was removed)."""
    s = services()
    try:
        session = s.sessions.fetch(session_id)
    except SessionNotFound:
        return False
    if session.status == JobState.QUEUED:
        try:
            fairness.enqueue(s.redis, s.celery, s.settings, session_id, session.tenant)  # no-op if waiting already
        except Exception as exc:
            log.exception("enqueue failed for session %s", session_id)
            raise ApiError(503, "unavailable", "The job queue is briefly unavailable; retry shortly.",
                           {"Retry-After": "5"}) from exc
    return True


def _callback(url: str | None) -> str | None:
    if not url:
        return None
    from qagen.webhooks import validate_callback_url

    try:
        return validate_callback_url(url, services().settings.webhook_allow)
    except InputError as exc:
        raise ApiError(422, "callback_refused", str(exc)) from exc


@bp.post("/upload")
@require_key_or_launch
@bp.input(UploadIn, location="form_and_files", arg_name="form")
@bp.input(UploadQuery, location="query", arg_name="query")
@bp.output(Submission, status_code=202, description="Accepted: follow status_url or events_url")
@bp.doc(security="BearerAuth", responses=ERRORS,
        description="Upload a question paper; answers 202 with where to follow the job. Send an "
                    "`Idempotency-Key` header to make retries safe.", operation_id="upload_paper")
@idempotency.idempotent(recover=requeue)
def upload(form: dict, query: dict):
    """Submit a paper"""
    s = services()
    filename, data, kind = read_upload(form["file"])
    kb_id = (form.get("knowledge_base") or "").strip() or None
    if kb_id:
        owned_knowledge_base(kb_id)  # 404 now, not a failed job later
    callback_url = _callback(form.get("callback_url"))

    session_id = str(uuid.uuid4())
    input_key = f"{object_prefix(g.tenant, session_id)}input/{filename}"
    s.storage.put(input_key, data, CONTENT_TYPES[kind])
    return start_session(session_id, filename, input_key, kb_id, callback_url, _review(form, query))


def start_session(session_id: str, filename: str, input_key: str, kb_id: str | None, callback_url: str | None,
                  review: bool) -> tuple[dict, int, dict[str, str]]:
    """Create the session of an upload stored at `input_key` and queue its job: the 202 answer.
    Shared with the direct upload (api/direct_uploads.py); the input is removed when it fails."""
    s = services()
    reserve(g.tenant, input_key)  # the monthly quotas: 429 quota_exceeded over one (api/usage.py)
    try:
        s.sessions.create(Session(id=session_id, tenant=g.tenant, filename=filename, input_key=input_key,
                                  knowledge_base_id=kb_id, callback_url=callback_url, review=review,
                                  owner=g.get("owner"),  # a teacher launched from an LMS (api/lti/)
                                  # deleted with the session (qagen.lifecycle.delete_session)
                                  idempotency_record=getattr(g.get("idempotency"), "key", None)))
    except Exception:
        _discard_input(s.storage, input_key)  # no session will ever point at it
        unreserve(g.tenant)
        raise
    body = submission(session_id)
    headers = {"Location": body["status_url"]}
    try:
        # With an Idempotency-Key, the answer is recorded before the job exists: a retry finds it
        # whatever happens to this request next (api/idempotency.py).
        idempotency.accept(body, 202, headers, ref=session_id)
        fairness.enqueue(s.redis, s.celery, s.settings, session_id, g.tenant)  # docs/fairness.md
    except Exception:
        # Not queued: leave nothing behind that looks like a job.
        log.exception("enqueue failed for session %s", session_id)
        unreserve(g.tenant)
        try:
            patiently(lambda: s.sessions.delete(session_id, g.tenant), 5.0)
        except Exception:  # Redis still away: the record expires with the session ttl; the 503 stands
            # Its upload stays with it: a retry with the same Idempotency-Key may still queue it.
            log.exception("could not remove the unqueued session %s", session_id)
        else:
            _discard_input(s.storage, input_key)
        raise ApiError(503, "unavailable", "The job queue is briefly unavailable; retry shortly.", {"Retry-After": "5"})
    return body, 202, headers

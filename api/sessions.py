"""GET a session's status, and its answered PDF as a redirect to a signed URL."""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, g, redirect

from api.auth import require_key
from api.errors import ApiError
from api.services import services
from qagen.errors import SessionNotFound
from qagen.sessions import Session, SessionStatus

bp = Blueprint("sessions", __name__, url_prefix="/api")


def _owned_session(session_id: str) -> Session:
    """The caller's session; someone else's answers 404 exactly like a missing one."""
    try:
        session = services().sessions.fetch(session_id)
    except SessionNotFound:
        session = None
    if session is None or session.owner != g.owner:
        raise ApiError(404, "not_found", f"No session {session_id!r}.")
    return session


@bp.get("/sessions/<session_id>")
@require_key
def status(session_id: str):
    return _owned_session(session_id).to_public()


@bp.get("/download/<session_id>")
@require_key
def download(session_id: str):
    """302 to a short-lived signed URL for the answered PDF; 409 until the job is complete."""
    session = _owned_session(session_id)
    if session.status != SessionStatus.COMPLETE or not session.result_key:
        detail = f" It failed: {session.error}" if session.status == SessionStatus.FAILED else ""
        raise ApiError(409, "not_ready", f"The answers are not ready (status: {session.status.value}).{detail}")
    s = services()
    filename = f"{PurePath(session.filename).stem}-answers.pdf"
    url = s.storage.signed_url(session.result_key, s.settings.signed_url_ttl_seconds, filename)
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response

"""A tenant's sessions: status, list, live progress (SSE), the result as JSON, the PDF; deletion."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone
from pathlib import PurePath

from apiflask import APIBlueprint
from flask import Response, g, redirect, stream_with_context, url_for

from api.auth import require_key_or_launch
from api.errors import ApiError
from api.schemas import (DownloadQuery, EventsQuery, PaperOut, SessionList, SessionListQuery, SessionOut,
                         SessionTokenOut)
from api.schemas import Empty
from api.services import services
from api.session_tokens import TTL_SECONDS, mint, require_session_access
from api.streams import open_stream
from qagen.errors import NotFound, SessionNotFound
from qagen.jobs.records import JobState, Session

bp = APIBlueprint("sessions", __name__, tag="Sessions")

AUTH = {401: "Missing or invalid API key", 429: "Rate limited"}
FOUND = {**AUTH, 404: "No such session for this tenant"}
READY = {**FOUND, 409: "Not complete yet (the message says why, e.g. the failure)"}
FINAL = (JobState.COMPLETE, JobState.FAILED)
# The event stream and the download: the key in the header, or a session token in the query.
LINK_AUTH = ["BearerAuth", "SessionToken"]


def owned_session(session_id: str) -> Session:
    """The caller's session; another tenant's answers 404 exactly like a missing one, and so does,
    for a teacher launched from an LMS (`g.owner`), another teacher's."""
    try:
        session = services().sessions.fetch(session_id)
    except SessionNotFound:
        session = None
    owner = g.get("owner")
    if session is None or session.tenant != g.tenant or (owner is not None and session.owner != owner):
        raise ApiError(404, "not_found", f"No session {session_id!r}.")
    return session


def complete_session(session_id: str) -> Session:
    session = owned_session(session_id)
    if session.status != JobState.COMPLETE or not session.result_key:
        detail = f" It failed: {session.error}" if session.status == JobState.FAILED else ""
        raise ApiError(409, "not_ready", f"The answers are not ready (status: {session.status.value}).{detail}")
    return session


@bp.get("/sessions/<session_id>")
@require_key_or_launch
@bp.output(SessionOut)
@bp.doc(security="BearerAuth", responses=FOUND, operation_id="get_session")
def status(session_id: str):
    """A session's status, stage and progress"""
    return owned_session(session_id).to_public()


@bp.delete("/sessions/<session_id>")
@require_key_or_launch
@bp.output(Empty, status_code=204, description="Deleted: the record, the upload, the PDF, result.json, the "
                                                "session's webhook and Idempotency-Key records")
@bp.doc(security="BearerAuth", responses={**FOUND, 503: "Storage briefly unavailable; try again (the session is "
                                                        "not deleted yet)"}, operation_id="delete_session")
def delete(session_id: str):
    """Delete a session and everything stored for it; a running job is stopped"""
    from qagen.lifecycle import delete_session

    session = owned_session(session_id)
    s = services()
    delete_session(s.redis, s.storage, session)
    return ""


@bp.get("/sessions")
@require_key_or_launch
@bp.input(SessionListQuery, location="query", arg_name="query")
@bp.output(SessionList)
@bp.doc(security="BearerAuth", responses={**AUTH, 400: "Invalid query"}, operation_id="list_sessions")
def list_sessions(query: dict):
    """The tenant's sessions, newest first, with a cursor for the next page"""
    before = None
    if query.get("cursor"):
        try:
            before = float(query["cursor"])
        except ValueError as exc:
            raise ApiError(400, "bad_cursor", "The cursor is not one this API returned.") from exc
        if not math.isfinite(before):  # 'nan' and 'inf' parse, but Redis refuses them (a 503)
            raise ApiError(400, "bad_cursor", "The cursor is not one this API returned.")
    status_filter = JobState(query["status"]) if query.get("status") else None
    found, next_score = services().sessions.list_for_tenant(g.tenant, limit=query["limit"], status=status_filter,
                                                            before=before, owner=g.get("owner"))
    return {"sessions": [s.to_public() for s in found],
            "next_cursor": repr(next_score) if next_score is not None else None}


@bp.post("/sessions/<session_id>/token")
@require_key_or_launch
@bp.output(SessionTokenOut, description="A token for this session's event stream and download, and both links")
@bp.doc(security="BearerAuth", responses=FOUND, operation_id="create_session_token")
def session_token(session_id: str):
    """A short-lived token for the links that cannot send headers (EventSource, downloads)"""
    owned_session(session_id)
    token, grant = mint(services().redis, g.tenant, session_id)

    def link(endpoint: str) -> str:
        return url_for(endpoint, session_id=session_id, access_token=token, _external=True)

    return {"access_token": token, "token_type": "session", "session_id": session_id, "expires_in": TTL_SECONDS,
            "expires_at": datetime.fromtimestamp(grant.expires_at, timezone.utc).isoformat(timespec="seconds"),
            "events_url": link("sessions.events"), "download_url": link("sessions.download")}


EVENTS_HELP = (
    "Events, each `event: <type>`, `id: <updated_at>` (not on `gone`) and one `data:` line of JSON:\n"
    "- `progress`: the session (SessionOut) whenever it changes, while it is queued or running;\n"
    "- `done`: the session (SessionOut) once it is complete or failed; the stream ends;\n"
    "- `review`: the session (SessionOut) once it is awaiting review; the stream ends (open it again after "
    "POST .../answer);\n"
    "- `gone`: `{\"code\": \"not_found\", \"message\"}` (ErrorBody) when the session expired or was deleted; "
    "the stream ends.\n"
    "The stream opens with `retry: 2000` and sends `: keep-alive` comments between events; it ends after "
    "QAGEN_SSE_MAX_SECONDS, and an EventSource reconnects by itself.")
EVENTS_EXAMPLE = ("retry: 2000\n\nevent: progress\nid: 2026-12-05T10:00:01.250Z\ndata: {\"session_id\": \"6f5d...\", "
                  "\"status\": \"running\", \"progress\": 47, ...}\n\nevent: done\nid: 2026-12-05T10:00:09.800Z\n"
                  "data: {\"session_id\": \"6f5d...\", \"status\": \"complete\", \"progress\": 100, ...}\n\n")


def _sse(event: str, data: dict, event_id: str | None = None) -> str:
    lines = [f"event: {event}"] + ([f"id: {event_id}"] if event_id else [])
    return "\n".join(lines) + f"\ndata: {json.dumps(data)}\n\n"


@bp.get("/sessions/<session_id>/events")
@require_session_access
@bp.input(EventsQuery, location="query", arg_name="query")
@bp.doc(security=LINK_AUTH, operation_id="stream_session_events", responses={
    **FOUND, 200: {"description": "The session's progress as Server-Sent Events (text/event-stream)",
                   "headers": {"Cache-Control": {"description": "no-cache", "schema": {"type": "string"}},
                               "X-Accel-Buffering": {"description": "no: a proxy passes each event on at once",
                                                     "schema": {"type": "string"}}},
                   "content": {"text/event-stream": {"schema": {"type": "string", "description": EVENTS_HELP},
                                                     "example": EVENTS_EXAMPLE}}},
    429: "Rate limited, or too many streams open (the tenant's, or this server's): poll the status instead, or "
         "retry after Retry-After"})
def events(session_id: str, query: dict):
    """Live progress as Server-Sent Events until the session is done"""
    owned_session(session_id)
    settings = services().settings
    sessions = services().sessions
    # A slot of this process's and one of the tenant's, or 429; given back when the response
    # closes, however it ends (api/streams.py).
    slot = open_stream(g.tenant)

    def stream():
        yield "retry: 2000\n\n"
        last_sent = None
        deadline = time.monotonic() + settings.sse_max_seconds
        while time.monotonic() < deadline:
            try:
                session = sessions.fetch(session_id)
            except SessionNotFound:
                # Not "error": EventSource reports that name like a dropped connection.
                yield _sse("gone", {"code": "not_found", "message": "The session expired or was deleted."})
                return
            public = session.to_public()
            if session.status == JobState.AWAITING_REVIEW:
                # Waiting for a person, maybe for hours: say so and end (open it again after POST .../answer).
                yield _sse("review", public, public["updated_at"])
                return
            if public != last_sent:
                done = session.status in FINAL
                yield _sse("done" if done else "progress", public, public["updated_at"])
                if done:
                    return
                last_sent = public
                slot.wrote()
            elif slot.heartbeat_due():
                yield ": keep-alive\n\n"  # a write to a client that is gone fails
            if not slot.wait(settings.sse_poll_seconds):
                return  # the client closed the connection
        # The client reconnects by itself (EventSource) and picks up from here.

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    response = Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)
    response.call_on_close(slot.close)
    return response


@bp.get("/sessions/<session_id>/result.json")
@require_key_or_launch
@bp.output(PaperOut, description="The parsed paper with an answer on every question and part")
@bp.doc(security="BearerAuth", responses=READY, operation_id="get_session_result")
def result(session_id: str):
    """The answers as JSON, for LMS import"""
    return stored_json(complete_session(session_id).result_json_key, "result")


def stored_json(key: str, what: str) -> dict:
    """A session's JSON object from the bucket; 404 once it has expired from storage."""
    try:
        return json.loads(services().storage.get(key))
    except NotFound as exc:
        raise ApiError(404, "not_found", f"The {what} has expired from storage.") from exc


@bp.get("/download/<session_id>")
@require_session_access
@bp.input(DownloadQuery, location="query", arg_name="query")
@bp.doc(security=LINK_AUTH, operation_id="download_session_pdf", responses={
    **READY, 302: {"description": "Redirect to a signed, short-lived URL of the PDF; no body",
                   "headers": {"Location": {"description": "The signed URL (the object store's, with a "
                                                           "Content-Disposition filename)", "required": True,
                                            "schema": {"type": "string", "format": "uri"}},
                               "Cache-Control": {"description": "no-store", "schema": {"type": "string"}}}},
    200: {"description": "What a client that follows the redirect receives from the signed URL (the object "
                         "store answers, not this API): the PDF",
          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
def download(session_id: str, query: dict):
    """The answered PDF: a redirect to a signed download URL"""
    session = complete_session(session_id)
    s = services()
    filename = f"{PurePath(session.filename).stem}-answers.pdf"
    expires = query.get("expires_in") or s.settings.signed_url_ttl_seconds
    url = s.storage.signed_url(session.result_key, expires, filename)
    response = redirect(url, code=302)
    response.set_data(b"")  # no body: Location is the answer
    del response.headers["Content-Type"]
    response.headers["Cache-Control"] = "no-store"
    return response

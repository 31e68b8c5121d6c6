"""Review (docs/review.md): read and replace a parsed paper, then have it answered.

GET/PUT /api/v1/sessions/{id}/paper and POST /api/v1/sessions/{id}/answer. The session's moves
are the scripts of qagen.jobs.review; an edited paper is checked by qagen.paper_input
(the limits of parsing) and stored as a new object before it becomes the session's, so a
refused or lost request changes nothing.
"""

from __future__ import annotations

import json
import logging
import time

from apiflask import APIBlueprint
from flask import g, request

from api import idempotency
from api.errors import ApiError
from api.schemas import PaperOut, Submission
from api.services import services
from api.auth import require_key_or_launch
from api.sessions import FOUND, owned_session, stored_json
from api.uploads import submission
from qagen.jobs import fairness
from qagen.jobs.records import JobState
from qagen.jobs.review import begin_answering, paper_key, replace_paper, undo_answering
from qagen.paper_input import PaperInvalid, read_paper

log = logging.getLogger(__name__)
bp = APIBlueprint("review", __name__, tag="Review")

# An edited paper's JSON: all the text a paper may hold (qagen.paper_input), escaped, with room for its structure.
MAX_PAPER_BYTES = 8 * 1024 * 1024
NOT_IN_REVIEW = "The session is not awaiting review"


def _not_in_review(session_status: str) -> ApiError:
    hint = {"queued": " It was already sent on to be answered, or is still waiting to be parsed.",
            "running": " It is being parsed or answered.",
            "complete": " It is answered already.", "failed": " It failed."}.get(session_status, "")
    return ApiError(409, "not_in_review", f"{NOT_IN_REVIEW} (status: {session_status}).{hint} Only a session "
                    "uploaded with review=true, once parsed, can have its questions changed or be sent on.")


@bp.get("/sessions/<session_id>/paper")
@require_key_or_launch
@bp.output(PaperOut, description="The parsed paper (its warnings and confidence); `answer` is null throughout")
@bp.doc(security="BearerAuth", responses={**FOUND, 409: "No parsed paper stored: the session is still queued or "
                                                        "parsing, or was uploaded without review"},
        operation_id="get_session_paper")
def get_paper(session_id: str):
    """The parsed questions of a session uploaded with review"""
    session = owned_session(session_id)
    if not session.paper_key:
        raise ApiError(409, "not_parsed", f"No parsed paper is stored for this session (status: "
                       f"{session.status.value}). Upload with review=true to check the questions; the paper "
                       "is here once the status is awaiting_review.")
    return stored_json(session.paper_key, "paper")


@bp.put("/sessions/<session_id>/paper")
@require_key_or_launch
@bp.output(PaperOut, description="The paper as stored; it is what POST .../answer answers")
@bp.doc(security="BearerAuth", responses={
    **FOUND, 400: "The body is not JSON", 409: NOT_IN_REVIEW + " (nothing was changed)",
    413: "The body is larger than the limit", 415: "Not application/json",
    422: "The paper breaks the schema or a limit: error.detail maps each field's path to the problem"},
    operation_id="replace_session_paper")
@idempotency.idempotent
def put_paper(session_id: str):
    """Replace the parsed questions (only while the session is awaiting review)"""
    session = owned_session(session_id)
    if session.status != JobState.AWAITING_REVIEW:
        raise _not_in_review(session.status.value)
    s = services()
    try:
        paper = read_paper(_json_body(), max_pages=s.settings.max_pages)
    except PaperInvalid as exc:
        raise ApiError(422, "invalid_paper", str(exc), detail=exc.problems) from None
    key = paper_key(session.tenant, session_id, time.time_ns())
    s.storage.put(key, json.dumps(paper.to_dict(), ensure_ascii=False).encode(), "application/json")
    outcome = replace_paper(s.redis, session_id, key, paper)
    if outcome.detail:
        _discard(outcome.detail)  # the replaced paper, or this one if it came too late
    if outcome.status == "gone":
        raise ApiError(404, "not_found", f"No session {session_id!r}.")
    if not outcome.ok:
        raise _not_in_review(outcome.status)
    return paper.to_dict()


@bp.post("/sessions/<session_id>/answer")
@require_key_or_launch
@bp.output(Submission, status_code=202, description="Queued to answer the stored paper: follow status_url or "
                                                     "events_url as after an upload")
@bp.doc(security="BearerAuth", responses={**FOUND, 409: NOT_IN_REVIEW + " (e.g. it was already sent on: "
                                                         "continuing twice starts one job)",
                                          503: "The queue is briefly unavailable; retry (the session stays in review)"},
        operation_id="answer_session")
@idempotency.idempotent
def answer(session_id: str):
    """Answer the checked questions: the job goes on from the stored paper, with no re-parse"""
    session = owned_session(session_id)
    s = services()
    outcome = begin_answering(s.redis, session_id)
    if outcome.status == "gone":
        raise ApiError(404, "not_found", f"No session {session_id!r}.")
    if not outcome.ok:
        raise _not_in_review(outcome.status)
    body = submission(session_id)
    headers = {"Location": body["status_url"]}
    try:
        fairness.enqueue(s.redis, s.celery, s.settings, session_id, session.tenant)  # docs/fairness.md
    except Exception as exc:
        log.exception("enqueue failed for session %s", session_id)
        try:
            undo_answering(s.redis, session_id, outcome.detail, session.question_count)
        except Exception:
            log.exception("session %s: could not put it back in review", session_id)
        raise ApiError(503, "unavailable", "The job queue is briefly unavailable; retry shortly.",
                       {"Retry-After": "5"}) from exc
    return body, 202, headers


def _json_body():
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the paper as JSON (Content-Type: application/json).")
    # Read whole (bounded by the app's MAX_CONTENT_LENGTH) before refusing it: answering while the client
    # is still sending makes it see a dropped connection instead of the 413.
    raw = request.get_data(cache=True)
    if len(raw) > MAX_PAPER_BYTES:
        raise _too_large()
    try:
        return json.loads(raw)
    except RecursionError as exc:
        raise ApiError(422, "invalid_paper", "The paper is nested deeper than any paper.",
                       detail={"(body)": "is nested deeper than any paper"}) from exc
    except ValueError as exc:
        raise ApiError(400, "bad_json", f"The body is not valid JSON: {exc}.") from exc


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"The paper is larger than the {MAX_PAPER_BYTES // 2**20} MB limit "
                    "for an edited paper.")


def _discard(key: str) -> None:
    try:
        services().storage.delete(key)
    except Exception:  # left for the sweep (qagen.lifecycle): it removes objects no session references
        log.warning("could not remove the paper object %s", key)

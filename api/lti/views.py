"""The LTI 1.3 routes: OIDC login, launch, deep-linking answer, the tool's JWKS (docs/lti.md).

A launch opens one of three things, by what the platform asks:
- a deep-linking request (a teacher adding content): the teacher's finished sessions to pick
  from; the choice goes back to the platform as a signed LTI resource link (`POST /lti/deep-link`);
- a resource link qagen returned that way (custom parameters `qagen_session_id` and its signature
  `qagen_link`, qagen.lti.keys.link_signature): the answered PDF, through a signed short-lived
  URL, as `GET /api/v1/download/{id}` gives it;
- any other resource link: the teachers' upload page, with a launch token for that teacher.
Students may open the PDFs a teacher added; the upload page and deep linking are for the
course's instructors, teaching assistants, content developers and administrators.
"""

from __future__ import annotations

import hmac
from pathlib import PurePath

from flask import Blueprint, current_app, g, jsonify, redirect, request, url_for
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException

from api.errors import ApiError
from api.lti import pages, tool
from api.services import services
from qagen.jobs.records import JobState
from qagen.lti import grants
from qagen.lti.keys import link_signature
from qagen.lti.registry import origin_of

bp = Blueprint("lti", __name__, url_prefix="/lti")
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
SESSION_PARAMETER = "qagen_session_id"
SIGNATURE_PARAMETER = "qagen_link"  # qagen.lti.keys.link_signature
DEEP_LINK_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
PICKER_SIZE = 50


@bp.errorhandler(ApiError)
def _refused(error: ApiError):
    """In the LMS's frame a browser shows the refusal as a page; any other client gets the API's JSON."""
    accepted = request.accept_mimetypes
    if accepted["text/html"] > accepted["application/json"]:
        return pages.refusal(error.status_code, (error.extra_data or {})["code"], error.message, error.headers)
    return current_app.error_callback(error)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """OIDC third-party initiated login: remember a state (cookie) and a nonce, send the browser to the platform."""
    redis = services().redis
    oidc, _ = tool.oidc_login(redis)
    try:
        return oidc.redirect(url_for("lti.launch", _external=True))
    except (LtiException, OIDCException, AssertionError) as exc:
        raise tool.refusal(exc) from exc


@bp.post("/launch")
def launch():
    """The platform's POST of the id_token: validated, then the page, the picker or the PDF."""
    redis = services().redis
    message = tool.message_launch(redis)
    try:
        data = message.get_launch_data()
        tenant, platform = message.tenant(), message.platform()
    except (LtiException, OIDCException, AssertionError) as exc:
        raise tool.refusal(exc) from exc
    origins = platform.framing_origins()
    custom = data.get(CUSTOM) or {}
    session_id = str(custom.get(SESSION_PARAMETER) or "").strip()
    if session_id and not message.is_deep_link_launch():
        return _pdf(tenant, session_id, str(custom.get(SIGNATURE_PARAMETER) or ""))
    if not data.get("sub"):
        raise ApiError(401, "lti_launch_refused", "The launch names no user (an anonymous launch): qagen needs to "
                                                  "know which teacher's sessions to show.")
    if not _teaches(message):
        raise ApiError(403, "lti_not_instructor", "Only the course's instructors may upload papers to qagen or add "
                                                  "its answers; students open the answers their teacher added.")
    owner = grants.owner_of(message.get_iss(), data["sub"])
    token, _ = grants.mint(redis, tenant, owner, message.get_launch_id(), message.is_deep_link_launch(), origins)
    if not message.is_deep_link_launch():
        return pages.launch_page(token, origins)
    finished, _ = services().sessions.list_for_tenant(tenant, limit=PICKER_SIZE, status=JobState.COMPLETE,
                                                      owner=owner)
    return pages.deep_link_picker(token, finished, origins)


def _teaches(message: tool.Launch) -> bool:
    return any(check() for check in (message.check_teacher_access, message.check_teaching_assistant_access,
                                     message.check_designer_access, message.check_staff_access))


def _pdf(tenant: str, session_id: str, signature: str):
    from api.sessions import complete_session

    if not hmac.compare_digest(signature, link_signature(services().redis, tenant, session_id)):
        # Not a link qagen made for this tenant (its parameters were edited): as for a missing paper.
        raise ApiError(404, "not_found", f"No session {session_id!r}.")
    g.tenant = tenant  # any teacher's or student's launch of the deployment: the link was added to the course
    session = complete_session(session_id)
    s = services()
    url = s.storage.signed_url(session.result_key, s.settings.signed_url_ttl_seconds,
                               f"{PurePath(session.filename).stem}-answers.pdf")
    response = redirect(url, code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/deep-link")
def deep_link():
    """The teacher's choice on the picker: a signed LTI resource link for it, posted back to the platform."""
    from api.sessions import complete_session

    redis = services().redis
    grant = grants.lookup(redis, (request.form.get("launch_token") or "").strip())
    if grant is None:
        raise ApiError(401, "invalid_token", "This LMS launch has expired: add qagen's content again from the course.")
    if not grant.deep_linking:
        raise ApiError(400, "lti_not_deep_linking", "This launch was not for adding content: choose qagen in "
                                                    "the course's “add an activity or resource” to add an answered "
                                                    "paper.")
    g.tenant, g.owner = grant.tenant, grant.owner
    session = complete_session((request.form.get("session_id") or "").strip())
    try:
        message = tool.restored_launch(redis, grant.launch_id)
        settings = message.get_launch_data().get(DEEP_LINK_SETTINGS) or {}
        link = message.get_deep_link()
    except (LtiException, OIDCException, AssertionError) as exc:
        raise tool.refusal(exc) from exc
    resource = (DeepLinkResource().set_url(url_for("lti.launch", _external=True))
                .set_title(f"{PurePath(session.filename).stem} (answers)")
                .set_custom_params({SESSION_PARAMETER: session.id,
                                    SIGNATURE_PARAMETER: link_signature(redis, grant.tenant, session.id)}))
    return_url = settings["deep_link_return_url"]
    jwt = link.get_response_jwt([resource])
    return pages.auto_post(return_url, jwt, grant.frame_origins, origin_of(return_url))


@bp.get("/jwks.json")
def jwks():
    """The tool's public key, with which platforms check the deep-linking answers qagen signs."""
    response = jsonify(tool.ToolConf(services().redis).jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response

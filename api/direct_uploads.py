"""Direct-to-bucket uploads (docs/direct-uploads.md): the file goes from the client to the bucket.

1. `POST /api/v1/uploads/direct` answers a presigned POST form for one object,
   `sessions/<tenant>/<upload_id>/pending`, that the bucket accepts only with 1..max_upload_bytes
   bytes, at exactly that key, until the form expires (the signed policy: the bucket enforces it).
2. The client POSTs the file to `url` with `fields`, straight to the bucket.
3. `POST /api/v1/uploads/direct/{upload_id}/session` checks the object (its size, and its first
   bytes, read in one ranged GET, sniffed like the multipart upload's: 415 and the object removed
   when it is not a paper), copies it server-side to the session's input key
   (`.../input/<filename>`, of the very version checked: the copy is conditional on its ETag),
   removes the pending object, and creates the session and queues its job exactly like
   POST /api/v1/upload (api/uploads.start_session). The worker is unchanged: it reads the
   session's input key and sniffs and limits the file as it always does.

The upload id becomes the session id, so the pending object lies under the session's own prefix:
an abandoned one is removed by the bucket's expiry rule and by the sweep (qagen/lifecycle.py: no
session record owns it, so it goes once older than the grace period), a used one with the session.
Another tenant's upload id finds nothing under the caller's prefix: 404, exactly like an id that
was never uploaded (and, once it made a session, like any other tenant's session).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

from apiflask import APIBlueprint, Schema
from apiflask.fields import URL, Dict, Integer, String
from apiflask.validators import Length, OneOf
from botocore.exceptions import ClientError
from flask import after_this_request, current_app, g, request

from api import idempotency
from api.auth import require_key_or_launch
from api.errors import ApiError
from api.files import CONTENT_TYPES, safe_filename
from api.knowledge import owned_knowledge_base
from api.schemas import FLAG, ID, LINK, REVIEW_HELP, REVIEW_VALUES, TIMESTAMP, Submission
from api.services import services
from api.uploads import _callback, _discard_input, requeue, start_session
from qagen.documents.filetypes import sniff_kind
from qagen.errors import EmptyFile, NotFound, UnsupportedFileType
from qagen.jobs.records import key_for, object_prefix

log = logging.getLogger(__name__)
bp = APIBlueprint("direct_uploads", __name__, tag="Sessions")

FORM_SECONDS = 600  # how long a form lets its holder upload
# looks_like_text samples 64 KiB and needs to know whether there is more; a .docx (a ZIP) is read whole.
SNIFF_BYTES = 65536 + 1
CLAIM_PREFIX = "qagen:direct-upload:"  # + upload id: the one request turning it into a session
YES = ("true", "1", "yes", "on")


class DirectUploadOut(Schema):
    upload_id = String(required=True, metadata={**ID, "description": "Becomes the session id."})
    url = String(required=True, metadata={**LINK, "description": "POST the file here (multipart/form-data)."})
    fields = Dict(keys=String(), values=String(), required=True,
                  metadata={"description": "Send these form fields, in this order, before the `file` field."})
    expires_at = String(required=True, metadata={**TIMESTAMP, "description": "The form is refused after this."})
    max_bytes = Integer(required=True, metadata={"description": "The largest file the bucket accepts."})


class DirectSessionIn(Schema):
    filename = String(validate=Length(max=255), metadata={"description": "The paper's file name (default paper)."})
    knowledge_base = String(validate=Length(max=64),
                            metadata={**ID, "description": "Ground answers in this knowledge base (its id)."})
    callback_url = URL(schemes={"http", "https"}, validate=Length(max=2048),
                       metadata={**LINK, "description": "Receives a signed webhook when the session completes or "
                                                        "fails (and, with review, when it is parsed)."})
    review = String(validate=OneOf(REVIEW_VALUES), metadata={**FLAG, "description": REVIEW_HELP})


FORM_ERRORS = {401: "Missing or invalid API key", 409: "Same Idempotency-Key still in progress",
               422: "Idempotency-Key reused with a different body", 429: "Rate limited",
               503: "Storage briefly unavailable"}
SESSION_ERRORS = {400: "Invalid field, or the uploaded file is empty", 401: "Missing or invalid API key",
                  404: "Nothing uploaded with this form (yet) under this tenant, or unknown knowledge base",
                  409: "The upload already made a session, or the same Idempotency-Key still in progress",
                  413: "Upload too large", 415: "Not a paper qagen reads (the upload is removed)",
                  422: "Idempotency-Key reused with a different body, or callback URL refused",
                  429: "Rate limited, or a monthly quota used up (quota_exceeded: docs/errors.md)",
                  503: "Storage or queue briefly unavailable"}


@bp.after_app_request
def _page_may_post_to_the_bucket(response):
    """The page (api/web.py, `connect-src 'self'`) sends large papers straight to the bucket: allow
    exactly the bucket's public origin, the one forms are signed for, and no other."""
    policy = response.headers.get("Content-Security-Policy")
    if request.blueprint == "web" and policy and "connect-src 'self'" in policy:
        endpoint = urlsplit(services().settings.signing_endpoint)
        origin = f"{endpoint.scheme}://{endpoint.netloc}"
        response.headers["Content-Security-Policy"] = policy.replace("connect-src 'self'",
                                                                     f"connect-src 'self' {origin}", 1)
    return response


def pending_key(tenant: str, upload_id: str) -> str:
    return f"{object_prefix(tenant, upload_id)}pending"


def _upload_limit():
    """The upload rate limit (QAGEN_UPLOAD_RATE_LIMIT), for the form that starts each direct upload:
    one budget for both paths (/api/v1 and /api) of this route."""
    limiter = next(iter(current_app.extensions["limiter"]))
    return limiter.limit(services().settings.upload_rate_limit)


@bp.post("/uploads/direct")
@require_key_or_launch
@bp.output(DirectUploadOut, status_code=201, description="A form to POST the file to the bucket with")
@bp.doc(security="BearerAuth", responses=FORM_ERRORS, operation_id="direct_upload_form",
        description="Ask for a presigned form to send a paper straight to the bucket (docs/direct-uploads.md); "
                    "then POST /api/v1/uploads/direct/{upload_id}/session. Send an `Idempotency-Key` "
                    "header to make retries safe.")
@idempotency.idempotent
def direct_form():
    """Start a direct upload"""
    with _upload_limit():
        s = services()
        upload_id = str(uuid.uuid4())
        max_bytes = s.settings.max_upload_bytes
        # Before signing: the policy's own expiry (from the clock at signing) is never earlier.
        expires = datetime.fromtimestamp(int(datetime.now(timezone.utc).timestamp()) + FORM_SECONDS, timezone.utc)
        post = s.storage.presigned_post(pending_key(g.tenant, upload_id), max_bytes, FORM_SECONDS)
        return {"upload_id": upload_id, "url": post["url"], "fields": post["fields"],
                "expires_at": expires.isoformat(timespec="seconds").replace("+00:00", "Z"), "max_bytes": max_bytes}, 201


def _claim(upload_id: str) -> None:
    """Only one request turns an upload into a session; 404 for another tenant's, 409 for a used one."""
    s = services()
    owner = s.redis.hget(key_for(upload_id), "tenant")
    if owner is not None and owner.decode() != g.tenant:
        raise _not_found(upload_id)
    if owner is not None or not s.redis.set(CLAIM_PREFIX + upload_id, g.tenant, nx=True,
                                            ex=s.settings.session_ttl_seconds):
        raise ApiError(409, "conflict", f"The upload {upload_id} already made a session (or is making one); "
                                           "ask for a new form to upload again.")


def _release(upload_id: str) -> None:
    try:
        services().redis.delete(CLAIM_PREFIX + upload_id)
    except Exception:
        log.warning("could not release the claim on direct upload %s", upload_id)


def _not_found(upload_id: str) -> ApiError:
    return ApiError(404, "not_found", f"No direct upload {upload_id} of yours.")


def _checked(key: str, upload_id: str) -> tuple[str, str]:
    """(kind, ETag) of the uploaded object, refused like the multipart upload's; a refused file is removed."""
    s = services()
    try:
        head, size, etag = s.storage.get_range(key, SNIFF_BYTES)
    except NotFound:
        raise ApiError(404, "not_found", f"Nothing was uploaded with a form {upload_id} of yours (yet): POST "
                                          "the file to its url first, or ask for a new form if it expired.") from None
    refusal: ApiError | None = None
    if size > s.settings.max_upload_bytes:
        refusal = ApiError(413, "payload_too_large", f"The upload is {size} bytes; the limit is "
                                             f"{s.settings.max_upload_bytes} bytes.")
    else:
        try:
            return sniff_kind(s.storage.get(key) if head.startswith(b"PK\x03\x04") else head), etag
        except EmptyFile:
            refusal = ApiError(400, "empty_file", "The uploaded file has no content.")
        except UnsupportedFileType as exc:
            refusal = ApiError(415, "unsupported_media_type", str(exc))
    _discard_input(s.storage, key)
    raise refusal


@bp.post("/uploads/direct/<uuid:upload_id>/session")
@require_key_or_launch
@bp.input(DirectSessionIn, location="json_or_form", arg_name="form")
@bp.output(Submission, status_code=202, description="Accepted: follow status_url or events_url")
@bp.doc(security="BearerAuth", responses=SESSION_ERRORS, operation_id="direct_upload_session",
        description="Make a session of a paper sent to the bucket with a direct upload's form: the file is "
                    "checked like POST /api/v1/upload's, and the answer is the same 202. Send an "
                    "`Idempotency-Key` header to make retries safe.")
@idempotency.idempotent(recover=requeue)
def direct_session(upload_id, form: dict):
    """Submit a directly uploaded paper"""
    upload_id = str(upload_id)
    s = services()
    kb_id = (form.get("knowledge_base") or "").strip() or None
    if kb_id:
        owned_knowledge_base(kb_id)
    callback_url = _callback(form.get("callback_url"))
    review = (form.get("review") or "").strip().lower() in YES
    filename = safe_filename(form.get("filename"))
    _claim(upload_id)
    pending = pending_key(g.tenant, upload_id)
    try:
        kind, etag = _checked(pending, upload_id)
        input_key = f"{object_prefix(g.tenant, upload_id)}input/{filename}"
        try:
            s.storage.copy(pending, input_key, CONTENT_TYPES[kind], etag)
        except ClientError as exc:  # replaced by a second POST of the form since it was checked
            raise ApiError(409, "conflict", "The upload changed while it was checked; try again.") from exc
        answer = start_session(upload_id, filename, input_key, kb_id, callback_url, review)
    except Exception:
        _release(upload_id)  # no session was made of it (start_session removes a failed one): a retry may
        raise
    storage = s.storage

    @after_this_request
    def _remove_pending(response):  # the session has its copy: removed once the answer is sent
        response.call_on_close(lambda: _discard_input(storage, pending))
        return response

    return answer

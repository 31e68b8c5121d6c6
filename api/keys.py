"""POST /api/v1/keys/rotate: a new API key now; the one making the call ends after a grace period."""

from __future__ import annotations

from apiflask import APIBlueprint

from api import idempotency
from api.auth import CHALLENGE, presented_key, require_key
from api.errors import ApiError
from api.integrator_schemas import KeyRotated, KeyRotateIn, iso
from api.services import services

bp = APIBlueprint("keys", __name__, tag="API keys")
AUTH = {401: "Missing or invalid API key", 429: "Rate limited"}


@bp.post("/keys/rotate")
@require_key
@bp.input(KeyRotateIn, location="json", arg_name="body")
@bp.output(KeyRotated, status_code=201, description="Created: the new key (shown only here) and when the key that "
                                                     "made the call stops working")
@bp.doc(security="BearerAuth",
        responses={**AUTH, 400: "grace_seconds outside 0..604800, or not JSON",
                   409: "The same Idempotency-Key in progress",
                   422: "Idempotency-Key reused with another request, or with another API key"},
        description="Creates a key for the caller's tenant, valid at once, and ends the key used for this call "
                    "`grace_seconds` from now (default a day, at most 7 days; 0 ends it now). Send an "
                    "`Idempotency-Key` header: a retry (with the old key, while it works) gets the same new key, "
                    "never a second one.")
@idempotency.idempotent(sealed=True)
def rotate(body: dict):
    """Rotate the API key making this call"""
    try:
        key, new, old = services().keys.rotate(presented_key(), body["grace_seconds"])
    except LookupError as exc:  # ended since require_key looked (its grace ran out)
        raise ApiError(401, "unauthorized", "That API key is not valid.", CHALLENGE) from exc
    return {"key": key, "key_id": new.id, "tenant": new.tenant, "created_at": iso(new.created_at),
            "previous_key_id": old.id, "previous_key_expires_at": iso(old.expires_at)}, 201

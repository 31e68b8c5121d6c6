"""Bearer-key authentication. The tenant of the key is `g.tenant` inside a view.

The key is read from the `Authorization` header only: a key in a URL ends up in browser
history and proxy logs. Links that cannot send headers (EventSource, downloads) use a
short-lived token for one session instead (api.session_tokens).
"""

from __future__ import annotations

from functools import wraps

from flask import g, request

from api.errors import ApiError
from api.services import services
from qagen.lti import grants

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="qagen"'}


def presented_key() -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def current_tenant() -> str | None:
    """The tenant of the presented key (looked up once per request), or None."""
    if "tenant" not in g:
        key = presented_key()
        record = services().keys.lookup(key) if key else None
        g.tenant = record.tenant if record else None
        g.key_presented = bool(key)
    return g.tenant


def launch_grant() -> grants.Grant | None:
    """The live LTI launch grant the header's token names (looked up once per request), or None."""
    if "launch_grant" not in g:
        token = presented_key()
        g.launch_grant = grants.lookup(services().redis, token) if token.startswith(grants.PREFIX) else None
    return g.launch_grant


def require_key(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_tenant() is None:
            if not g.key_presented:
                raise ApiError(401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>'.", CHALLENGE)
            raise ApiError(401, "unauthorized", "That API key is not valid.", CHALLENGE)
        return view(*args, **kwargs)

    return wrapped


def require_key_or_launch(view):
    """`require_key`, or a teacher's LTI launch token in its place (qagen/lti/grants.py): the
    routes of the page inside an LMS. `g.owner` is then the teacher, whose sessions alone the
    view may show (api.sessions.owned_session); with a key it is None, the whole tenant's."""
    with_key = require_key(view)

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not presented_key().startswith(grants.PREFIX):
            return with_key(*args, **kwargs)
        grant = launch_grant()
        if grant is None:
            raise ApiError(401, "invalid_token", "This LMS launch has expired (they last "
                                                 f"{grants.TTL_SECONDS // 60} minutes): open qagen again from "
                                                 "the course.", CHALLENGE)
        g.tenant, g.owner = grant.tenant, grant.owner
        return view(*args, **kwargs)

    return wrapped

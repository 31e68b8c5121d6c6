"""Bearer-key authentication. The tenant of the key is `g.tenant` inside a view.

Browsers' EventSource cannot send headers, so a view may also accept the key as an
`access_token` query parameter (the events stream and the download redirect do).
"""

from __future__ import annotations

from functools import wraps

from flask import g, request

from api.errors import ApiError
from api.services import services

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="qagen"'}


def presented_key(allow_query: bool = False) -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return key.strip()
    return (request.args.get("access_token") or "").strip() if allow_query else ""


def current_tenant(allow_query: bool = False) -> str | None:
    """The tenant of the presented key (looked up once per request), or None."""
    if "tenant" not in g:
        key = presented_key(allow_query)
        record = services().keys.lookup(key) if key else None
        g.tenant = record.tenant if record else None
        g.key_presented = bool(key)
    return g.tenant


def require_key(view=None, *, allow_query: bool = False):
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if allow_query and g.get("tenant") is None:
                # Looked up already (the rate limiter's key) from the header alone: a key in
                # the query counts here, so look again. Otherwise one lookup per request.
                g.pop("tenant", None)
            if current_tenant(allow_query) is None:
                if not g.key_presented:
                    raise ApiError(401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>'.", CHALLENGE)
                raise ApiError(401, "unauthorized", "That API key is not valid.", CHALLENGE)
            return view(*args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate

"""Bearer-key authentication: `Authorization: Bearer <key>` on every /api route."""

from __future__ import annotations

from functools import wraps

from flask import g, request

from api.errors import ApiError
from api.services import services


def require_key(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiError(401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>'.",
                           {"WWW-Authenticate": 'Bearer realm="qagen"'})
        owner = services().keys.lookup(key.strip())
        if owner is None:
            raise ApiError(401, "unauthorized", "That API key is not valid.", {"WWW-Authenticate": 'Bearer realm="qagen"'})
        g.owner = owner.name
        return view(*args, **kwargs)

    return wrapped

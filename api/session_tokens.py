"""Short-lived access tokens for the links that cannot send headers (issue 16).

A browser's EventSource and a download link cannot send `Authorization`, and a tenant's
long-lived API key must not travel in a URL (browser history, proxy logs, referrers). So an
authenticated call, `POST /api/v1/sessions/{id}/token` (api.sessions), mints a token that opens
that one session's event stream and download for a few minutes, as `?access_token=`; an API
key sent that way is refused, saying what to do instead.

Tokens live in Redis with a TTL rather than being signed with a server secret:
- no new secret to provision, keep identical on every API replica and rotate;
- a token can be revoked (deleted) before its time, and expires by Redis's clock, not by each
  replica's;
- these routes read the session record from Redis anyway, so checking a token costs one more
  GET, and without Redis they could not answer in any case.
Only a SHA-256 of the token is stored (as for API keys): a copy of Redis holds no usable token.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from functools import wraps

from flask import g, request

from api.auth import CHALLENGE, current_tenant, presented_key
from api.errors import ApiError
from api.services import services
from qagen.bearer_tokens import TokenKind

PREFIX = "qst_"  # "qagen session token": never mistaken for an API key (qk_...)
KEY_PREFIX_OF_API_KEYS = "qk_"
TTL_SECONDS = 300
RECORD_PREFIX = "qagen:session-token:"
HOW = ("mint a short-lived one with 'POST /api/v1/sessions/{id}/token' (with 'Authorization: Bearer <key>') "
       "and pass that as ?access_token=, or send the key as 'Authorization: Bearer <key>'")


@dataclass(frozen=True)
class Grant:
    tenant: str
    session_id: str
    expires_at: float


TOKENS = TokenKind(PREFIX, RECORD_PREFIX)


def mint(redis, tenant: str, session_id: str, ttl_seconds: int | None = None) -> tuple[str, Grant]:
    """A new token for one session of one tenant, alive `ttl_seconds` (default TTL_SECONDS)."""
    ttl = ttl_seconds or TTL_SECONDS
    grant = Grant(tenant, session_id, time.time() + ttl)
    return TOKENS.mint(redis, asdict(grant), ttl), grant


def lookup(redis, token: str) -> Grant | None:
    """The grant of a live token, or None (unknown, malformed or expired)."""
    record = TOKENS.lookup(redis, token)
    return Grant(**record) if record else None


def tenant_of_query_token() -> str | None:
    """The tenant of a live token in the query (any session), for counting (the rate limiter's
    key); it authenticates nothing: `require_session_access` checks the session too."""
    token = (request.args.get("access_token") or "").strip()
    grant = lookup(services().redis, token) if token else None
    return grant.tenant if grant else None


def require_session_access(view):
    """A view of one session (`session_id`) for a key in the header or that session's token in the query."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if presented_key():
            if current_tenant() is None:
                raise ApiError(401, "unauthorized", "That API key is not valid.", CHALLENGE)
            return view(*args, **kwargs)
        token = (request.args.get("access_token") or "").strip()
        if not token:
            raise ApiError(401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>', or, where "
                                                "headers cannot be sent, a token from 'POST /api/v1/sessions/{id}/token' "
                                                "as ?access_token=.", CHALLENGE)
        if token.startswith(KEY_PREFIX_OF_API_KEYS):
            raise ApiError(401, "key_in_url", f"API keys are not accepted in URLs, where browser histories and "
                                              f"proxy logs keep them: {HOW}.", CHALLENGE)
        grant = lookup(services().redis, token)
        if grant is None:
            raise ApiError(401, "invalid_token", f"That access token is not valid or has expired (they last "
                                                 f"{TTL_SECONDS // 60} minutes): {HOW}.", CHALLENGE)
        if grant.session_id != kwargs.get("session_id"):
            raise ApiError(401, "invalid_token", "That access token is for another session: mint one for this "
                                                 "session with 'POST /api/v1/sessions/{id}/token'.", CHALLENGE)
        g.tenant = grant.tenant  # the view's ownership check still compares the session's tenant
        return view(*args, **kwargs)

    return wrapped

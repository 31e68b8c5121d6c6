"""Launch tokens: what an LTI launch gives the page inside the LMS instead of an API key.

A token (`qlt_...`) names one teacher (the platform's issuer and the LTI `sub`, hashed: the
session's `owner`) in the tenant the deployment is mapped to, and the launch it came from (for
deep linking). The page sends it as `Authorization: Bearer`; the routes the page uses accept it
(api.auth.require_key_or_launch) and show that teacher's sessions alone. Like session tokens
(api.session_tokens) it lives in Redis with a TTL, stored under its SHA-256 only.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field

from qagen.bearer_tokens import TokenKind

PREFIX = "qlt_"  # "qagen launch token": never mistaken for an API key (qk_) or a session token (qst_)
TTL_SECONDS = 3600  # a lesson's worth: the teacher launches again from the course after that
RECORD_PREFIX = "qagen:lti:grant:"


@dataclass(frozen=True)
class Grant:
    tenant: str
    owner: str
    launch_id: str
    deep_linking: bool
    expires_at: float
    frame_origins: list[str] = field(default_factory=list)


def owner_of(issuer: str, subject: str) -> str:
    """The session owner for a platform's user: stable across launches, and no personal data."""
    return "lti:" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:32]


TOKENS = TokenKind(PREFIX, RECORD_PREFIX)


def mint(redis, tenant: str, owner: str, launch_id: str, deep_linking: bool,
         frame_origins: list[str]) -> tuple[str, Grant]:
    grant = Grant(tenant, owner, launch_id, deep_linking, time.time() + TTL_SECONDS, list(frame_origins))
    return TOKENS.mint(redis, asdict(grant), TTL_SECONDS), grant


def lookup(redis, token: str) -> Grant | None:
    """The grant of a live token, or None (unknown, malformed or expired)."""
    record = TOKENS.lookup(redis, token)
    return Grant(**record) if record else None


def revoke_tenant(redis, tenant: str) -> int:
    """End every live launch token of `tenant` (the tenant is being deleted); how many."""
    removed = 0
    for name in redis.scan_iter(match=RECORD_PREFIX + "*", count=1000):
        raw = redis.get(name)
        if raw and json.loads(raw).get("tenant") == tenant:
            removed += redis.delete(name)
    return removed

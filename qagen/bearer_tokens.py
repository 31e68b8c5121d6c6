"""Opaque bearer tokens kept in Redis: the pattern behind session tokens (api.session_tokens)
and LTI launch tokens (qagen.lti.grants).

A token is a recognisable prefix and 32 random bytes; Redis keeps only its SHA-256 (a copy of
Redis holds no usable token) with a JSON record of what it grants and a TTL. Redis's TTL
removes a record; its stored `expires_at` holds too, should a restore bring one back.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class TokenKind:
    prefix: str  # e.g. "qst_": never mistaken for an API key (qk_) or another kind
    record_prefix: str  # the Redis key prefix of the records

    def record_key(self, token: str) -> str:
        return self.record_prefix + hashlib.sha256(token.encode()).hexdigest()

    def mint(self, redis, record: dict[str, Any], ttl_seconds: int) -> str:  # type: ignore[no-untyped-def]
        """A new token granting `record` (which must hold `expires_at`) for `ttl_seconds`."""
        token = self.prefix + secrets.token_urlsafe(32)
        redis.set(self.record_key(token), json.dumps(record), ex=ttl_seconds)
        return token

    def lookup(self, redis, token: str) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
        """The record of a live token of this kind, or None (unknown, malformed or expired)."""
        if not token.startswith(self.prefix) or len(token) > MAX_TOKEN_LENGTH:
            return None
        raw = redis.get(self.record_key(token))
        if not raw:
            return None
        record = json.loads(raw)
        return record if record.get("expires_at", 0) > time.time() else None

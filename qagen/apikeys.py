"""API keys: created once, shown once, stored only as a SHA-256 hash in Redis.

A key is 32 random bytes, URL-safe, prefixed `qk_` so it is recognisable in logs and
secret scanners. Keys are high-entropy, so a fast unsalted hash is enough to make a
leaked Redis dump useless without making every request pay for a slow KDF.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass

import redis

KEY_PREFIX = "qagen:apikey:"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ApiKey:
    name: str
    created_at: float


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(
            f"Invalid key name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit."
        )
    return name


class ApiKeyStore:
    def __init__(self, client: redis.Redis):
        self.client = client

    def create(self, name: str) -> str:
        """Store a new key for `name` and return it; this is the only time it is seen."""
        validate_name(name)
        key = "qk_" + secrets.token_urlsafe(32)
        record = json.dumps({"name": name, "created_at": time.time()})
        self.client.set(KEY_PREFIX + _hash(key), record)
        return key

    def lookup(self, key: str) -> ApiKey | None:
        """The key's owner, or None for an unknown key."""
        if not key or len(key) > 256:
            return None
        raw = self.client.get(KEY_PREFIX + _hash(key))
        if raw is None:
            return None
        data = json.loads(raw)
        return ApiKey(name=data["name"], created_at=data["created_at"])

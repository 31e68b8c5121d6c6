"""Tenants and their API keys: a key is shown once, then stored only as a SHA-256 hash.

A key reads `qk_<id>_<secret>`: the short id names it in listings and revocations,
the secret is 32 random bytes. Keys are high-entropy, so a fast unsalted hash is enough
to make a leaked Redis dump useless without making every request pay for a slow KDF.
Every key belongs to a tenant; sessions, knowledge bases and bucket keys are namespaced
by tenant.
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
ID_PREFIX = "qagen:apikey-id:"
TENANTS = "qagen:tenants"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant: str
    created_at: float


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def validate_tenant(name: str) -> str:
    if not _NAME.match(name or ""):
        raise ValueError(
            f"Invalid tenant name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit."
        )
    return name


class ApiKeyStore:
    def __init__(self, client: redis.Redis):
        self.client = client

    def create(self, tenant: str) -> str:
        """Store a new key for `tenant` (created if new) and return it; this is the only time it is seen."""
        validate_tenant(tenant)
        key_id = secrets.token_hex(4)
        key = f"qk_{key_id}_{secrets.token_urlsafe(32)}"
        record = json.dumps({"id": key_id, "tenant": tenant, "created_at": time.time()})
        pipe = self.client.pipeline()
        pipe.set(KEY_PREFIX + _hash(key), record)
        pipe.set(ID_PREFIX + key_id, _hash(key))
        pipe.sadd(TENANTS, tenant)
        pipe.execute()
        return key

    def is_tenant(self, tenant: str) -> bool:
        return bool(self.client.sismember(TENANTS, tenant))

    def lookup(self, key: str) -> ApiKey | None:
        """The key's record, or None for an unknown or revoked key."""
        if not key or len(key) > 256:
            return None
        raw = self.client.get(KEY_PREFIX + _hash(key))
        return ApiKey(**json.loads(raw)) if raw else None

    def list(self, tenant: str | None = None) -> list[ApiKey]:
        keys = []
        for name in self.client.scan_iter(KEY_PREFIX + "*", count=500):
            raw = self.client.get(name)
            if raw:
                record = ApiKey(**json.loads(raw))
                if tenant is None or record.tenant == tenant:
                    keys.append(record)
        return sorted(keys, key=lambda k: (k.tenant, k.created_at))

    def revoke(self, key_id: str) -> bool:
        """Revoke the key with this id; False when there is none."""
        digest = self.client.get(ID_PREFIX + key_id)
        if digest is None:
            return False
        pipe = self.client.pipeline()
        pipe.delete(KEY_PREFIX + digest.decode())
        pipe.delete(ID_PREFIX + key_id)
        pipe.execute()
        return True

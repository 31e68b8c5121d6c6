"""Tenants and their API keys: a key is shown once, then stored only as a SHA-256 hash.

A key reads `qk_<id>_<secret>`: the short id names it in listings and revocations,
the secret is 32 random bytes. Keys are high-entropy, so a fast unsalted hash is enough
to make a leaked Redis dump useless without making every request pay for a slow KDF.
Every key belongs to a tenant; sessions, knowledge bases and bucket keys are namespaced
by tenant.

A key may have an end (`expires_at`): `rotate` gives the key it replaces one, at most
`MAX_GRACE_SECONDS` away (POST /api/v1/keys/rotate). `lookup` refuses a key past its end,
and Redis removes its records then too (they carry the same expiry).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass

import redis

KEY_PREFIX = "qagen:apikey:"
ID_PREFIX = "qagen:apikey-id:"
TENANTS = "qagen:tenants"
MAX_GRACE_SECONDS = 7 * 24 * 3600
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant: str
    created_at: float
    expires_at: float | None = None  # None: valid until revoked

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (time.time() if now is None else now) >= self.expires_at


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def validate_tenant(name: str) -> str:
    if not _NAME.match(name or ""):
        raise ValueError(
            f"Invalid tenant name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit."
        )
    return name


def _new_key(tenant: str, now: float | None = None) -> tuple[str, dict]:
    key_id = secrets.token_hex(4)
    key = f"qk_{key_id}_{secrets.token_urlsafe(32)}"
    return key, {"id": key_id, "tenant": tenant, "created_at": time.time() if now is None else now}


def _write_new(pipe: redis.client.Pipeline, key: str, record: dict) -> None:
    pipe.set(KEY_PREFIX + _hash(key), json.dumps(record))
    pipe.set(ID_PREFIX + record["id"], _hash(key))
    pipe.sadd(TENANTS, record["tenant"])


class ApiKeyStore:
    def __init__(self, client: redis.Redis):
        self.client = client

    def create(self, tenant: str) -> str:
        """Store a new key for `tenant` (created if new) and return it; this is the only time it is seen."""
        validate_tenant(tenant)
        key, record = _new_key(tenant)
        pipe = self.client.pipeline()
        _write_new(pipe, key, record)
        pipe.execute()
        return key

    def rotate(self, current: str, grace_seconds: float, *, now: float | None = None) -> tuple[str, ApiKey, ApiKey]:
        """A new key for the tenant of `current`, valid at once; `current` stops working
        `grace_seconds` from now (0: at once), or sooner if it already had an earlier end.

        Returns (the new key, its record, the record of `current` with its end). Raises
        ValueError for a grace outside 0..MAX_GRACE_SECONDS and LookupError for a key that is
        not valid. The new key and the old one's end are written in one transaction.
        """
        if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
            raise ValueError(f"grace_seconds must be between 0 and {MAX_GRACE_SECONDS} (7 days).")
        now = time.time() if now is None else now
        old = self.lookup(current)
        if old is None:
            raise LookupError("That API key is not valid.")
        ends = now + grace_seconds if old.expires_at is None else min(old.expires_at, now + grace_seconds)
        old = ApiKey(old.id, old.tenant, old.created_at, ends)
        key, record = _new_key(old.tenant, now)
        ends_ms = int(ends * 1000)
        pipe = self.client.pipeline()  # MULTI
        _write_new(pipe, key, record)
        # An end in the past removes the records at once (Redis deletes a key SET with one).
        pipe.set(KEY_PREFIX + _hash(current), json.dumps(asdict(old)), xx=True, pxat=max(ends_ms, 1))
        pipe.set(ID_PREFIX + old.id, _hash(current), xx=True, pxat=max(ends_ms, 1))
        pipe.execute()
        return key, ApiKey(**record), old

    def is_tenant(self, tenant: str) -> bool:
        return bool(self.client.sismember(TENANTS, tenant))

    def lookup(self, key: str) -> ApiKey | None:
        """The key's record, or None for an unknown or revoked key."""
        if not key or len(key) > 256:
            return None
        raw = self.client.get(KEY_PREFIX + _hash(key))
        record = ApiKey(**json.loads(raw)) if raw else None
        return None if record is None or record.expired() else record

    def list(self, tenant: str | None = None) -> list[ApiKey]:
        keys = []
        for name in self.client.scan_iter(KEY_PREFIX + "*", count=500):
            raw = self.client.get(name)
            if raw:
                record = ApiKey(**json.loads(raw))
                if (tenant is None or record.tenant == tenant) and not record.expired():
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

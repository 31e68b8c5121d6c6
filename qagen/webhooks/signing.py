"""Signing webhooks: the `Qagen-Signature` header, and each tenant's signing secret.

- `sign` / `verify`: `Qagen-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`
  (Stripe's scheme). `verify` is the receiver's code and what the tests check against.
- `WebhookSecrets`: one signing secret per tenant, in Redis. It is stored in plain text
  because it must be usable to sign: Redis has to be access-controlled (password/ACL, no
  public port) like any other secret store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets
import time
from collections.abc import Sequence

import redis

SIGNATURE_HEADER = "Qagen-Signature"
SECRET_GRACE_SECONDS = 24 * 3600  # how long a rotated-out secret still signs (second v1)
_TENANT_PREFIX = "qagen:tenant:"


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _secret_list(secret: str | Sequence[str]) -> list[str]:
    return [secret] if isinstance(secret, str) else [s for s in secret if s]


def sign(secret: str | Sequence[str], timestamp: int, body: bytes) -> str:
    """The `Qagen-Signature` header value: `t=<timestamp>,v1=<hex>` (one v1 per secret given).

    The HMAC key is the whole secret string (including `whsec_`) as UTF-8; the message is
    `f"{timestamp}."` followed by the exact body bytes sent.
    """
    macs = [_mac(s, int(timestamp), body) for s in _secret_list(secret)]
    if not macs:
        raise ValueError("sign() needs at least one secret.")
    return ",".join([f"t={int(timestamp)}"] + [f"v1={m}" for m in macs])


def verify(secret: str | Sequence[str], header: str | None, body: bytes, tolerance_seconds: float = 300,
           now: float | None = None) -> bool:
    """True if `header` (Qagen-Signature) signs `body` (the raw request bytes) with `secret`.

    Receivers' reference implementation: constant-time comparison; any v1 value may match
    (qagen sends two during a secret rotation) and `secret` may be a list (yours, during
    your own rotation); the timestamp must be within `tolerance_seconds` of `now`
    (replay protection; pass 0 to skip that check). Never raises on malformed input.
    """
    if not header or len(header) > 8192:
        return False
    if isinstance(body, str):
        body = body.encode("utf-8")
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamps.append(value.strip())
        elif key == "v1":
            signatures.append(value.strip())
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures or len(signatures) > 16:
        return False
    timestamp = int(timestamps[0])
    if tolerance_seconds and abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        return False
    matched = False
    for s in _secret_list(secret):
        expected = _mac(s, timestamp, body).encode()
        for candidate in signatures:
            matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return matched


# --------------------------------------------------------------------------- secrets


def _secret_key(tenant: str) -> str:
    if not tenant or len(tenant) > 128 or any(c.isspace() for c in tenant):
        raise ValueError(f"Invalid tenant name {tenant!r} for a webhook secret.")
    return f"{_TENANT_PREFIX}{tenant}:webhook_secret"


def new_secret() -> str:
    return "whsec_" + _secrets.token_urlsafe(32)


class WebhookSecrets:
    """Per-tenant signing secrets at `qagen:tenant:<tenant>:webhook_secret` (plain: Redis must be protected).

    After `rotate`, the previous secret keeps signing alongside the new one (a second v1
    value) for `grace_seconds`, so receivers can switch without losing events.
    """

    def __init__(self, client: redis.Redis, grace_seconds: int = SECRET_GRACE_SECONDS):
        self.client = client
        self.grace_seconds = grace_seconds

    def get_or_create(self, tenant: str) -> str:
        key = _secret_key(tenant)
        self.client.set(key, new_secret(), nx=True)
        return self.client.get(key).decode()

    def rotate(self, tenant: str) -> str:
        """Make a new secret and return it; the old one still signs for `grace_seconds`."""
        key = _secret_key(tenant)
        secret = new_secret()
        old = self.client.set(key, secret, get=True)
        if old:
            self.client.set(key + ":previous", old, ex=max(1, int(self.grace_seconds)))
        return secret

    def signing_secrets(self, tenant: str) -> list[str]:
        """The secrets to sign with: current first, then the rotated-out one during its grace period."""
        current = self.get_or_create(tenant)
        previous = self.client.get(_secret_key(tenant) + ":previous")
        return [current] + ([previous.decode()] if previous and previous.decode() != current else [])

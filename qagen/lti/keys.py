"""The tool's RSA key pair: it signs the deep-linking responses qagen sends to a platform.

Generated on first use (by the first launch or `qagen lti add-platform`) and written to Redis
with SET NX, so every API replica and the command line use the same pair whoever made it
first. The private half is never served or printed: platforms read the public half as a JWKS
(GET /lti/jwks.json). It is kept in Redis like the tenants' webhook signing secrets
(qagen.webhooks.signing), so a Redis copy is as sensitive as those; `rotate` replaces it, after
which platforms that cached the old JWKS fetch it again on the next unknown `kid`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY = "qagen:lti:tool-key"
KEY_BITS = 2048


@dataclass(frozen=True)
class ToolKeyPair:
    private_pem: str
    public_pem: str


def _generate() -> ToolKeyPair:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return ToolKeyPair(private_pem, public_pem)


def tool_key_pair(redis) -> ToolKeyPair:
    """The tool's key pair, created (once, whoever comes first) when there is none."""
    raw = redis.get(KEY)
    if raw is None:
        pair = _generate()
        redis.set(KEY, json.dumps(pair.__dict__), nx=True)
        raw = redis.get(KEY)  # another replica's, if it won the race
    return ToolKeyPair(**json.loads(raw))


def rotate(redis) -> ToolKeyPair:
    """A new key pair in place of the old one (when the private key may have leaked)."""
    pair = _generate()
    redis.set(KEY, json.dumps(pair.__dict__))
    return pair


LINK_SECRET = "qagen:lti:link-secret"


def link_signature(redis, tenant: str, session_id: str) -> str:
    """The signature qagen puts beside a session's id in the links it adds to courses, so that a
    link's custom parameters edited in the LMS cannot open another session. Its secret is its own
    (created once, like the key pair), so `rotate` leaves the links in courses working."""
    secret = redis.get(LINK_SECRET)
    if secret is None:
        redis.set(LINK_SECRET, secrets.token_hex(32), nx=True)
        secret = redis.get(LINK_SECRET)
    return hmac.new(secret, f"{tenant}\n{session_id}".encode(), hashlib.sha256).hexdigest()[:32]

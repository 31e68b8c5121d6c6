"""Seal a remembered answer that holds a secret, so Redis never keeps the secret readable.

`POST /api/v1/keys/rotate` answers with a new API key, and an `Idempotency-Key` retry must
get that same key back (api/idempotency.py remembers answers for 24 hours). API keys are
stored only as hashes (qagen.apikeys), so the remembered answer is sealed with a key derived
from the API key that made the request, which Redis does not hold either: a retry presents
it again and opens the answer; a Redis dump alone opens nothing.

Standard library only: the sealing key is HMAC-SHA256(API key, context); the text is
XORed with an HMAC-SHA256 keystream over a random nonce and a block counter, and the
nonce and ciphertext are authenticated with an HMAC-SHA256 tag (encrypt-then-MAC).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "sealed:v1:"
_NONCE = 16
_TAG = 32


def _key(secret: str, context: str) -> bytes:
    return hmac.new(secret.encode(), b"qagen-seal\0" + context.encode(), hashlib.sha256).digest()


def _stream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, b"enc\0" + nonce + n.to_bytes(8, "big"), hashlib.sha256).digest()
              for n in range((length + 31) // 32))
    return b"".join(blocks)[:length]


def _tag(key: bytes, nonce: bytes, sealed: bytes) -> bytes:
    return hmac.new(key, b"mac\0" + nonce + sealed, hashlib.sha256).digest()


def seal(text: str, secret: str, context: str) -> str:
    """`text` sealed under `secret` for `context` (e.g. the record's Redis key)."""
    key, nonce, data = _key(secret, context), secrets.token_bytes(_NONCE), text.encode()
    sealed = bytes(a ^ b for a, b in zip(data, _stream(key, nonce, len(data))))
    return PREFIX + base64.urlsafe_b64encode(nonce + _tag(key, nonce, sealed) + sealed).decode()


def unseal(value: str, secret: str, context: str) -> str | None:
    """The text `seal` sealed; None when `secret` or `context` is not the one it was sealed with."""
    if not value.startswith(PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(value[len(PREFIX):])
    except ValueError:
        return None
    nonce, tag, sealed = raw[:_NONCE], raw[_NONCE:_NONCE + _TAG], raw[_NONCE + _TAG:]
    key = _key(secret, context)
    if len(nonce) != _NONCE or not hmac.compare_digest(tag, _tag(key, nonce, sealed)):
        return None
    return bytes(a ^ b for a, b in zip(sealed, _stream(key, nonce, len(sealed)))).decode()

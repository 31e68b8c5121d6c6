"""A bearer token is a prefix and random bytes; Redis keeps only its hash, with what it grants."""

from __future__ import annotations

import time
import uuid

from qagen.bearer_tokens import TokenKind


def kind() -> TokenKind:
    return TokenKind("qtt_", f"qagen:test-token:{uuid.uuid4().hex[:8]}:")


def test_a_minted_token_looks_up_its_record_and_redis_holds_only_its_hash(redis_client):
    tokens = kind()
    token = tokens.mint(redis_client, {"tenant": "t", "expires_at": time.time() + 60}, 60)

    assert token.startswith("qtt_") and tokens.lookup(redis_client, token)["tenant"] == "t"
    stored = list(redis_client.scan_iter(match=tokens.record_prefix + "*"))
    assert stored == [tokens.record_key(token).encode()] and token.encode() not in stored[0]
    assert 0 < redis_client.ttl(stored[0]) <= 60


def test_another_kind_an_unknown_or_an_overlong_token_grants_nothing(redis_client):
    tokens = kind()
    token = tokens.mint(redis_client, {"expires_at": time.time() + 60}, 60)

    assert TokenKind("qzz_", tokens.record_prefix).lookup(redis_client, token) is None
    assert tokens.lookup(redis_client, "qtt_" + "x" * 40) is None
    assert tokens.lookup(redis_client, token + "x" * 100) is None


def test_a_record_past_its_stored_expiry_grants_nothing_even_while_redis_keeps_it(redis_client):
    tokens = kind()
    token = tokens.mint(redis_client, {"expires_at": time.time() - 1}, 60)  # as a restore could bring back

    assert redis_client.exists(tokens.record_key(token)) and tokens.lookup(redis_client, token) is None

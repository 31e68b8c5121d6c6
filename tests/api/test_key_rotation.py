"""POST /api/v1/keys/rotate on the real stack: the new key works at once, the old one until its
grace ends and then never; a retry with the same Idempotency-Key mints no second key; Redis never
holds a key readable."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from qagen.apikeys import ApiKeyStore
from tests.conftest import REPO


@pytest.fixture
def tenant_key(redis_client) -> tuple[str, str]:
    tenant = f"rotate-{uuid.uuid4().hex[:8]}"
    return tenant, ApiKeyStore(redis_client).create(tenant)


def call(stack, key: str, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"{stack.layout.api_url}{path}", headers=headers, timeout=30, **kwargs)


def works(stack, key: str) -> bool:
    status = call(stack, key, "GET", "/api/v1/sessions").status_code
    assert status in (200, 401), status
    return status == 200


def test_the_new_key_works_at_once_and_the_old_one_until_its_grace_ends(stack, tenant_key, redis_client):
    tenant, old = tenant_key

    response = call(stack, old, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 2})
    rotated_at = time.time()

    assert response.status_code == 201, response.text
    body = response.json()
    new = body["key"]
    assert new.startswith("qk_") and new != old and body["tenant"] == tenant
    assert body["key_id"] == new.split("_")[1] and body["previous_key_id"] == old.split("_")[1]
    assert works(stack, new) and works(stack, old)
    # The new key sees the tenant's data: it is the same tenant.
    kb = call(stack, new, "POST", "/api/v1/knowledge", files={"file": ("n.md", b"# Notes\n\nSome notes.\n")})
    assert call(stack, old, "GET", f"/api/v1/knowledge/{kb.json()['knowledge_base_id']}").status_code == 200

    time.sleep(max(0.0, rotated_at + 2.2 - time.time()))

    assert not works(stack, old)
    refused = call(stack, old, "GET", "/api/v1/sessions")
    assert refused.json()["error"]["code"] == "unauthorized" and "Bearer" in refused.headers["WWW-Authenticate"]
    assert works(stack, new)
    listed = [k.id for k in ApiKeyStore(redis_client).list(tenant)]
    assert listed == [body["key_id"]]  # the old one has gone from the listing too


def test_grace_zero_ends_the_old_key_at_once(stack, tenant_key):
    _, old = tenant_key

    response = call(stack, old, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 0})

    assert response.status_code == 201, response.text
    assert not works(stack, old) and works(stack, response.json()["key"])


def test_no_body_means_a_day_of_grace(stack, tenant_key, redis_client):
    _, old = tenant_key

    response = call(stack, old, "POST", "/api/v1/keys/rotate")

    assert response.status_code == 201, response.text
    ends = ApiKeyStore(redis_client).lookup(old).expires_at
    assert ends is not None and 86400 - 60 < ends - time.time() <= 86400
    assert redis_client.ttl(f"qagen:apikey-id:{old.split('_')[1]}") > 86000  # Redis drops the records then too


@pytest.mark.parametrize("body", [{"grace_seconds": -1}, {"grace_seconds": 604801}, {"grace_seconds": "soon"},
                                  {"grace_seconds": 10, "extra": 1}])
def test_a_grace_outside_0_to_7_days_is_refused_and_nothing_changes(stack, tenant_key, redis_client, body):
    tenant, old = tenant_key

    response = call(stack, old, "POST", "/api/v1/keys/rotate", json=body)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert [k.id for k in ApiKeyStore(redis_client).list(tenant)] == [old.split("_")[1]]
    assert ApiKeyStore(redis_client).lookup(old).expires_at is None


def test_a_retry_with_the_same_idempotency_key_gets_the_same_new_key(stack, tenant_key, redis_client):
    tenant, old = tenant_key
    headers = {"Idempotency-Key": str(uuid.uuid4())}

    first = call(stack, old, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 60}, headers=headers)
    again = call(stack, old, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 60}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert len(ApiKeyStore(redis_client).list(tenant)) == 2  # the old one (in its grace) and one new
    # The remembered answer is sealed: the new key is nowhere in Redis in the clear.
    new = first.json()["key"]
    for name in redis_client.scan_iter(match=f"qagen:idempotency:{tenant}:*"):
        assert new.encode() not in redis_client.get(name)
    # Another key of the tenant cannot open it.
    other = ApiKeyStore(redis_client).create(tenant)
    stolen = call(stack, other, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 60}, headers=headers)
    assert stolen.status_code == 422 and stolen.json()["error"]["code"] == "idempotency_key_reused"
    # A different body with the same Idempotency-Key is 422 too.
    changed = call(stack, old, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 30}, headers=headers)
    assert changed.status_code == 422


def test_rotating_a_key_in_its_grace_does_not_lengthen_it(stack, tenant_key, redis_client):
    _, old = tenant_key
    call(stack, old, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 60})
    ends = ApiKeyStore(redis_client).lookup(old).expires_at

    again = call(stack, old, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 3600})

    assert again.status_code == 201
    assert ApiKeyStore(redis_client).lookup(old).expires_at == ends


def test_keys_list_shows_when_a_rotated_key_ends(stack, tenant_key):
    tenant, old = tenant_key
    call(stack, old, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 600})

    listed = subprocess.run([sys.executable, "-m", "qagen.cli", "keys", "list", "--tenant", tenant],
                            capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, **stack.layout.settings_overrides()}).stdout.splitlines()

    assert len(listed) == 2
    [ending] = [line for line in listed if line.startswith(old.split("_")[1])]
    assert "expires" in ending and all("expires" not in line for line in listed if line != ending)


def test_another_tenants_key_is_untouched(stack, tenant_key, api_key):
    _, old = tenant_key

    call(stack, old, "POST", "/api/v1/keys/rotate", json={"grace_seconds": 0})

    assert works(stack, api_key)  # the "tests" tenant's key


@pytest.mark.parametrize(("content", "code"), [(b"{not json", "bad_request"), (b"[1, 2]", "validation_error"),
                                               (b"60", "validation_error")])
def test_a_body_that_is_not_a_json_object_is_400_and_nothing_changes(stack, tenant_key, redis_client, content, code):
    tenant, old = tenant_key

    response = call(stack, old, "POST", "/api/v1/keys/rotate", content=content,
                    headers={"Content-Type": "application/json"})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code
    assert len(ApiKeyStore(redis_client).list(tenant)) == 1

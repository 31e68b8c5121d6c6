"""Behind the Ingress every request comes from the ingress controller's pod (issue 16).

Rate limits must still tell clients apart: requests without a key by the real client's
address (X-Forwarded-For, believed only from the `QAGEN_TRUSTED_PROXIES` proxies), and
requests carrying a key or an `access_token` by their tenant. The apps here run against the
stack's Redis (the limiter's counters), with a 3-a-minute limit; each test uses addresses and
tenants of its own, so their buckets start empty.
"""

from __future__ import annotations

import uuid

import pytest

from api import create_app, session_tokens
from qagen.apikeys import ApiKeyStore

INGRESS_POD = "10.244.1.17"  # what REMOTE_ADDR is for every request that came through the Ingress


def _new_address() -> str:
    """An address no other test counted against (the counters live in the stack's Redis)."""
    return f"2001:db8:{uuid.uuid4().hex[:4]}::{uuid.uuid4().hex[:4]}"


@pytest.fixture
def limited(settings):
    def make(trusted_proxies: int):
        app = create_app(settings.model_copy(update={"rate_limit": "3/minute", "trusted_proxies": trusted_proxies}))
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = INGRESS_POD
        return client

    return make


def _statuses(client, path: str, times: int, **kwargs) -> list[int]:
    return [client.get(path, **kwargs).status_code for _ in range(times)]


def _two_clients() -> tuple[str, str]:
    return _new_address(), _new_address()


def test_behind_the_ingress_clients_without_a_key_get_buckets_of_their_own(limited):
    client = limited(trusted_proxies=1)
    noisy, quiet = _two_clients()

    assert _statuses(client, "/api/v1/capacity", 4, headers={"X-Forwarded-For": noisy}) == [401, 401, 401, 429]

    assert client.get("/api/v1/capacity", headers={"X-Forwarded-For": quiet}).status_code == 401  # not 429
    # A client cannot pick its bucket: the Ingress appends the address it saw, and only the
    # last value (one trusted proxy) counts.
    spoofed = {"X-Forwarded-For": f"{_new_address()}, {noisy}"}
    assert client.get("/api/v1/capacity", headers=spoofed).status_code == 429


def test_without_trusted_proxies_everyone_behind_the_ingress_shares_one_bucket(limited):
    """What happened before (QAGEN_TRUSTED_PROXIES=0, the local default): the Ingress pod's address."""
    client = limited(trusted_proxies=0)
    noisy, quiet = _two_clients()
    # Start from an empty bucket for the pod's address: the previous test's app counted there too.
    client.environ_base["REMOTE_ADDR"] = _new_address()

    assert _statuses(client, "/api/v1/capacity", 3, headers={"X-Forwarded-For": noisy}) == [401, 401, 401]

    assert client.get("/api/v1/capacity", headers={"X-Forwarded-For": quiet}).status_code == 429


def test_a_token_in_the_query_is_counted_against_its_tenant_not_the_address(limited, redis_client):
    """Event streams and downloads carry a session token in the query (EventSource sends no
    headers); before, those requests were counted by address: behind the Ingress, one bucket
    for every browser of every tenant."""
    client = limited(trusted_proxies=1)
    busy, other = f"busy-{uuid.uuid4().hex[:6]}", f"other-{uuid.uuid4().hex[:6]}"
    busy_key = ApiKeyStore(redis_client).create(busy)
    session_id = str(uuid.uuid4())
    busy_token, _ = session_tokens.mint(redis_client, busy, session_id)
    other_token, _ = session_tokens.mint(redis_client, other, str(uuid.uuid4()))
    browser = {"X-Forwarded-For": _new_address()}  # one school's NAT, two tenants

    busy_answers = _statuses(client, f"/api/v1/download/{session_id}", 4, query_string={"access_token": busy_token},
                             headers=browser)

    assert 429 not in busy_answers[:3] and busy_answers[3] == 429
    assert client.get(f"/api/v1/download/{uuid.uuid4()}", query_string={"access_token": other_token},
                      headers=browser).status_code != 429
    assert client.get("/api/v1/capacity", headers=browser).status_code == 401  # the address's own bucket is untouched
    # The busy tenant's requests with its key in the header count in the same bucket: one tenant, one budget.
    assert client.get(f"/api/v1/download/{session_id}", headers={"Authorization": f"Bearer {busy_key}", **browser}
                      ).status_code == 429
    # An API key sent in the query (refused there) counts against its tenant too, not the address.
    assert client.get(f"/api/v1/download/{session_id}", query_string={"access_token": busy_key},
                      headers=browser).status_code == 429


def test_counting_a_query_token_authenticates_nothing(limited, redis_client):
    client = limited(trusted_proxies=1)
    key = ApiKeyStore(redis_client).create(f"query-{uuid.uuid4().hex[:6]}")

    answer = client.get("/api/v1/capacity", query_string={"access_token": key},
                        headers={"X-Forwarded-For": _new_address()})

    assert answer.status_code == 401  # /api/v1/capacity takes the key from the header only


def test_links_keep_the_scheme_the_trusted_proxy_saw(settings, redis_client):
    import io

    app = create_app(settings.model_copy(update={"trusted_proxies": 1, "queue": f"unconsumed-{uuid.uuid4().hex[:6]}"}))
    key = ApiKeyStore(redis_client).create(f"scheme-{uuid.uuid4().hex[:6]}")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = INGRESS_POD

    answer = client.post("/api/v1/upload", data={"file": (io.BytesIO(b"1. Define force. [1]\n"), "q.txt")},
                         content_type="multipart/form-data",
                         headers={"Authorization": f"Bearer {key}", "X-Forwarded-Proto": "https",
                                  "X-Forwarded-For": _new_address()})

    assert answer.status_code == 202
    assert answer.json["status_url"].startswith("https://")

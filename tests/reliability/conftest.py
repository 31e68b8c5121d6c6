"""The fault suite's own stack: Redis, SeaweedFS, the API and the webhook dispatcher on free
loopback ports, with workers started per test (the tests kill and restart them), and an LLM stub per test.

The suite prints one summary table at the end (and writes it to
test-artifacts/reliability-summary.md); docs/reliability.md holds a measured copy.
Run it alone with `make test-reliability` (`pytest tests/reliability`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid

import httpx
import pytest

from qagen.apikeys import ApiKeyStore
from devtools.stack import LocalStack, StackLayout
from qagen.redis_client import redis_from_settings
from qagen.storage import S3Storage
from devtools.llm_stub import running_stub
from tests.reliability import harness

# Settings the whole fault stack runs with. Lease, recovery and time limits stay at their
# production defaults unless a test says otherwise: the recovery times measured are the
# ones production gets.
STACK_ENV = {
    "QAGEN_UPLOAD_RATE_LIMIT": "100000/minute",
    "QAGEN_RATE_LIMIT": "100000/minute",
    "OPENAI_API_KEY": "sk-stub-not-a-real-key",
    "QAGEN_LOG_LEVEL": "INFO",
    # The webhook dispatcher: retries after 1 s and 2 s, and a 4 s timeout (its claim on an
    # attempt then lasts 31 s instead of 55 s: test_webhook_faults.py waits for one to end).
    "QAGEN_WEBHOOK_SCHEDULE": "1,2",
    "QAGEN_WEBHOOK_TIMEOUT_SECONDS": "4",
}


@pytest.fixture(scope="session")
def rstack(tmp_path_factory) -> LocalStack:
    layout = StackLayout.on_free_ports(tmp_path_factory.mktemp("reliability"))
    local = LocalStack(layout, extra_env=dict(STACK_ENV))
    try:
        local.start(("redis", "s3", "web", "webhooks"))
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def rredis(rstack):
    return redis_from_settings(rstack.settings)


@pytest.fixture(scope="session")
def rstorage(rstack) -> S3Storage:
    return S3Storage.from_settings(rstack.settings)


@pytest.fixture
def tenant_key(rredis) -> tuple[str, str]:
    """(tenant, API key) of a fresh tenant."""
    tenant = f"rel-{uuid.uuid4().hex[:10]}"
    return tenant, ApiKeyStore(rredis).create(tenant)


@pytest.fixture
def rclient(rstack, tenant_key):
    with httpx.Client(base_url=rstack.layout.api_url, headers={"Authorization": f"Bearer {tenant_key[1]}"},
                      timeout=30) as client:
        yield client


@contextlib.contextmanager
def llm_stub(*args: str):
    """qagen's OpenAI-compatible stub in its own process; yields (api_base, stats())."""
    with running_stub(*args, ready_timeout=15) as base:
        yield f"{base}/v1", lambda: httpx.get(f"{base}/stats", timeout=5).json()


def stub_env(api_base: str, **settings: str) -> dict[str, str]:
    env = {"QAGEN_MODEL": "openai/stub-model", "QAGEN_LLM_API_BASE": api_base}
    env.update({f"QAGEN_{name.upper()}": str(value) for name, value in settings.items()})
    return env


@contextlib.contextmanager
def workers(stack: LocalStack, names: list[str], env: dict[str, str] | None = None):
    """Start the named workers (same environment); stop whichever still run at the end."""
    for name in names:
        harness.start_worker(stack, name, env)
    try:
        yield
    finally:
        for name in names:
            process = stack.processes.get(name)
            if process is not None and process.poll() is None:
                # A cold stop: the test is over, don't wait for jobs.
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
            stack.processes.pop(name, None)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if not harness.SUMMARY:
        return
    table = harness.summary_table()
    terminalreporter.write_sep("=", "reliability summary")
    terminalreporter.write_line(table)
    harness.SUMMARY_FILE.parent.mkdir(parents=True, exist_ok=True)
    text = table + "\n"
    if harness.HOSTILE:
        text += "\n" + harness.hostile_table() + "\n"
    harness.SUMMARY_FILE.write_text(text)
    terminalreporter.write_line(f"(written to {harness.SUMMARY_FILE.relative_to(harness.REPO)})")


# The suite takes several minutes, so a plain `pytest` / `make test` leaves it out; it runs
# when named (`pytest tests/reliability`, `make test-reliability`) or with RELIABILITY_SUITE=1.
_HERE = os.path.dirname(os.path.abspath(__file__))


def _selected(config) -> bool:  # type: ignore[no-untyped-def]
    if os.environ.get("RELIABILITY_SUITE") == "1":
        return True
    for arg in config.args:
        path = os.path.abspath(str(arg).split("::", 1)[0])
        if path == _HERE or path.startswith(_HERE + os.sep):
            return True
    return False


def pytest_ignore_collect(collection_path, config):  # type: ignore[no-untyped-def]
    if not _selected(config) and str(collection_path).startswith(_HERE + os.sep):
        return True
    return None

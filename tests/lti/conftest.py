"""Fixtures of the LTI tests: a platform (lti1p3platform, tests/lti/platform.py) registered with
the live stack by `qagen lti add-platform`, as an operator registers one, and a browser."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.lti.platform import KeySetServer, Platform, key_pair

QUIZ = b"Quiz\n1. Define velocity. [1]\n2. Define acceleration. [1]\n"


def qagen(stack, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The `qagen` command line, with the stack's settings (its Redis)."""
    done = subprocess.run([sys.executable, "-m", "qagen.cli", *args], env=stack.env, capture_output=True,
                          text=True, timeout=60, check=False)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="session")
def key_server():
    server = KeySetServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def platform_keys() -> tuple[str, str]:
    return key_pair()


def new_platform(stack, key_server, platform_keys, deployment_id: str = "1") -> Platform:
    private_pem, public_pem = platform_keys
    platform = Platform(issuer=f"https://lms-{uuid.uuid4().hex[:8]}.example.edu", client_id="qagen-client",
                        deployment_id=deployment_id, tool_url=stack.layout.api_url, keys=key_server,
                        private_pem=private_pem, public_pem=public_pem)
    platform.publish_keys()
    return platform


@pytest.fixture
def tenant() -> str:
    return f"school-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def platform(stack, key_server, platform_keys, tenant) -> Platform:
    """A platform registered for `tenant` (a new issuer per test)."""
    found = new_platform(stack, key_server, platform_keys)
    qagen(stack, *found.add_platform_args(tenant))
    return found


@pytest.fixture
def browser(stack):
    with httpx.Client(base_url=stack.layout.api_url, follow_redirects=False, timeout=30) as client:
        yield client


def launch_token(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    found = re.search(r'<meta name="qagen-launch-token" content="([^"]+)">', page.text)
    assert found, "the launch page carries a launch token"
    return found.group(1)


def as_teacher(stack, token: str) -> httpx.Client:
    return httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def upload(client: httpx.Client) -> str:
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", QUIZ)})
    assert response.status_code == 202, response.text
    return response.json()["session_id"]

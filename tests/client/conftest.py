"""Fixtures for the client tests: a key, a client, and one sample paper answered through the client."""

from __future__ import annotations

from dataclasses import dataclass

import click
import httpx
import pytest
from click.testing import CliRunner

from qagen.apikeys import ApiKeyStore
from qagen.cli.client_commands import register
from qagen.client import QagenClient, SessionStatus, Submission
from tests.conftest import EXAMPLE_PAPER


class RecordingTransport(httpx.BaseTransport):
    """A real HTTP transport that remembers every request and response it carried."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.exchanges.append((request, response))
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass
class Answered:
    submission: Submission
    final: SessionStatus
    seen: list[SessionStatus]
    transport: RecordingTransport


@pytest.fixture(scope="session")
def client_key(stack, redis_client) -> str:
    return ApiKeyStore(redis_client).create("client-tests")


@pytest.fixture
def cli() -> click.Group:
    group = click.Group("qagen")
    register(group)
    return group


@pytest.fixture
def run(cli, stack, client_key):
    """`run(*args, input=None, **extra_env)`: the client commands in-process against the stack."""
    env = {"QAGEN_API_URL": stack.layout.api_url, "QAGEN_API_KEY": client_key}

    def invoke(*args: str, input: str | None = None, **extra_env: str):
        return CliRunner().invoke(cli, list(args), env={**env, **extra_env}, input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def qagen(stack, client_key):
    with QagenClient(stack.layout.api_url, client_key) as client:
        yield client


@pytest.fixture(scope="session")
def answered(stack, client_key) -> Answered:
    """The example paper uploaded and waited for once, through the client; shared by the tests that read it."""
    transport = RecordingTransport()
    seen: list[SessionStatus] = []
    with QagenClient(stack.layout.api_url, client_key, transport=transport) as client:
        submission = client.upload(EXAMPLE_PAPER)
        final = client.wait(submission.session_id, on_progress=seen.append, timeout=120)
    return Answered(submission, final, seen, transport)

"""Fixtures for the webhook tests: a loopback receiver, simulated DNS, a Celery stand-in.

Webhooks to loopback are refused unless QAGEN_WEBHOOK_ALLOW says otherwise; the test
stack (devtools.stack.StackLayout) allows loopback so the receiver on 127.0.0.1 can be called.
"""

from __future__ import annotations

import socket
import uuid

import pytest

from qagen.webhooks import addresses
from qagen.jobs.queue import make_celery
from qagen.settings import Settings
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def fake_dns(monkeypatch):
    """`fake_dns["name"] = ["1.2.3.4", ...]` makes qagen's resolver see those addresses; unknown names fail."""
    table: dict[str, list[str]] = {}

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        try:
            addresses = table[host]
        except KeyError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in addresses]

    monkeypatch.setattr(addresses, "_getaddrinfo", getaddrinfo)
    return table


class FakeCelery:
    """Records send_task calls instead of talking to a broker (the tests run the task body themselves)."""

    def __init__(self):
        self.conf = make_celery(Settings()).conf  # the real configuration: queue "qagen", visibility timeout
        self.sent: list[tuple[str, list, str]] = []

    def send_task(self, name, args=None, queue=None, **options):
        self.sent.append((name, list(args or []), queue))


@pytest.fixture
def fake_celery() -> FakeCelery:
    return FakeCelery()


@pytest.fixture
def tenant() -> str:
    return "wh-test-" + uuid.uuid4().hex[:8]


def finished_session(status: str = "complete", **extra) -> dict:
    """A session dict shaped like Session.to_public() for a finished job."""
    session = {
        "session_id": str(uuid.uuid4()), "status": status, "stage": status, "progress": 100,
        "message": "", "error": None if status == "complete" else "No numbered questions were found.",
        "filename": "paper.pdf", "knowledge_base_id": None, "question_count": 10 if status == "complete" else None,
        "created_at": "2026-05-01T10:00:00.000Z", "started_at": "2026-05-01T10:00:01.000Z",
        "finished_at": "2026-05-01T10:01:00.000Z", "updated_at": "2026-05-01T10:01:00.000Z",
    }
    session.update(extra)
    return session

"""Fixtures for the webhook tests: a loopback receiver, names in /etc/hosts, a Redis database
of their own and in-process dispatchers.

Nothing is replaced: the receiver is a real HTTP server, names are resolved by the system's
resolver (glibc reads /etc/hosts on every lookup), events wait on the real schedule in the
stack's Redis and are sent by `Dispatcher`, the loop `python -m qagen.webhooks` runs.

Webhooks to loopback are refused unless QAGEN_WEBHOOK_ALLOW says otherwise; the test
stack (devtools.stack.StackLayout) allows loopback so the receiver on 127.0.0.1 can be
called, and the in-process dispatchers here pass `allow="loopback"` themselves.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
import redis as redis_lib

from qagen.webhooks import Dispatcher
from tests.webhooks.receiver import Receiver

HOSTS_FILE = Path("/etc/hosts")
_HOSTS_LOCK = Path(tempfile.gettempdir()) / "qagen-tests-etc-hosts.lock"
# In-process dispatchers: loopback allowed, a schedule of fractions of a second, no jitter.
FAST = {"allow": "loopback", "schedule": (0.3, 0.6), "jitter": 0.0, "timeout": 2.0, "poll_seconds": 0.1}


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


class Hosts:
    """Entries of /etc/hosts for this test only: `hosts["hooks-1.qagen.test"] = ["127.0.0.1"]`.

    Lines are appended with a marker of this instance and removed in teardown (only ours:
    other processes on the machine may be adding theirs). Removal writes a new file and
    renames it over /etc/hosts, so a concurrent lookup never reads a half-written file.
    """

    def __init__(self) -> None:
        self.marker = f"# qagen-test {os.getpid()} {uuid.uuid4().hex[:8]}"

    @staticmethod
    def unique(prefix: str = "hooks") -> str:
        """A name no resolver knows yet (.test is reserved for testing, RFC 6761)."""
        return f"{prefix}-{uuid.uuid4().hex[:10]}.qagen.test"

    @contextlib.contextmanager
    def _locked(self):
        with open(_HOSTS_LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _rewrite(self, keep) -> None:  # type: ignore[no-untyped-def]
        lines = HOSTS_FILE.read_text().splitlines(keepends=True)
        kept = [line for line in lines if keep(line)]
        if kept == lines:
            return
        temporary = HOSTS_FILE.with_name(f".hosts.qagen-test.{os.getpid()}")
        temporary.write_text("".join(kept))
        os.chmod(temporary, HOSTS_FILE.stat().st_mode & 0o7777)
        try:
            os.replace(temporary, HOSTS_FILE)
        except OSError:  # /etc/hosts bind-mounted (a container): rewrite it in place
            temporary.unlink()
            HOSTS_FILE.write_text("".join(kept))

    def _ours(self, line: str, name: str | None = None) -> bool:
        return line.rstrip("\n").endswith(self.marker) and (name is None or line.split()[1:2] == [name])

    def __setitem__(self, name: str, addresses: list[str]) -> None:
        with self._locked():
            self._rewrite(lambda line: not self._ours(line, name))
            text = HOSTS_FILE.read_text()
            with open(HOSTS_FILE, "a") as hosts:
                if text and not text.endswith("\n"):
                    hosts.write("\n")
                hosts.write("".join(f"{address} {name} {self.marker}\n" for address in addresses))

    def clear(self) -> None:
        with self._locked():
            self._rewrite(lambda line: not self._ours(line))


@pytest.fixture
def hosts():
    """Names the system resolver maps to the addresses a test gives (cleaned up afterwards)."""
    if not os.access(HOSTS_FILE, os.W_OK):
        pytest.skip("these tests give names addresses in /etc/hosts, which this user cannot write (run as root, "
                    "or in a container)")
    entries = Hosts()
    try:
        yield entries
    finally:
        entries.clear()


@pytest.fixture
def wh_redis(settings):
    """The stack's Redis server, database 1, emptied: the stack's own dispatcher serves database 0,
    so events created here are sent only by the dispatchers a test starts."""
    url = settings.redis_url.rsplit("/", 1)[0] + "/1"
    client = redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def dispatch(wh_redis):
    """`dispatch(**options)` starts a Dispatcher thread on `wh_redis` (FAST options by default); all stop at teardown."""
    started: list[tuple[Dispatcher, threading.Thread]] = []

    def start(**options) -> Dispatcher:
        dispatcher = Dispatcher(wh_redis, **{**FAST, **options})
        thread = threading.Thread(target=dispatcher.run, name="test-dispatcher", daemon=True)
        thread.start()
        started.append((dispatcher, thread))
        return dispatcher

    yield start
    for dispatcher, _ in started:
        dispatcher.stop.set()
    for _, thread in started:
        thread.join(30)


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


QUIZ = b"Quiz\n1. Define velocity. [1]\n2. Define acceleration. [1]\n"


@pytest.fixture
def webhook_stack(stack):
    """The shared stack, whose webhook dispatcher may call the loopback receiver."""
    if "loopback" not in stack.env.get("QAGEN_WEBHOOK_ALLOW", ""):
        pytest.skip("the test stack was started without QAGEN_WEBHOOK_ALLOW=loopback")
    return stack


def upload_quiz(client, callback_url: str | None) -> str:
    """Upload the two-question quiz (with a callback, when given); its session id."""
    data = {"callback_url": callback_url} if callback_url else {}
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", QUIZ)}, data=data)
    assert response.status_code == 202, response.text
    return response.json()["session_id"]

"""An Idempotency-Key never stays locked (issue 16), on the real stack.

Before, the pending record was written with the 24-hour TTL: a request killed mid-way, or a
failed final write after the job was queued, made every retry answer 409 for a day.
- A request is really killed (SIGKILL, an API process of this test's own whose S3 never
  answers, so the request hangs in the upload): its retries get 409 while it lives, and the
  key is free a short TTL after it dies.
- The final write really fails (this test's in-process API reaches Redis through a proxy that
  is cut the moment Celery has published the job): a retry to the stack's API gets the
  original session, whose job completes once.
- The enqueue itself fails and so does the clean-up (Redis cut as Celery is about to publish):
  the retry queues the recorded session's job rather than answering 409 or making another.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from celery import signals

from api import create_app, idempotency
from devtools.stack import free_port, wait_until
from qagen.jobs import fairness
from tests.waiting import wait_for_session

REPO = Path(__file__).resolve().parents[2]
QUIZ = b"Quiz\n1. Define momentum. [1]\n2. Define impulse. [1]\n"
PENDING_TTL = 2  # the killed process's pending TTL (production: idempotency.PENDING_TTL_SECONDS)

# The doomed API: the app as gunicorn runs it, served by Werkzeug in a process of its own.
SERVE = f"""
import sys
from werkzeug.serving import make_server
import api.idempotency as idempotency
idempotency.PENDING_TTL_SECONDS = {PENDING_TTL}
idempotency.HEARTBEAT_SECONDS = {PENDING_TTL} / 4
from api import create_app
make_server("127.0.0.1", int(sys.argv[1]), create_app(), threaded=True).serve_forever()
"""


def record_key(tenant: str, key: str) -> str:
    return f"qagen:idempotency:{tenant}:{hashlib.sha256(key.encode()).hexdigest()}"


def upload(client, key: str, **kwargs):
    return client.post("/api/v1/upload", files={"file": ("quiz.txt", QUIZ)}, headers={"Idempotency-Key": key},
                       **kwargs)


@pytest.fixture
def black_hole():
    """An S3 endpoint that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def doomed_api(stack, black_hole):
    port = free_port()
    env = {**stack.env, "QAGEN_S3_ENDPOINT": black_hole}
    process = subprocess.Popen([sys.executable, "-c", SERVE, str(port)], env=env, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/healthz", timeout=1).status_code == 200, 30, "the doomed API")
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_the_pending_ttl_is_short_and_renewed_well_within_it():
    assert idempotency.PENDING_TTL_SECONDS <= 30
    assert idempotency.HEARTBEAT_SECONDS * 3 <= idempotency.PENDING_TTL_SECONDS


def test_a_request_killed_mid_way_blocks_its_retries_only_while_it_lives(doomed_api, api_key, client, redis_client):
    url, process = doomed_api
    key = str(uuid.uuid4())
    pending = record_key("tests", key)
    threading.Thread(target=lambda: _ignore_errors(
        lambda: upload(httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}), key,
                       timeout=60)), daemon=True).start()
    wait_until(lambda: redis_client.exists(pending), 20, "the pending record", 0.02)
    assert json.loads(redis_client.get(pending))["state"] == "pending"
    assert redis_client.ttl(pending) <= PENDING_TTL

    # Alive (stuck storing the upload) past its pending TTL: the heartbeat keeps the key held.
    time.sleep(PENDING_TTL * 1.5)
    held = upload(client, key)
    assert held.status_code == 409 and held.json()["error"]["code"] == "request_in_progress"

    os.killpg(process.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    statuses = []
    while time.monotonic() - killed_at < PENDING_TTL + 5:
        retry = upload(client, key)
        statuses.append(retry.status_code)
        if retry.status_code != 409:
            break
        time.sleep(0.2)
    freed_after = time.monotonic() - killed_at

    assert retry.status_code == 202, (statuses, retry.text)
    assert freed_after <= PENDING_TTL + 1.5
    assert wait_for_session(client, retry.json()["session_id"])["status"] == "complete"
    assert upload(client, key).json() == retry.json()  # and from now on the key replays it


class CuttableProxy:
    """A TCP proxy to Redis; `cut()` closes every connection through it and refuses new ones."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.severed = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if self.severed.is_set():
                conn.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.sockets += [conn, upstream]
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.severed.set()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.mark.parametrize("scheduling", ["fair", "fifo"])
def test_a_failed_final_write_still_lets_a_retry_get_the_original_session(stack, settings, api_key, client,
                                                                          redis_client, monkeypatch, scheduling):
    proxy = CuttableProxy(stack.layout.redis_port)
    app = create_app(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{proxy.port}/0",
                                                 "fair_scheduling": scheduling == "fair"}))
    key = str(uuid.uuid4())

    def cut_once_published(sender=None, headers=None, **_):
        proxy.cut()  # the job is on the queue; Redis is now out of this API's reach

    # FIFO: the job is queued once Celery published it; fair scheduling (qagen/jobs/fairness.py):
    # once it is in its tenant's pending list (the dispatcher, a worker's sweeper, moves it on).
    submit = fairness.submit

    def submit_then_cut(*args, **kwargs):  # type: ignore[no-untyped-def]
        outcome = submit(*args, **kwargs)
        cut_once_published()
        return outcome

    monkeypatch.setattr(fairness, "submit", submit_then_cut)
    signals.after_task_publish.connect(cut_once_published, weak=False)
    try:
        first = app.test_client().post("/api/v1/upload", data={"file": (io.BytesIO(QUIZ), "quiz.txt")},
                                       content_type="multipart/form-data",
                                       headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key})
    finally:
        signals.after_task_publish.disconnect(cut_once_published)
        proxy.close()

    assert first.status_code == 202, first.get_data(as_text=True)
    session_id = first.json["session_id"]
    # The final write never happened: the record is the answer recorded before the job was queued.
    recorded = json.loads(redis_client.get(record_key("tests", key)))
    assert recorded["state"] == "done" and recorded["queued"] is False and recorded["ref"] == session_id
    assert redis_client.ttl(record_key("tests", key)) > 3600

    retry = upload(client, key)

    assert retry.status_code == 202 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["session_id"] == session_id
    assert wait_for_session(client, session_id)["status"] == "complete"
    listed = [s["session_id"] for s in client.get("/api/v1/sessions", params={"limit": 100}).json()["sessions"]]
    assert listed.count(session_id) == 1
    assert json.loads(redis_client.get(record_key("tests", key)))["queued"] is True


def test_an_unqueued_job_whose_session_is_gone_frees_its_key(client, redis_client):
    """An answer recorded before a failed enqueue whose clean-up could not remove the record: the
    session it names is gone, so the retry runs as a new request (no answer naming a lost job)."""
    key = str(uuid.uuid4())
    gone = str(uuid.uuid4())
    first = upload(client, key)  # the fingerprint a real request has
    assert first.status_code == 202
    record = json.loads(redis_client.get(record_key("tests", key)))
    record.update(ref=gone, queued=False, body=json.dumps({"session_id": gone}))
    redis_client.set(record_key("tests", key), json.dumps(record), ex=3600)

    retry = upload(client, key)

    assert retry.status_code == 202 and "Idempotent-Replayed" not in retry.headers
    assert retry.json()["session_id"] not in (gone, first.json()["session_id"])
    assert wait_for_session(client, retry.json()["session_id"])["status"] == "complete"


def _ignore_errors(call) -> None:
    try:
        call()
    except Exception:  # the process it talks to is killed: the connection breaks
        pass


@pytest.mark.parametrize("scheduling", ["fair", "fifo"])
def test_a_job_whose_enqueue_failed_and_whose_clean_up_failed_is_queued_by_the_retry(stack, settings, api_key,
                                                                                     client, redis_client,
                                                                                     monkeypatch, scheduling):
    """Redis goes out of reach as the job is published: the request answers 503 and cannot remove
    its session or the answer it recorded. The retry with the same key queues that session's job,
    and gets it; nothing is answered twice and no second session is made."""
    proxy = CuttableProxy(stack.layout.redis_port)
    app = create_app(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{proxy.port}/0",
                                                 "fair_scheduling": scheduling == "fair"}))
    key = str(uuid.uuid4())

    def cut_before_publishing(sender=None, **_):
        proxy.cut()

    # Fair scheduling queues the job into its tenant's pending list (qagen/jobs/fairness.py).
    submit = fairness.submit

    def cut_then_submit(*args, **kwargs):  # type: ignore[no-untyped-def]
        cut_before_publishing()
        return submit(*args, **kwargs)

    monkeypatch.setattr(fairness, "submit", cut_then_submit)
    signals.before_task_publish.connect(cut_before_publishing, weak=False)
    try:
        first = app.test_client().post("/api/v1/upload", data={"file": (io.BytesIO(QUIZ), "quiz.txt")},
                                       content_type="multipart/form-data",
                                       headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key})
    finally:
        signals.before_task_publish.disconnect(cut_before_publishing)
        proxy.close()

    assert first.status_code == 503, first.get_data(as_text=True)
    recorded = json.loads(redis_client.get(record_key("tests", key)))
    assert recorded["state"] == "done" and recorded["queued"] is False
    session_id = recorded["ref"]

    retry = upload(client, key)

    assert retry.status_code == 202 and retry.json()["session_id"] == session_id
    assert wait_for_session(client, session_id)["status"] == "complete"
    assert upload(client, key).json()["session_id"] == session_id

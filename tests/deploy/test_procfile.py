"""The Procfile's `web` and `worker`, started by honcho against the test stack, answer a paper.

On the way it checks what KEDA's two triggers read (k8s/base/keda.yaml) on real Celery
and Redis: a queued job is an entry of the queue's list (LLEN), a running job an entry of
kombu's `unacked` hash (HLEN), and both are gone when the job is done, which is what lets
KEDA scale the workers to zero.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
from kombu.transport.redis import Channel

from qagen.apikeys import ApiKeyStore
from devtools.stack import free_port, wait_until
from tests.conftest import EXAMPLE_PAPER
from tests.deploy.conftest import REPO, VENV_BIN, tool


def _honcho(process: str, env: dict, port: int, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([tool("honcho"), "-f", str(REPO / "Procfile"), "-d", str(REPO), "-e", "/dev/null",
                                 "start", "-p", str(port), process],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _unacked_ids(redis_client) -> set[str]:
    ids = set()
    for payload in redis_client.hvals(Channel.unacked_key):
        message = json.loads(payload)[0]
        ids.add(message.get("headers", {}).get("id"))
    return ids


def test_procfile_web_and_worker_under_honcho_complete_a_job(stack, redis_client, tmp_path):
    port = free_port()
    # Its own queue, so the stack's worker cannot take the job: the Procfile's worker must.
    queue = f"procfile-{uuid.uuid4().hex[:8]}"
    env = {**stack.env, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "QAGEN_QUEUE": queue,
           "QAGEN_WORKER_CONCURRENCY": "1", "WEB_CONCURRENCY": "1"}
    web = _honcho("web", env, port, tmp_path / "web.log")
    worker = None
    try:
        api = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(f"{api}/healthz", timeout=1).status_code == 200, 60,
                   f"the Procfile's web on $PORT={port} (log: {tmp_path / 'web.log'})", 0.2)
        key = ApiKeyStore(redis_client).create("procfile")
        headers = {"Authorization": f"Bearer {key}"}
        upload = httpx.post(f"{api}/api/v1/upload", headers=headers, timeout=30,
                            files={"file": ("sample-paper.pdf", EXAMPLE_PAPER.read_bytes())})
        assert upload.status_code == 202, upload.text
        session_id = upload.json()["session_id"]

        # Waiting: one entry in the queue's list (KEDA's `queued` trigger), nothing in flight.
        assert redis_client.llen(queue) == 1
        assert session_id not in _unacked_ids(redis_client)

        worker = _honcho("worker", env, port + 1000, tmp_path / "worker.log")
        seen_running = False
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if session_id in _unacked_ids(redis_client):
                seen_running = True  # KEDA's `running` trigger counts it
                assert redis_client.llen(queue) == 0
            body = httpx.get(f"{api}/api/v1/sessions/{session_id}", headers=headers, timeout=10).json()
            if body["status"] in ("complete", "failed"):
                break
            time.sleep(0.05)
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert body["status"] == "complete", f"{body}\n--- worker log ---\n{log[-3000:]}"
        assert seen_running, "the running job never showed in kombu's unacked hash"
        # Done: nothing left for KEDA to count, so the workers may go to zero. The message is
        # acknowledged once the task has returned, a moment after the session completes (a
        # pool process's first paper also freezes its libraries then: worker/gc_freeze.py).
        wait_until(lambda: session_id not in _unacked_ids(redis_client), 10, "the job's message to be acknowledged", 0.05)
        assert redis_client.llen(queue) == 0
        download = httpx.get(f"{api}/api/v1/download/{session_id}", headers=headers, timeout=10)
        assert download.status_code == 302 and "X-Amz-Signature=" in download.headers["Location"]
        # The job ran in the Procfile's worker (concurrency from the environment).
        assert "concurrency: 1 (prefork)" in log and session_id in log
    finally:
        if worker is not None:
            _stop(worker)
        _stop(web)


def test_procfile_webhooks_under_honcho_sends_a_due_event_and_stops_on_sigterm(stack, tmp_path):
    """The Procfile's `webhooks` (the dispatcher) against the test stack's Redis, in a database of
    its own (the stack's dispatcher serves database 0), sends an event to a loopback receiver."""
    import redis

    from qagen.webhooks import load_record
    from tests.webhooks.conftest import finished_session
    from tests.webhooks.receiver import Receiver
    from worker.webhook_tasks import notify_session_finished

    url = stack.settings.redis_url.rsplit("/", 1)[0] + "/3"
    client = redis.Redis.from_url(url)
    client.flushdb()
    env = {**stack.env, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "QAGEN_REDIS_URL": url,
           "QAGEN_WEBHOOK_CONCURRENCY": "2"}
    log = tmp_path / "webhooks.log"
    dispatcher = _honcho("webhooks", env, free_port(), log)
    try:
        wait_until(lambda: b"webhook dispatcher ready" in log.read_bytes(), 60, f"the dispatcher (log: {log})", 0.1)
        with Receiver() as receiver:
            event_id = notify_session_finished(client, finished_session(), "procfile", receiver.url())
            [request] = receiver.wait_for(1, timeout=15)
        assert request.headers["Qagen-Event-Id"] == event_id
        wait_until(lambda: load_record(client, event_id)["status"] == "delivered", 10, "the record to say delivered")
        os.killpg(dispatcher.pid, signal.SIGTERM)
        dispatcher.wait(30)
        assert b"webhook dispatcher stopped" in log.read_bytes()
    finally:
        _stop(dispatcher)
        client.flushdb()

"""An API process reads at most QAGEN_UPLOAD_CONCURRENCY uploads at once (issue 16).

Unbounded, 32 concurrent 20 MB uploads took the API's two processes to 749-960 MiB and
540-640 MB of open temporary files, against the pod's 512 Mi limit and 256 Mi /tmp
(deploy/upload-measurements.json). Here the app runs behind a real HTTP server (werkzeug's,
threaded) against the stack's Redis and S3, with one slot: an upload whose body is still
arriving holds it, and the next upload is told to come back.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid

import httpx
import pytest
from werkzeug.serving import make_server

from api import create_app
from api.upload_slots import RETRY_AFTER_SECONDS, WAIT_SECONDS
from qagen.apikeys import ApiKeyStore

PAPER = b"Quiz\n1. Define velocity. [1]\n2. Define acceleration. [1]\n"


@pytest.fixture
def one_slot_api(settings, redis_client):
    app = create_app(settings.model_copy(update={"upload_concurrency": 1, "upload_rate_limit": "1000/minute",
                                                 "queue": f"unconsumed-{uuid.uuid4().hex[:6]}"}))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    key = ApiKeyStore(redis_client).create(f"slots-{uuid.uuid4().hex[:6]}")
    try:
        yield f"http://127.0.0.1:{server.server_port}", key, app.extensions["qagen.upload_slots"]
    finally:
        server.shutdown()


def _multipart(data: bytes, name: str = "paper.txt") -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _wait(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_upload_beyond_the_slots_gets_503_with_retry_after_and_other_routes_do_not_wait(one_slot_api):
    base, key, slots = one_slot_api
    body, content_type = _multipart(PAPER * 2000)
    slow = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
    try:
        slow.sendall((f"POST /api/v1/upload HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer {key}\r\n"
                      f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode())
        slow.sendall(body[: len(body) // 2])  # a large upload still arriving: it holds the one slot
        _wait(lambda: slots._value == 0)

        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            started = time.monotonic()
            refused = client.post("/api/v1/upload", files={"file": ("q.txt", PAPER)})
            waited = time.monotonic() - started
            healthy = client.get("/healthz")
            capacity = client.get("/api/v1/capacity")

        assert refused.status_code == 503 and refused.json()["error"]["code"] == "unavailable"
        assert refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert WAIT_SECONDS - 0.1 <= waited < WAIT_SECONDS + 3
        assert healthy.status_code == 200 and healthy.elapsed.total_seconds() < 1
        assert capacity.status_code == 200

        slow.sendall(body[len(body) // 2:])
        answer = slow.recv(65536).decode("latin-1")
        assert answer.startswith("HTTP/1.1 202"), answer[:200]
    finally:
        slow.close()

    _wait(lambda: slots._value == 1)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        assert client.post("/api/v1/upload", files={"file": ("q.txt", PAPER)}).status_code == 202


def test_a_refused_or_failed_upload_gives_its_slot_back(one_slot_api):
    base, key, slots = one_slot_api
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        assert client.post("/api/v1/upload", files={"file": ("junk.pdf", b"\x00\x01\x02" * 100)}).status_code == 415
        assert client.post("/api/v1/upload", files={"file": ("empty.txt", b"")}).status_code == 400
        assert client.post("/api/v1/knowledge", files={"file": ("n.txt", b"")}).status_code in (400, 415)
        assert client.post("/api/v1/upload", files={"file": ("q.txt", PAPER)}).status_code == 202
        anonymous = httpx.post(f"{base}/api/v1/upload", files={"file": ("q.txt", PAPER)})
        assert anonymous.status_code == 401
    assert slots._value == 1


def test_an_upload_waits_briefly_for_a_slot_rather_than_failing_at_once(one_slot_api):
    base, key, slots = one_slot_api
    assert slots.acquire(timeout=1)  # a slot busy for a moment, as with a paper being stored
    threading.Timer(0.5, slots.release).start()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        assert client.post("/api/v1/upload", files={"file": ("q.txt", PAPER)}).status_code == 202

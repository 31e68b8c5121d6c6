"""Event streams cannot starve the API (issue 16).

32 open `/api/v1/sessions/{id}/events` streams once took every thread of the API (2 gunicorn
processes x 16 threads): /healthz and every other tenant's requests timed out, and a stream
held its thread up to 15 s after its client had gone. Here an API of its own (the production
defaults: 2 processes, 16 request threads + 32 stream threads each, 20 streams per tenant)
serves streams on sessions that never finish (their queue has no worker):

- two tenants open their cap's worth each, 40 streams, more than the old 32 threads; then
  /healthz and a third tenant's upload answer as fast as before any stream was open;
- the tenant's next stream gets 429 with Retry-After and the JSON error;
- a client that closes its connection gives its slot back within a second or so, and the
  tenant's next stream is admitted;
- with 3 stream slots per process, the API serves exactly 6 streams and refuses the 7th
  (429, `streams_full`) until a client leaves.

The numbers are printed (pytest -s) and recorded in docs/reliability.md ("Event streams").
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import replace

import httpx
import pytest

from api.streams import RETRY_AFTER_SECONDS
from devtools.measure_streams import Stream
from devtools.stack import LocalStack, free_port
from qagen.apikeys import ApiKeyStore
from tests.reliability import harness
from tests.reliability.conftest import STACK_ENV

TENANT_CAP = 20  # QAGEN_SSE_STREAMS_PER_TENANT's default
# "Their normal time", measured here with no stream open, is a few milliseconds; the bounds
# leave room for a machine busy with other tests.
HEALTHZ_BOUND = 1.0
UPLOAD_BOUND = 3.0
RELEASE_BOUND = 3.0


@pytest.fixture
def stream_api(rstack, rredis, tmp_path):
    """An API of its own on the fault stack's Redis and S3, queueing to a queue no worker reads."""
    queue = f"streams-{uuid.uuid4().hex[:8]}"
    layout = replace(rstack.layout, data_dir=tmp_path, api_port=free_port(), metrics_port=free_port())
    api = LocalStack(layout, extra_env={**STACK_ENV, "QAGEN_QUEUE": queue})
    try:
        api.start(("web",))
        yield api
    finally:
        api.stop()
        rredis.delete(queue)


def _tenant(rredis) -> tuple[str, str]:
    tenant = f"streams-{uuid.uuid4().hex[:8]}"
    return tenant, ApiKeyStore(rredis).create(tenant)


def _queued_session(api: LocalStack, key: str, n: int) -> str:
    response = httpx.post(f"{api.layout.api_url}/api/v1/upload", headers={"Authorization": f"Bearer {key}"},
                          files={"file": (f"streams-{n}.txt", harness.paper(n, questions=2))}, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["session_id"]


def _open(api: LocalStack, session_id: str, key: str) -> Stream:
    return Stream(api.layout.api_port, session_id, key)


def _open_accepted(api: LocalStack, session_id: str, key: str, count: int, streams: list[Stream]) -> None:
    """Open `count` streams that the API admits (a process whose own slots are full answers
    429 `streams_full`: the next connection may reach the other process)."""
    while count:
        try:
            stream = _open(api, session_id, key)
        except TimeoutError:  # the API before issue 16: every thread held a stream
            pytest.fail(f"stream {len(streams) + 1} got no answer within 5 s; /healthz then: {_probe(api)}")
        if stream.status == 200:
            streams.append(stream)
            count -= 1
            continue
        assert stream.status == 429, stream.status
        refusal = stream.error()
        stream.close()
        assert refusal["code"] == "streams_full", refusal


def _probe(api: LocalStack) -> str:
    try:
        return f"{_timed(lambda: httpx.get(f'{api.layout.api_url}/healthz', timeout=HEALTHZ_BOUND * 5)):.3f} s"
    except httpx.TimeoutException:
        return f"no answer within {HEALTHZ_BOUND * 5:.0f} s"


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _healthz_and_upload(api: LocalStack, key: str, n: int) -> tuple[list[float], float]:
    with httpx.Client(base_url=api.layout.api_url, timeout=10) as client:
        healthz = [_timed(lambda: client.get("/healthz").raise_for_status()) for _ in range(10)]
    upload = _timed(lambda: _queued_session(api, key, n))
    return healthz, upload


def _tenant_count(rredis, tenant: str) -> int:
    return int(rredis.zcount(f"qagen:tenant:{tenant}:streams", time.time(), "+inf"))


def test_a_tenants_streams_leave_the_api_to_everyone_else(stream_api, rredis):
    api = stream_api
    (tenant_a, key_a), (_, key_b), (_, key_c) = _tenant(rredis), _tenant(rredis), _tenant(rredis)
    session_a, session_b = _queued_session(api, key_a, 1), _queued_session(api, key_b, 2)
    normal_healthz, normal_upload = _healthz_and_upload(api, key_c, 3)

    streams: list[Stream] = []
    try:
        # Two tenants at their cap: 40 streams, more than the 2 x 16 threads that once served everything.
        _open_accepted(api, session_a, key_a, TENANT_CAP, streams)
        _open_accepted(api, session_b, key_b, TENANT_CAP, streams)
        assert _tenant_count(rredis, tenant_a) == TENANT_CAP
        busy_healthz, busy_upload = _healthz_and_upload(api, key_c, 4)

        # Beyond the tenant's cap: 429, Retry-After, the JSON error.
        refused = _open(api, session_a, key_a)
        assert refused.status == 429, f"stream {TENANT_CAP + 1} of one tenant: {refused.status}"
        refusal = refused.error()
        refused.close()
        assert refusal["code"] == "too_many_streams", refusal
        assert refused.headers["retry-after"] == str(RETRY_AFTER_SECONDS) and refusal["message"]

        # A client that goes away frees its slot: the tenant's lease at once, then a new stream.
        leaving = streams.pop(0)
        leaving.close()
        closed = time.monotonic()
        while _tenant_count(rredis, tenant_a) >= TENANT_CAP and time.monotonic() - closed < 20:
            time.sleep(0.02)
        released = time.monotonic() - closed
        _open_accepted(api, session_a, key_a, 1, streams)
        readmitted = time.monotonic() - closed
    finally:
        for stream in streams:
            stream.close()

    print(f"\nstreams open: {len(streams)} (2 tenants x {TENANT_CAP})"
          f"\n/healthz, s, median / max: no streams {statistics.median(normal_healthz):.4f} / "
          f"{max(normal_healthz):.4f}, "
          f"with streams {statistics.median(busy_healthz):.4f} / {max(busy_healthz):.4f}"
          f"\nanother tenant's upload, s: no streams {normal_upload:.3f}, with streams {busy_upload:.3f}"
          f"\nclient gone -> lease released {released:.2f} s, -> tenant's next stream admitted {readmitted:.2f} s")
    assert max(busy_healthz) < HEALTHZ_BOUND and busy_upload < UPLOAD_BOUND
    assert released < RELEASE_BOUND and readmitted < RELEASE_BOUND
    harness.SUMMARY.append(harness.Row(
        "event streams", f"2 tenants x {TENANT_CAP} streams, +1 beyond the cap, 1 client leaves", 0, 0, 0,
        notes=f"/healthz max {max(busy_healthz) * 1000:.0f} ms, upload {busy_upload * 1000:.0f} ms with 40 "
              f"streams open; 21st: 429; slot back {released:.2f} s after the client left"))


@pytest.fixture
def small_stream_api(rstack, rredis, tmp_path):
    queue = f"streams-{uuid.uuid4().hex[:8]}"
    layout = replace(rstack.layout, data_dir=tmp_path, api_port=free_port(), metrics_port=free_port())
    api = LocalStack(layout, extra_env={**STACK_ENV, "QAGEN_QUEUE": queue, "QAGEN_SSE_STREAMS_PER_PROCESS": "3"})
    try:
        api.start(("web",))
        yield api
    finally:
        api.stop()
        rredis.delete(queue)


def test_each_process_serves_its_own_streams_only_and_gets_them_back(small_stream_api, rredis):
    api = small_stream_api
    _, key = _tenant(rredis)
    session_id = _queued_session(api, key, 5)
    streams: list[Stream] = []
    try:
        _open_accepted(api, session_id, key, 6, streams)  # 2 processes x 3
        for _ in range(4):  # whichever process a connection reaches, it is full
            refused = _open(api, session_id, key)
            assert refused.status == 429, f"a 7th stream on 2 processes x 3 slots: {refused.status}"
            refusal = refused.error()
            refused.close()
            assert refusal["code"] == "streams_full", refusal
            assert refused.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        assert httpx.get(f"{api.layout.api_url}/healthz", timeout=HEALTHZ_BOUND).status_code == 200

        streams.pop().close()
        left = time.monotonic()
        while True:
            stream = _open(api, session_id, key)
            if stream.status == 200:
                streams.append(stream)
                break
            stream.close()
            assert time.monotonic() - left < RELEASE_BOUND, "the slot of a client that left was not given back"
            time.sleep(0.05)
        print(f"\nper-process cap 3: 6 streams, then 429; a process's slot back {time.monotonic() - left:.2f} s "
              "after its client left")
    finally:
        for stream in streams:
            stream.close()

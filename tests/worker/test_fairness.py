"""Fair scheduling between tenants (qagen/jobs/fairness.py, docs/fairness.md), on the real stack.

The test stack's worker runs 2 pool processes and the dispatcher keeps 1 message in the
Celery queue (QAGEN_DISPATCH_DEPTH's default). Tenant A uploads a backlog, then tenant B
uploads one paper: B's job goes to the head of the Celery queue and must start before A's
backlog drains, behind at most the jobs the worker's 2 slots had taken when it arrived. A
tenant alone still gets both
slots, and a tenant with its own cap never runs more than that many at once.
Every paper is salted, so no answer comes from the answer cache.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from qagen.apikeys import ApiKeyStore
from qagen.jobs import fairness
from qagen.jobs.records import key_for

SLOTS = 2  # the test stack's worker concurrency (devtools/stack.py)


def paper(tag: str) -> bytes:
    return (f"Quiz {tag}\n1. Define velocity ({tag}). [1]\n2. State Newton's first law ({tag}). [2]\n"
            f"3. Solve 2x + 3 = {len(tag) + 7}. [2]\n").encode()


@pytest.fixture
def tenant(stack, redis_client):
    """A client for a new tenant per call, and its name."""
    opened = []

    def make() -> tuple[httpx.Client, str]:
        name = f"fair-{uuid.uuid4().hex[:8]}"
        key = ApiKeyStore(redis_client).create(name)
        c = httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        opened.append(c)
        return c, name

    yield make
    for c in opened:
        c.close()


def upload(c: httpx.Client, tag: str) -> tuple[str, float]:
    sent = time.time()
    response = c.post("/api/v1/upload", files={"file": (f"{tag}.txt", paper(tag), "text/plain")})
    assert response.status_code == 202, response.text
    return response.json()["session_id"], sent


def times(redis_client, ids: list[str], timeout: float = 90.0) -> dict[str, tuple[float, float]]:
    """(started_at, finished_at) of each session, once all are complete."""
    deadline = time.monotonic() + timeout
    while True:
        rows = {sid: redis_client.hmget(key_for(sid), "status", "started_at", "finished_at") for sid in ids}
        if all(r[0] == b"complete" for r in rows.values()):
            return {sid: (float(r[1]), float(r[2])) for sid, r in rows.items()}
        assert not any(r[0] == b"failed" for r in rows.values()), rows
        assert time.monotonic() < deadline, f"not all complete: {[r[0] for r in rows.values()]}"
        time.sleep(0.05)


def most_at_once(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: (e[0], e[1]))
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


def test_a_single_paper_passes_another_tenants_backlog(tenant, redis_client, settings):
    a, _ = tenant()
    b, _ = tenant()
    backlog = [upload(a, f"a{i}-{uuid.uuid4().hex[:6]}")[0] for i in range(12)]
    # Waiting in the dispatcher, a job is still "queued" to its client.
    statuses = {a.get(f"/api/v1/sessions/{sid}").json()["status"] for sid in backlog[-4:]}
    assert statuses <= {"queued", "running", "complete"}
    b_id, b_sent = upload(b, f"b-{uuid.uuid4().hex[:6]}")

    done = times(redis_client, [*backlog, b_id])
    b_start = done[b_id][0]
    a_before_b = [sid for sid in backlog if b_sent <= done[sid][0] < b_start]
    a_after_b = [sid for sid in backlog if done[sid][0] > b_start]
    # B goes to the head of the Celery queue: it waits only for the jobs its worker's slots had
    # taken (or were taking) when it arrived.
    assert len(a_before_b) <= SLOTS, (len(a_before_b), len(a_after_b))
    # ... and A's backlog had not drained: most of it started after B.
    assert len(a_after_b) >= len(backlog) - SLOTS - settings.dispatch_depth - 2
    # The dispatcher forgot every finished job.
    keys = fairness.Keys(settings.queue)
    assert not any(redis_client.hexists(keys.inflight, sid) for sid in [*backlog, b_id])
    assert not any(redis_client.zscore(keys.pending, sid) for sid in [*backlog, b_id])


def test_a_tenant_alone_gets_every_slot(tenant, redis_client):
    a, _ = tenant()
    ids = [upload(a, f"solo{i}-{uuid.uuid4().hex[:6]}")[0] for i in range(6)]
    done = times(redis_client, ids)
    assert most_at_once(list(done.values())) == SLOTS


def test_a_tenant_s_own_cap_bounds_its_jobs_at_once(tenant, redis_client):
    a, name = tenant()
    fairness.set_max_running(redis_client, name, 1)
    try:
        ids = [upload(a, f"capped{i}-{uuid.uuid4().hex[:6]}")[0] for i in range(4)]
        done = times(redis_client, ids)
    finally:
        fairness.set_max_running(redis_client, name, None)
    assert most_at_once(list(done.values())) == 1

"""Stop the S3 server (SeaweedFS, SIGKILL) for 15 s while jobs run: they complete after it
returns (the worker retries TransientError with backoff); uploads meanwhile answer 503 with
Retry-After, never 500, and leave no session behind."""

from __future__ import annotations

import signal
import time
from collections import Counter

import httpx
import pytest

from tests.reliability import harness
from tests.reliability.conftest import llm_stub, stub_env, workers

JOBS = 6
OUTAGE_SECONDS = 15.0


@pytest.mark.timeout(900)
def test_s3_outage_of_15_s_during_processing(rstack, rredis, rstorage, rclient, tenant_key):
    with llm_stub("--latency-ms", "500") as (api_base, _), \
            workers(rstack, ["s1", "s2"], stub_env(api_base, llm_concurrency=1)):
        ids = [harness.upload(rclient, harness.paper(30000 + n, 10), f"s3-{n}.txt").session_id for n in range(JOBS)]
        harness.wait_for(lambda: len(harness.lease_holders(rredis)) >= 3, 60, "jobs to be running")

        stopped_at, stopped_wall = time.monotonic(), time.time()
        rstack.stop_service("s3", sig=signal.SIGKILL)
        during: Counter[int] = Counter()
        missing_retry_after = 0
        n = 0
        while time.monotonic() - stopped_at < OUTAGE_SECONDS:
            try:
                response = rclient.post("/api/v1/upload", files={"file": (f"during-{n}.txt", harness.paper(31000 + n, 2))})
            except httpx.TransportError:
                during[0] += 1
                continue
            during[response.status_code] += 1
            if response.status_code == 503 and not response.headers.get("Retry-After"):
                missing_retry_after += 1
            n += 1
            time.sleep(1.0)
        rstack.start_service("s3")
        outage = time.monotonic() - stopped_at
        done = harness.wait_all(rclient, ids, timeout=240)
        back = harness.upload(rclient, harness.paper(32000, 2), "after.txt")
        done_back = harness.wait_all(rclient, [back.session_id], timeout=60)

    statuses = Counter(body["status"] for body in done.values())
    lost = JOBS - statuses["complete"]
    # No upload during the outage left a session behind (each answered 503 before creating one).
    sessions_of_tenant = rredis.zcard(f"qagen:tenant:{tenant_key[0]}:sessions")
    extra = [key for sid in ids for key in harness.unexpected_objects(rstorage, tenant_key[0], sid, True)]
    retried = sum(int(harness.record(rredis, sid).get("attempts", 0)) > 1 for sid in ids)
    completion = [float(harness.record(rredis, sid)["finished_at"]) - stopped_wall for sid in done]
    harness.SUMMARY.append(harness.Row(
        fault="S3 server stopped (SIGKILL) during processing",
        injected=f"S3 down {outage:.0f} s (15 s + restart); {sum(during.values())} uploads meanwhile: "
                 f"{dict(sorted(during.items()))}",
        jobs=JOBS, lost=lost, duplicated=len(extra), completion=harness.seconds(completion) + " after S3 stopped",
        notes=f"{retried} jobs retried after TransientError; every 503 had Retry-After"
              if not missing_retry_after else f"{missing_retry_after} 503s without Retry-After"))

    assert lost == 0, done
    assert during[500] == 0 and set(during) <= {503}, during
    assert missing_retry_after == 0
    assert sessions_of_tenant == JOBS + 1
    assert not extra, extra
    assert done_back[back.session_id]["status"] == "complete"

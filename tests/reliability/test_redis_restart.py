"""Restart Redis (broker and session store) during a burst of uploads: no accepted job is lost.

Two restarts, two guarantees (docs/reliability.md):
- graceful (SIGTERM: Redis fsyncs its append-only file before it exits), with the default
  `appendfsync everysec`: everything acknowledged survives;
- abrupt (SIGKILL) with `appendfsync always`: every write was on disk before Redis
  answered it, so again nothing acknowledged is lost. (With everysec, an abrupt crash may
  lose up to the last second of writes: the docs say so; this suite does not pretend.)

Uploads meanwhile get 503 with Retry-After (never 500) and are retried by the client; the
workers reconnect and keep consuming (the jobs uploaded after the restart complete too).
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from collections import Counter

import pytest

from qagen.jobs.records import index_for
from tests.reliability import harness
from tests.reliability.conftest import workers

UPLOADERS = 3
UPLOADS_EACH = 8


@pytest.mark.parametrize("how", ["graceful", "abrupt"])
def test_redis_restart_during_a_burst_of_uploads_loses_no_job(rstack, rredis, rstorage, rclient, tenant_key, how):
    with workers(rstack, ["r1", "r2"]):
        results: list[harness.Upload] = []
        lock = threading.Lock()

        def uploader(k: int) -> None:
            for i in range(UPLOADS_EACH):
                up = harness.upload(rclient, harness.paper(20000 + 100 * k + i + (0 if how == "graceful" else 50), 4),
                                    f"burst-{k}-{i}.txt", deadline_seconds=90)
                with lock:
                    results.append(up)
                time.sleep(0.15)

        threads = [threading.Thread(target=uploader, args=(k,)) for k in range(UPLOADERS)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        down_at = time.monotonic()
        if how == "graceful":
            rstack.stop_service("redis", sig=signal.SIGTERM)
            # The next (abrupt) round runs against a Redis that fsyncs every write.
            rstack.layout = dataclasses.replace(rstack.layout, redis_appendfsync="always")
        else:
            rstack.stop_service("redis", sig=signal.SIGKILL)
            rstack.layout = dataclasses.replace(rstack.layout, redis_appendfsync="everysec")
        time.sleep(2.0)
        rstack.start_service("redis")
        downtime = time.monotonic() - down_at
        for thread in threads:
            thread.join(120)

        # The workers reconnected and consume: a job sent after the burst completes as well
        # (Celery workers that silently stop consuming after a Redis reconnect are a known failure).
        after = harness.upload(rclient, harness.paper(29000 + (0 if how == "graceful" else 1), 3), "after.txt")
        results.append(after)
        accepted = [up.session_id for up in results if up.session_id]
        statuses = Counter(code for up in results for code in up.statuses)
        # Every session Redis knows of for this tenant, including any whose upload answered an error.
        existing = [m.decode() for m in rredis.zrange(index_for(tenant_key[0]), 0, -1)]
        unreported = sorted(set(existing) - set(accepted))
        done = harness.wait_all(rclient, existing, timeout=180)

    complete = sum(1 for body in done.values() if body["status"] == "complete")
    lost = len(set(accepted) | set(existing)) - complete
    extra = [key for sid in accepted for key in harness.unexpected_objects(rstorage, tenant_key[0], sid, True)]
    retry_after_missing = sum(1 for up in results for value in up.retry_after if not value)
    harness.SUMMARY.append(harness.Row(
        fault=f"Redis restart during a burst of uploads ({how}: "
              f"{'SIGTERM, appendfsync everysec' if how == 'graceful' else 'SIGKILL, appendfsync always'})",
        injected=f"Redis down {downtime:.1f} s; {len(results)} uploads, answers {dict(sorted(statuses.items()))}",
        jobs=len(set(accepted) | set(existing)), lost=lost, duplicated=len(extra),
        notes="; ".join(filter(None, [
            "every 503 had Retry-After" if not retry_after_missing else f"{retry_after_missing} 503s without Retry-After",
            f"{statuses[500]} x 500" if statuses[500] else "",
            f"{len(unreported)} job(s) created by uploads that answered 500, completed too" if unreported else ""]))))

    # An upload answers 202 (its job exists and completes) or 503 + Retry-After (retried); never 500.
    assert statuses[500] == 0, statuses
    assert len(accepted) == UPLOADS_EACH * UPLOADERS + 1, [up for up in results if not up.session_id]
    assert done[after.session_id]["status"] == "complete"
    assert retry_after_missing == 0
    assert not extra, extra
    assert lost == 0, {sid: body for sid, body in done.items() if body["status"] != "complete"} or \
        set(accepted) - set(done)

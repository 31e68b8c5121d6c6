"""Webhook deliveries under faults (issue 16), on the fault stack's real dispatcher process.

- An unreachable callback: the events retry on the dispatcher's schedule while both of KEDA's
  keys (the queue's list and kombu's `unacked` hash) are empty, so the workers may scale to
  zero. Before, each retry waited out its countdown as a Celery message in `unacked`, which
  KEDA counts as running work: one unreachable callback kept a worker pod up for ~4 hours.
- The dispatcher SIGKILLed with attempts in flight (a pod lost, an OOM kill): started again,
  it sends them once their claims end, with no sweep or operator; each event is delivered.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from kombu.transport.redis import Channel

from devtools.stack import free_port
from qagen.webhooks import EVENT_ID_HEADER, attempt_seconds, event_id_for, load_record, record_key, scheduled_at
from tests.reliability import harness
from tests.reliability.conftest import STACK_ENV, workers
from tests.webhooks.conftest import finished_session
from tests.webhooks.receiver import Receiver
from worker.webhook_tasks import notify_session_finished

JOBS = 4
EVENTS = 6


def keda_count(redis_client, queue: str) -> int:
    """What KEDA's two triggers add up: LLEN <queue> + HLEN unacked."""
    return redis_client.llen(queue) + redis_client.hlen(Channel.unacked_key)


@pytest.mark.timeout(300)
def test_an_unreachable_callback_lets_the_workers_scale_to_zero(rstack, rredis, rclient):
    callback = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    queue = rstack.settings.queue
    with workers(rstack, ["wh1"]):
        ids = [harness.upload(rclient, harness.paper(70000 + n, 3), f"hook-{n}.txt", callback_url=callback).session_id
               for n in range(JOBS)]
        done = harness.wait_all(rclient, ids, timeout=120)
        finished = time.time()
        events = [event_id_for(sid, "complete") for sid in ids]
        harness.wait_for(lambda: all((load_record(rredis, e) or {}).get("attempts", 0) >= 2 for e in events), 60,
                         "two failed attempts of every event")
        harness.wait_for(lambda: keda_count(rredis, queue) == 0, 30, "KEDA's keys to be empty")
        empty_after = time.time() - finished
        # Watch the keys while the events keep failing: they stay empty.
        samples = []
        for _ in range(10):
            samples.append(keda_count(rredis, queue))
            time.sleep(0.3)
        records = [load_record(rredis, e) for e in events]
    for event_id in events:
        rredis.delete(record_key(event_id))  # stop the retries; the dispatcher drops them at its next claim

    lost = sum(body["status"] != "complete" for body in done.values())
    retrying = sum(r["status"] == "pending" and r["attempts"] >= 2 for r in records)
    harness.SUMMARY.append(harness.Row(
        fault="Unreachable callback (issue 16: retries counted as running work by KEDA)",
        injected=f"{JOBS} uploads whose callback refuses connections",
        jobs=JOBS, lost=lost, duplicated=0,
        notes=f"KEDA's keys (LLEN queue + HLEN unacked) empty {empty_after:.1f} s after the last job, and stayed "
              f"0 ({max(samples)} max over 3 s) while {retrying}/{JOBS} events kept retrying on the dispatcher's "
              f"schedule: the workers may scale to zero"))

    assert lost == 0, done
    assert retrying == JOBS, records
    assert max(samples) == 0


@pytest.mark.timeout(300)
def test_a_dispatcher_killed_mid_attempt_resends_on_restart_with_no_operator(rstack, rredis):
    tenant = f"rel-wh-{uuid.uuid4().hex[:8]}"
    hold = attempt_seconds(float(STACK_ENV["QAGEN_WEBHOOK_TIMEOUT_SECONDS"]))
    with Receiver() as receiver:
        receiver.delay = 3.0  # below the 4 s timeout: every first attempt is in flight when the kill comes
        events = [notify_session_finished(rredis, finished_session(), tenant, receiver.url(f"/hook/{n}"))
                  for n in range(EVENTS)]
        receiver.wait_for(EVENTS, timeout=30)
        process = rstack.processes.pop("webhooks")
        killed_at = time.time()
        os.killpg(process.pid, signal.SIGKILL)  # the dispatcher's pod is lost mid-attempt
        process.wait(10)
        receiver.delay = 0.0
        interrupted = [e for e in events if (load_record(rredis, e) or {}).get("status") == "pending"]
        rstack.start_service("webhooks")  # Kubernetes starts it again; nobody runs anything by hand

        harness.wait_for(lambda: all(load_record(rredis, e)["status"] == "delivered" for e in events), hold + 30,
                         "every event to be delivered")
        time.sleep(2)  # a duplicate would arrive now
        records = {e: load_record(rredis, e) for e in events}
        by_event: dict[str, list] = {}
        for request in receiver.requests:
            by_event.setdefault(request.headers[EVENT_ID_HEADER], []).append(request)

    resent_after = [by_event[e][-1].at - killed_at for e in interrupted]
    lost = sum(r["status"] != "delivered" for r in records.values())
    harness.SUMMARY.append(harness.Row(
        fault="Webhook dispatcher SIGKILLed mid-attempt (restarted)",
        injected=f"1 SIGKILL with {len(interrupted)} attempts in flight",
        jobs=EVENTS, lost=lost, duplicated=0, completion=harness.seconds(resent_after),
        notes=f"re-sent when their claims ended ({hold} s with a 4 s timeout; {attempt_seconds()} s by default), "
              f"by the restarted dispatcher, no sweep or operator; receivers saw "
              f"{sum(len(v) for v in by_event.values())} requests for {EVENTS} events (at least once: the killed "
              f"attempts had reached them)"))

    assert lost == 0, records
    assert len(interrupted) == EVENTS
    assert all(len(by_event[e]) == 2 for e in events), {e: len(v) for e, v in by_event.items()}
    assert all(hold - 5 <= s <= hold + 10 for s in resent_after), resent_after
    assert all(scheduled_at(rredis, e) is None for e in events)

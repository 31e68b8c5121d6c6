"""SIGKILL workers mid-job, again and again: every job completes, once, with one set of results.

Two workers (concurrency 2 each) answer 30 distinct papers through the LLM stub (slow enough
that jobs run ~10 s). Every few seconds the test kills something that holds a job, taking
turns between the two kinds of death a worker sees in production:

- the whole worker (main process and pool, SIGKILL to the process group), which is then
  started again: a node lost, a container OOM-killed. Its messages stay unacknowledged in
  Redis for the visibility timeout (40 min): only the lease sweeper brings the jobs back.
- one pool process (SIGKILL): the kernel's OOM killer. Celery requeues the message at once
  (reject_on_worker_lost); the lease keeps it from running while the dead run's lease lives.

Lease, heartbeat and sweep intervals are the production defaults (20 s, 5 s, 5 s).
"""

from __future__ import annotations

import itertools
import os
import signal
import statistics
import time
from collections import Counter

import pytest

from qagen.jobs.leases import token_node
from qagen.jobs.names import PROCESS_QUESTION_PAPER
from qagen.jobs.queue import make_celery
from qagen.webhooks import EVENT_ID_HEADER
from tests.reliability import harness
from tests.reliability.conftest import llm_stub, stub_env, workers
from tests.webhooks.receiver import Receiver

JOBS = 30
QUESTIONS = 12
KILL_EVERY_SECONDS = 5.0
MAX_KILLS_PER_JOB = 2  # below max_worker_losses (3): these jobs must complete, not be failed as poison


@pytest.mark.timeout(900)
def test_sigkill_workers_mid_job_loses_nothing_and_duplicates_nothing(rstack, rredis, rstorage, rclient, tenant_key):
    tenant = tenant_key[0]
    names = ["w1", "w2"]
    with llm_stub("--latency-ms", "700") as (api_base, stub_stats), Receiver() as receiver:
        env = stub_env(api_base, llm_concurrency=1)
        with workers(rstack, names, env):
            ids = []
            for n in range(JOBS):
                up = harness.upload(rclient, harness.paper(1000 + n, QUESTIONS), f"drill-{n}.txt",
                                    callback_url=receiver.url(f"/hook/{n}"))
                assert up.session_id, up
                ids.append(up.session_id)
            watcher = harness.Watcher(rredis, ids)
            watcher.start()

            kills: list[tuple[float, str, str, dict[str, str]]] = []  # (when, kind, worker, {token: session})
            kill_count: Counter[str] = Counter()
            turns = itertools.cycle([("w1", "worker"), ("w2", "child"), ("w2", "worker"), ("w1", "child")])
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and len(watcher.finished) < JOBS:
                time.sleep(KILL_EVERY_SECONDS)
                name, kind = next(turns)
                holders = harness.lease_holders(rredis)
                victims = {token: sid for sid, token in holders.items()
                           if sid in watcher.starts and token_node(token) == harness.node_of(name)
                           and kill_count[sid] < MAX_KILLS_PER_JOB}
                if not victims:
                    continue
                if kind == "worker":
                    if any(kill_count[sid] >= MAX_KILLS_PER_JOB for sid, token in holders.items()
                           if token_node(token) == harness.node_of(name)):
                        continue
                    when = time.time()
                    harness.kill_worker(rstack, name)
                    harness.start_worker(rstack, name, env)
                else:
                    token, sid = next(iter(victims.items()))
                    victims = {token: sid}
                    when = time.time()
                    try:
                        os.kill(int(token.split("|")[1]), signal.SIGKILL)
                    except ProcessLookupError:
                        continue
                kills.append((when, kind, name, victims))
                kill_count.update(victims.values())

            done = harness.wait_all(rclient, ids, timeout=240)
            watcher.stop()
            receiver.wait_for(JOBS, timeout=30)
            stats = stub_stats()
            logs = [rstack.log_path(name) for name in names]

    # Every job completed.
    statuses = Counter(body["status"] for body in done.values())
    lost = JOBS - statuses["complete"]
    failed = {sid: body.get("error") for sid, body in done.items() if body["status"] != "complete"}

    # Recovery: from each kill to the next run of each job it interrupted, and to its completion.
    to_running, to_done, interrupted = [], [], 0
    killed_tokens: dict[str, float] = {}
    for when, kind, name, victims in kills:
        for token, sid in victims.items():
            killed_tokens[token] = when
            if watcher.finished.get(sid, float("inf")) < when:
                continue  # it finished between the lease read and the kill
            interrupted += 1
            restarted = watcher.next_start_after(sid, when)
            if restarted is not None:
                to_running.append(restarted - when)
            if sid in watcher.finished:
                to_done.append(watcher.finished[sid] - when)

    # A kill also ended any run of the killed process(es) that started after the lease read.
    runs = harness.run_intervals(logs)
    for when, kind, name, victims in kills:
        pids = {token.split("|")[1] for token in victims}
        for by_token in runs.values():
            for token, (start, end) in by_token.items():
                if (token_node(token) == harness.node_of(name) and (kind == "worker" or token.split("|")[1] in pids)
                        and end is None and start is not None and start < when):
                    killed_tokens.setdefault(token, when)
    overlaps = harness.overlapping_runs(runs, killed_tokens)

    # Results: one answers.pdf and one result.json per session, nothing else.
    extra_objects = [key for sid in ids for key in harness.unexpected_objects(rstorage, tenant, sid, complete=True)]
    # Webhooks: one event per session (ids are fixed by session and status); deliveries counted too.
    events = {}
    for request in receiver.requests:
        events.setdefault(request.path, set()).add(request.headers.get(EVENT_ID_HEADER))
    two_events = [path for path, found in events.items() if len(found) > 1]
    duplicated = len(extra_objects) + len(overlaps) + len(two_events)
    repaid = stats["requests"] - JOBS * QUESTIONS
    leftover = [sid for sid in harness.active_index(rredis) if sid in set(ids)]

    whole = sum(1 for k in kills if k[1] == "worker")
    harness.SUMMARY.append(harness.Row(
        fault="SIGKILL workers mid-job (2 workers x 2 processes)",
        injected=f"{len(kills)} SIGKILLs ({whole} of a whole worker, restarted; {len(kills) - whole} of a pool "
                 f"process), interrupting {interrupted} running jobs",
        jobs=JOBS, lost=lost, duplicated=duplicated,
        recovery=harness.seconds(to_running), completion=harness.seconds(to_done),
        notes=f"{repaid} model calls paid twice of {JOBS * QUESTIONS}; "
              f"{len(receiver.requests)} webhook deliveries for {len(events)} sessions"))

    assert lost == 0, f"not complete: {failed}; missing: {set(ids) - set(done)}"
    assert set(ids) <= set(runs), "every job's runs are in the workers' logs"
    assert not overlaps, overlaps
    assert not extra_objects, extra_objects
    assert not two_events, two_events
    assert not leftover, f"sessions still watched after completing: {leftover}"
    assert len(kills) >= 10 and interrupted >= 10, kills
    assert len(to_running) == interrupted, (to_running, interrupted)
    assert statistics.median(to_running) <= 60, to_running
    # Each kill interrupts at most one model call per job (concurrency 1); cached answers are not paid again.
    assert 0 <= repaid <= interrupted, stats


def test_a_job_that_kills_its_worker_every_time_fails_after_the_cap(rstack, rredis, rclient):
    """A poison job (here: its pool process is SIGKILLed each time it runs, as the OOM killer
    would) is run max_worker_losses + 1 times, then its session fails with a message; the
    worker keeps serving. Short lease settings keep this test quick."""
    env = {"QAGEN_LEASE_TTL_SECONDS": "3", "QAGEN_LEASE_RENEW_SECONDS": "1", "QAGEN_RECOVERY_INTERVAL_SECONDS": "1",
           "QAGEN_MAX_WORKER_LOSSES": "2"}
    with llm_stub("--latency-ms", "2000") as (api_base, _), \
            workers(rstack, ["poison"], {**stub_env(api_base, llm_concurrency=1), **env}):
        up = harness.upload(rclient, harness.paper(5000, 6), "poison.txt")
        sid = up.session_id
        kills, deadline = 0, time.monotonic() + 120
        while time.monotonic() < deadline:
            body = rclient.get(f"/api/v1/sessions/{sid}").json()
            if body["status"] == "failed":
                break
            token = harness.lease_holders(rredis).get(sid)
            if token and harness.record(rredis, sid).get("run_token") == token:
                os.kill(int(token.split("|")[1]), signal.SIGKILL)
                kills += 1
                harness.wait_for(lambda: harness.lease_holders(rredis).get(sid) != token, 30, "the lease to lapse")
            time.sleep(0.2)
        # The worker survived and serves the next job.
        after = harness.upload(rclient, harness.paper(5001, 2), "after.txt")
        done = harness.wait_all(rclient, [after.session_id], timeout=60)

    assert body["status"] == "failed", body
    assert "stopped the worker processing it 3 times" in body["error"], body["error"]
    assert kills == 3
    assert done[after.session_id]["status"] == "complete"
    harness.SUMMARY.append(harness.Row(
        fault="Poison job (its process SIGKILLed every run)", injected=f"{kills} kills of the same job",
        jobs=2, lost=0, duplicated=0,
        notes="failed with a message after max_worker_losses (2 here) + 1 losses; the next job completed"))


@pytest.mark.timeout(300)
def test_a_job_received_but_not_started_by_a_killed_worker_runs_within_a_lease_ttl(rstack, rredis, rclient):
    """The gap between a worker taking a message and the job taking its lease (a fresh pool
    process loading, a retry waiting for its time): a worker killed there must not leave the
    message in the broker's unacked set for the visibility timeout (40 min)."""
    settings = rstack.settings
    # No worker may be listening yet: one left running by an earlier test would take the message.
    app = make_celery(settings)
    app.control.shutdown()
    harness.wait_for(lambda: not app.control.ping(timeout=0.5), 30, "no worker to answer a ping")
    up = harness.upload(rclient, harness.paper(70000, 3), "held.txt")  # no worker: its message waits
    sid = up.session_id
    assert sid
    # Its message, sent again with a countdown, is one a worker takes and keeps without starting.
    held = [m for m in rredis.lrange(settings.queue, 0, -1) if sid.encode() in m]
    assert held, f"the job's message is not in the queue (session {harness.record(rredis, sid)})"
    assert rredis.lrem(settings.queue, 1, held[0]) == 1
    make_celery(settings).send_task(PROCESS_QUESTION_PAPER, args=[sid], task_id=sid, queue=settings.queue,
                                    countdown=120)
    with workers(rstack, ["e1"]):
        harness.wait_for(lambda: rredis.llen(settings.queue) == 0, 60, "e1 to take the message")
        time.sleep(1.0)
        assert harness.record(rredis, sid)["status"] == "queued"  # taken, not started
        killed = time.time()
        harness.kill_worker(rstack, "e1")
        harness.start_worker(rstack, "e2")
        try:
            body = harness.wait_all(rclient, [sid], timeout=120).get(sid, {})
        finally:
            harness.kill_worker(rstack, "e2")
    assert body.get("status") == "complete", body
    started = float(harness.record(rredis, sid)["run_started_at"])
    assert started - killed <= settings.lease_ttl_seconds + 3 * settings.recovery_interval_seconds
    harness.SUMMARY.append(harness.Row(
        fault="SIGKILL of a worker holding a received job it had not started",
        injected="1 SIGKILL (whole worker) with a countdown message held", jobs=1, lost=0, duplicated=0,
        recovery=harness.seconds([started - killed]),
        notes=f"lease ttl {settings.lease_ttl_seconds:.0f} s; the broker alone would hand it back after "
              f"{settings.task_hard_time_limit_seconds + 600:.0f} s"))

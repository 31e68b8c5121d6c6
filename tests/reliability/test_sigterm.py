"""SIGTERM to a busy worker's main process (what Kubernetes sends on scale-in, and only to
PID 1): a warm shutdown. It takes no new job, finishes the ones it runs within the grace
period, and exits; the queued jobs go to the other worker. Nothing is lost or run twice."""

from __future__ import annotations

import os
import signal
import time

import pytest

from qagen.jobs.leases import token_node
from tests.reliability import harness
from tests.reliability.conftest import llm_stub, stub_env, workers

JOBS = 8
GRACE_SECONDS = 90  # the test's grace period; jobs here take ~10 s (production: 2100 s > hard limit)


@pytest.mark.timeout(900)
def test_sigterm_to_a_busy_worker_finishes_its_jobs_and_loses_nothing(rstack, rredis, rstorage, rclient, tenant_key):
    with llm_stub("--latency-ms", "700") as (api_base, _), \
            workers(rstack, ["t1", "t2"], stub_env(api_base, llm_concurrency=1)):
        ids = [harness.upload(rclient, harness.paper(50000 + n, 12), f"term-{n}.txt").session_id for n in range(JOBS)]
        node = harness.node_of("t1")
        harness.wait_for(lambda: sum(token_node(t) == node for t in harness.lease_holders(rredis).values()) == 2,
                         60, "t1 to run two jobs")
        held = {sid for sid, token in harness.lease_holders(rredis).items() if token_node(token) == node}
        process = rstack.processes["t1"]
        termed_at = time.time()
        os.kill(process.pid, signal.SIGTERM)  # the main process only, as Kubernetes does
        process.wait(GRACE_SECONDS)
        exited_after = time.time() - termed_at
        rstack.processes.pop("t1")
        done = harness.wait_all(rclient, ids, timeout=180)
        logs = [rstack.log_path("t1"), rstack.log_path("t2")]

    runs = harness.run_intervals(logs)
    # The jobs t1 held were finished by t1 itself, in one run each, and t1 started nothing after the TERM.
    finished_by_t1 = [sid for sid in held
                      if [token_node(t) for t in runs.get(sid, {})] == [node]
                      and all(end is not None for _, end in runs[sid].values())]
    started_after_term = [sid for sid, by_token in runs.items() for token, (start, _) in by_token.items()
                          if token_node(token) == node and start is not None and start > termed_at + 0.5]
    lost = JOBS - sum(body["status"] == "complete" for body in done.values())
    multiple_runs = [sid for sid in ids if len(runs.get(sid, {})) != 1]
    extra = [key for sid in ids for key in harness.unexpected_objects(rstorage, tenant_key[0], sid, True)]
    harness.SUMMARY.append(harness.Row(
        fault="SIGTERM to a busy worker (scale-in)",
        injected=f"TERM with {len(held)} jobs running; exited after {exited_after:.1f} s",
        jobs=JOBS, lost=lost, duplicated=len(multiple_runs) + len(extra),
        notes=f"{len(finished_by_t1)}/{len(held)} running jobs finished by the terminating worker; "
              f"{len(started_after_term)} started by it after the TERM"))

    assert set(ids) <= set(runs), "every job's runs are in the workers' logs"
    assert process.returncode is not None and exited_after < GRACE_SECONDS
    assert lost == 0, done
    assert sorted(finished_by_t1) == sorted(held), runs
    assert not started_after_term, started_after_term
    assert not multiple_runs, {sid: runs.get(sid) for sid in multiple_runs}
    assert not extra, extra

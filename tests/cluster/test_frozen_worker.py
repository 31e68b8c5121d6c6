"""Scenario 4: a worker process frozen (SIGSTOP) for longer than its lease, then resumed.

While it is frozen its lease expires, a sweeper queues the job again and another run
finishes it. When it resumes (SIGCONT) it carries on where it was, and must not overwrite
anything of the newer run: its writes carry a stale fencing token and are refused, and it
stands down (its run ends `lost`), removing what it wrote under its own keys."""

from __future__ import annotations

import os
import random
import signal
import time

from qagen.jobs.leases import token_node
from tests.cluster import drill
from tests.reliability import harness


def test_a_worker_frozen_past_its_lease_cannot_overwrite_the_newer_run(cluster, credis, cstorage, cclient, tenant_key):
    tenant = tenant_key[0]
    sid = harness.upload(cclient, harness.paper(random.randrange(10**6), questions=16), "frozen.txt").session_id
    watcher = harness.Watcher(credis, [sid])
    watcher.start()
    try:
        frozen_token = next(iter(_running_past(credis, sid, 10, timeout=120).values()))
        node, pid = token_node(frozen_token).split("@")[0], int(frozen_token.split("|")[1])
        os.kill(pid, signal.SIGSTOP)
        frozen_at = time.time()
        try:
            # The lease (20 s) expires, a sweeper queues the job again, and another run completes it.
            harness.wait_for(lambda: watcher.next_start_after(sid, frozen_at) is not None, 60, "a newer run")
            done = harness.wait_all(cclient, [sid], 120)
            assert done.get(sid, {}).get("status") == "complete", done
            published = harness.record(credis, sid)
        finally:
            os.kill(pid, signal.SIGCONT)
        resumed_at = time.time()

        # The resumed run learns it lost the job and stands down, having written nothing.
        harness.wait_for(lambda: frozen_token in drill.run_ends(cluster.log_path(node), {frozen_token}), 90,
                         "the resumed run to stand down")
        ended = drill.run_ends(cluster.log_path(node), {frozen_token})[frozen_token]
        time.sleep(2)
        after = harness.record(credis, sid)
        problems = drill.output_problems(cstorage, credis, cclient, tenant, sid)
    finally:
        watcher.stop()

    moved = watcher.next_start_after(sid, frozen_at) - frozen_at
    stale = int(after != published) + len(problems)
    drill.ROWS.append(drill.Row("(4) worker process frozen past its lease (SIGSTOP, SIGCONT)",
                                f"SIGSTOP for {resumed_at - frozen_at:.0f} s (lease 20 s)", 1, 0, stale,
                                f"{moved:.1f}", f"{max(0.0, ended - resumed_at):.1f}",
                                f"the newer run (fencing token {published.get('fence')}) completed while it was "
                                f"frozen; the resumed run ended lost ({drill.how_it_learned(cluster.log_path(node), frozen_token)})"))
    assert after == published, "the resumed run changed the session record"
    assert problems == []
    assert int(published["fence"]) > 1 and f"/runs/{published['fence']}/" in published["result_key"]
    log = cluster.log_path(node).read_text(errors="replace")
    assert f"run {frozen_token} ended (lost)" in log


def _running_past(redis_client, session_id: str, progress: int, timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holders = harness.lease_holders(redis_client)
        if session_id in holders and int(harness.record(redis_client, session_id).get("progress") or 0) >= progress:
            return {session_id: holders[session_id]}
        time.sleep(0.1)
    raise TimeoutError(f"session {session_id} did not reach {progress}% within {timeout:.0f} s")

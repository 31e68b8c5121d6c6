"""Scenario 1: 30 papers over three worker nodes while one worker node is cut off from the
network for 60 s in the middle of a job, then reconnected.

Its runs' leases expire, the other nodes' sweepers queue their jobs again (the sweep bumps
each job's fencing token) and other runs finish them. Back on the network, the cut-off runs
must stand down without writing: no paper lost, every paper's outputs from exactly one run,
and the records, signed URLs and result.json name that run."""

from __future__ import annotations

import random
import time

from devtools import cluster as nodes
from qagen.webhooks import EVENT_ID_HEADER
from tests.cluster import drill
from tests.reliability import harness
from tests.webhooks.receiver import Receiver

PAPERS = 30
CUT_SECONDS = 60


def test_a_worker_node_cut_off_mid_job_loses_nothing_and_overwrites_nothing(cluster, credis, cstorage, cclient,
                                                                          tenant_key):
    tenant = tenant_key[0]
    base = random.randrange(10**6)
    receiver = Receiver(host=nodes.address("observer")).__enter__()
    ids = [harness.upload(cclient, harness.paper(base + n), f"paper-{n}.txt",
                          callback_url=receiver.url(f"/hook/{n}", host=nodes.address("observer"))).session_id
           for n in range(PAPERS)]
    assert all(ids)
    watcher = harness.Watcher(credis, ids)
    watcher.start()
    try:
        held = drill.wait_for_jobs_on(credis, "w1", ids, timeout=120)
        cut_off_fences = {sid: int(harness.record(credis, sid)["fence"]) for sid in held}
        cut_at = cluster.cut("w1")
        assert not cluster.reachable("w1", "data", 6379), "traffic still crosses the cut link"
        time.sleep(max(0.0, cut_at + CUT_SECONDS - time.time()))
        healed_at = cluster.heal("w1")
        assert cluster.reachable("w1", "data", 6379)

        done = harness.wait_all(cclient, ids, timeout=300)
        tokens = set(held.values())
        harness.wait_for(lambda: set(drill.run_ends(cluster.log_path("w1"), tokens)) == tokens, 90,
                         "the cut-off runs to stand down")
        ends = drill.run_ends(cluster.log_path("w1"), tokens)
        settled = {sid: harness.record(credis, sid) for sid in held}
        time.sleep(3)  # anything the cut-off node still had to say, it has said
        after = {sid: harness.record(credis, sid) for sid in held}
        problems = [p for sid in ids for p in drill.output_problems(cstorage, credis, cclient, tenant, sid)]
        receiver.wait_for(PAPERS, timeout=30)
    finally:
        watcher.stop()
        receiver.__exit__()
    events: dict[str, set[str]] = {}
    for request in receiver.requests:
        events.setdefault(request.path, set()).add(request.headers.get(EVENT_ID_HEADER))

    lost = [sid for sid in ids if done.get(sid, {}).get("status") != "complete"]
    overwritten = [sid for sid in held if after[sid] != settled[sid]]
    moved = [watcher.next_start_after(sid, cut_at) - cut_at for sid in held
             if watcher.next_start_after(sid, cut_at) is not None]
    stood_down = [ends[token] - healed_at for token in tokens]
    drill.ROWS.append(drill.Row(
        "(1) worker node cut off mid-job, reconnected", f"w1's link down {healed_at - cut_at:.0f} s with "
        f"{len(held)} job(s) running on it", PAPERS, len(lost), len(problems) + len(overwritten),
        drill.seconds(moved), drill.seconds(stood_down),
        f"{len(receiver.requests)} webhook deliveries, {sum(len(e) for e in events.values())} events for "
        f"{len(events)} sessions; stand-down relative to the heal (negative: before it, its heartbeat gave up); "
        + "; ".join(sorted({drill.how_it_learned(cluster.log_path("w1"), token) for token in tokens}))))
    assert lost == []
    assert problems == []
    assert overwritten == []
    # One completion event per paper, whichever runs it had.
    assert sorted(events) == sorted(f"/hook/{n}" for n in range(PAPERS))
    assert all(len(found) == 1 for found in events.values())
    assert len(moved) == len(held), "a job held by the cut-off node did not run again elsewhere"
    # Published by a later run than the cut-off one.
    assert all(int(after[sid]["fence"]) > cut_off_fences[sid] for sid in held)

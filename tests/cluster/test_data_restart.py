"""Scenario 3: the data node restarted (Redis with its append-only file, SeaweedFS) while a
worker node is cut off in the middle of a job.

The jobs the cut-off node held run again elsewhere once Redis is back; no fencing token is
handed out twice across the restart (Redis fsyncs every write here, `appendfsync always`);
when the node comes back its runs stand down; no paper is lost and each has one run's outputs."""

from __future__ import annotations

import random
import signal
import time

from qagen.jobs.fencing import fence_key
from tests.cluster import drill
from tests.reliability import harness

PAPERS = 8
CUT_SECONDS = 45


def test_the_data_node_restarted_while_a_worker_node_is_cut_off(cluster, credis, cstorage, cclient, tenant_key):
    tenant = tenant_key[0]
    base = random.randrange(10**6)
    ids = [harness.upload(cclient, harness.paper(base + n), f"paper-{n}.txt").session_id for n in range(PAPERS)]
    assert all(ids)
    watcher = harness.Watcher(credis, ids)
    watcher.start()
    try:
        held = drill.wait_for_jobs_on(credis, "w2", ids, timeout=120)
        cut_at = cluster.cut("w2")
        fences_before = {sid: int(credis.get(fence_key(sid)) or 0) for sid in ids}
        down_at = time.time()
        cluster.stop("redis", signal.SIGTERM)
        cluster.stop("s3", signal.SIGTERM, timeout=5)
        cluster.start_data()
        data_back = time.time() - down_at
        time.sleep(max(0.0, cut_at + CUT_SECONDS - time.time()))
        healed_at = cluster.heal("w2")

        done = harness.wait_all(cclient, ids, timeout=300)
        tokens = set(held.values())
        harness.wait_for(lambda: set(drill.run_ends(cluster.log_path("w2"), tokens)) == tokens, 90,
                         "the cut-off runs to stand down")
        ends = drill.run_ends(cluster.log_path("w2"), tokens)
        time.sleep(2)
        problems = [p for sid in ids for p in drill.output_problems(cstorage, credis, cclient, tenant, sid)]
        fences_after = {sid: int(credis.get(fence_key(sid)) or 0) for sid in ids}
    finally:
        watcher.stop()

    lost = [sid for sid in ids if done.get(sid, {}).get("status") != "complete"]
    moved = [watcher.next_start_after(sid, cut_at) - cut_at for sid in held
             if watcher.next_start_after(sid, cut_at) is not None]
    drill.ROWS.append(drill.Row(
        "(3) data node restarted while a worker node is cut off",
        f"w2 cut {healed_at - cut_at:.0f} s with {len(held)} job(s); Redis and SeaweedFS down and back in "
        f"{data_back:.0f} s", PAPERS, len(lost), len(problems), drill.seconds(moved),
        drill.seconds([ends[t] - healed_at for t in tokens]),
        "; ".join(sorted({drill.how_it_learned(cluster.log_path("w2"), t) for t in tokens}))))
    assert lost == []
    assert problems == []
    assert len(moved) == len(held)
    assert all(fences_after[sid] >= fences_before[sid] for sid in ids), "a fencing counter went back"
    assert all(fences_after[sid] > fences_before[sid] for sid in held)

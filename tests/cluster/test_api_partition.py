"""Scenario 2: the API node cut off from the data node (Redis and S3), clients still reaching it.

Uploads meanwhile answer 503 with Retry-After, in seconds (the API waits out no dead link);
nothing is half-written (no record, no object, no message for an upload that was refused);
once the link is back the API serves uploads again within seconds, and they complete."""

from __future__ import annotations

import random
import time

from tests.cluster import drill
from tests.reliability import harness


def test_the_api_cut_off_from_the_data_node_answers_503_and_recovers(cluster, credis, cstorage, cclient, tenant_key):
    tenant = tenant_key[0]
    base = random.randrange(10**6)
    before = harness.upload(cclient, harness.paper(base, questions=3), "before.txt")
    assert before.session_id

    cut_at = cluster.cut("api")
    assert not cluster.reachable("api", "data", 6379) and cluster.reachable("observer", "data", 6379)
    answers = []
    for n in range(4):
        started = time.monotonic()
        response = cclient.post("/api/v1/upload", files={"file": (f"cut-{n}.txt", harness.paper(base + 1 + n, 3))})
        answers.append((response.status_code, response.headers.get("Retry-After"), time.monotonic() - started))
    healed_at = cluster.heal("api")
    after = harness.upload(cclient, harness.paper(base + 9, questions=3), "after.txt", max_wait=0.2)
    back_in = time.time() - healed_at

    done = harness.wait_all(cclient, [before.session_id, after.session_id], timeout=120)
    sessions = {m.decode() for m in credis.zrange(f"qagen:tenant:{tenant}:sessions", 0, -1)}
    objects = cstorage.list_keys(f"sessions/{tenant}/")
    strays = [key for key in objects if key.split("/")[2] not in sessions]
    drill.ROWS.append(drill.Row(
        "(2) API node cut off from the data node", f"{len(answers)} uploads during a {healed_at - cut_at:.0f} s cut",
        len(sessions), 2 - sum(1 for s in done.values() if s["status"] == "complete"), len(strays),
        "-", "-", f"answers {[a[0] for a in answers]} in {max(a[2] for a in answers):.1f} s at most, Retry-After "
        f"{sorted({a[1] for a in answers})}; an upload answered 202 {back_in:.1f} s after the link came back"))

    assert all(status == 503 and retry_after for status, retry_after, _ in answers), answers
    assert max(seconds for _, _, seconds in answers) < 30
    assert sessions == {before.session_id, after.session_id}  # nothing recorded for a refused upload
    assert strays == []  # and nothing stored for one
    assert after.session_id and back_in < 15
    assert {s["status"] for s in done.values()} == {"complete"} and len(done) == 2

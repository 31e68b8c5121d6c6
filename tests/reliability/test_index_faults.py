"""Indexing course notes is as sturdy as answering a paper: notes that kill their worker every
time fail the knowledge base after the cap (not an endless loop of redeliveries), and an
index build past the soft time limit fails the base with a message (not `indexing` for good).

The notes are scans (tests/reliability/harness.py: scanned_notes_pdf), so reading them is
seconds of OCR: a window to kill the process, or a way past a short time limit."""

from __future__ import annotations

import os
import signal
import time

import pytest

from qagen.knowledge.indexing import INDEX_LEASES
from qagen.knowledge.store import run_key_for
from tests.reliability import harness
from tests.reliability.conftest import workers


def create_base(client, files: list[tuple[str, bytes]], name: str = "notes") -> str:
    response = client.post("/api/v1/knowledge", data={"name": name},
                           files=[("file", (filename, data)) for filename, data in files])
    assert response.status_code == 202, response.text
    return response.json()["knowledge_base_id"]


def wait_settled(client, kb_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/knowledge/{kb_id}").json()
        if body["status"] != "indexing":
            return body
        time.sleep(0.3)
    raise AssertionError(f"knowledge base {kb_id} still indexing after {timeout} s")


@pytest.mark.timeout(300)
def test_notes_that_kill_their_worker_every_time_fail_the_base_after_the_cap(rstack, rredis, rclient):
    env = {"QAGEN_LEASE_TTL_SECONDS": "3", "QAGEN_LEASE_RENEW_SECONDS": "1", "QAGEN_MAX_WORKER_LOSSES": "2"}
    with workers(rstack, ["kbpoison"], env):
        kb_id = create_base(rclient, [("unit-1-scan.pdf", harness.scanned_notes_pdf(8))], "poison notes")
        kills, deadline = 0, time.monotonic() + 200
        while time.monotonic() < deadline:
            body = rclient.get(f"/api/v1/knowledge/{kb_id}").json()
            if body["status"] != "indexing":
                break
            token = rredis.get(INDEX_LEASES.lease_prefix + kb_id)
            run = rredis.hmget(run_key_for(kb_id), "run_token", "reading")
            if token and run[0] == token and run[1]:  # the run is reading the notes
                os.kill(int(token.decode().split("|")[1]), signal.SIGKILL)  # as the OOM killer would
                kills += 1
                harness.wait_for(lambda: rredis.get(INDEX_LEASES.lease_prefix + kb_id) != token, 30,
                                 "the lease to lapse")
            time.sleep(0.1)
        # The worker survived and indexes the next base.
        after = create_base(rclient, [("queues.md", b"# Queues\n\nA queue is first in, first out.")], "after")
        settled = wait_settled(rclient, after, 60)

    assert body["status"] == "failed", body
    assert "stopped the worker 3 times" in body["error"], body["error"]
    assert "while reading unit-1-scan.pdf" in body["error"], body["error"]  # the file to leave out
    assert kills == 3
    assert settled["status"] == "ready", settled
    harness.SUMMARY.append(harness.Row(
        fault="Poison notes (the indexing process SIGKILLed every run)", injected=f"{kills} kills of the same index",
        jobs=2, lost=0, duplicated=0,
        notes="the base failed with a message after max_worker_losses (2 here) + 1 losses; the next base indexed"))


@pytest.mark.timeout(300)
def test_an_index_build_past_the_soft_time_limit_fails_the_base_with_a_message(rstack, rclient):
    env = {"QAGEN_TASK_SOFT_TIME_LIMIT_SECONDS": "4", "QAGEN_TASK_HARD_TIME_LIMIT_SECONDS": "20",
           "QAGEN_PARSE_TIMEOUT_SECONDS": "3"}
    with workers(rstack, ["kbslow"], env):
        files = [(f"unit-{n}-scan.pdf", harness.scanned_notes_pdf(2, seed=n)) for n in range(4)]
        kb_id = create_base(rclient, files, "slow notes")
        started = time.monotonic()
        body = wait_settled(rclient, kb_id, 120)
        took = time.monotonic() - started

    assert body["status"] == "failed", body
    assert "longer than the time limit (4 s)" in body["error"], body["error"]
    harness.SUMMARY.append(harness.Row(
        fault="Index build past the soft time limit", injected="4 scanned notes files, 4 s soft limit",
        jobs=1, lost=0, duplicated=0, completion=f"failed after {took:.1f}",
        notes="the base failed with a message, not left indexing"))

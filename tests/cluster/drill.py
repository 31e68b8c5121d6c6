"""What the cluster scenarios share: who holds which job, what each session's outputs and
record say, when a cut-off or frozen run stood down, and the summary table."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from qagen.jobs.fencing import RUNS_FOLDER
from qagen.jobs.leases import token_node
from qagen.jobs.records import object_prefix
from tests.reliability import harness

SUMMARY_FILE = harness.REPO / "test-artifacts" / "cluster-summary.md"


@dataclass
class Row:
    scenario: str
    injected: str
    jobs: int
    lost: int
    stale_overwrites: int
    to_elsewhere: str = "-"
    to_stand_down: str = "-"
    notes: str = ""


ROWS: list[Row] = []


def table() -> str:
    head = ["scenario", "injected", "jobs", "lost", "duplicated or overwritten by a stale run",
            "partition to running elsewhere, s", "heal (or resume) to the stale run standing down, s", "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in ROWS:
        lines.append("| " + " | ".join(str(v) for v in (r.scenario, r.injected, r.jobs, r.lost, r.stale_overwrites,
                                                         r.to_elsewhere, r.to_stand_down, r.notes)) + " |")
    return "\n".join(lines)


def held_on(redis_client, node: str) -> dict[str, str]:
    """session -> token of the runs on `node` (a worker named after its node) holding a lease now."""
    return {sid: token for sid, token in harness.lease_holders(redis_client).items()
            if token_node(token).startswith(node + "@")}


def wait_for_jobs_on(redis_client, node: str, session_ids: list[str], timeout: float,
                     min_progress: int = 10) -> dict[str, str]:
    """Wait until `node` runs one of `session_ids` past `min_progress` percent; its held runs then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = {sid: tok for sid, tok in held_on(redis_client, node).items() if sid in session_ids}
        if any(int(harness.record(redis_client, sid).get("progress") or 0) >= min_progress for sid in held):
            return held
        time.sleep(0.2)
    raise TimeoutError(f"no job of these {len(session_ids)} ran on {node} within {timeout:.0f} s")


def run_ends(log: Path, tokens: set[str]) -> dict[str, float]:
    """token -> when the run logged its end ('session …: run … ended (…)'), for the ended ones."""
    ends = {}
    for by_token in harness.run_intervals([log]).values():
        for token, (_, end) in by_token.items():
            if token in tokens and end is not None:
                ends[token] = end
    return ends


def output_problems(storage, redis_client, client, tenant: str, session_id: str) -> list[str]:
    """What is wrong with a complete session's outputs: objects of more than one run, or a
    record, a signed URL or a result.json that does not name the run that published."""
    problems = [f"{session_id}: unexpected object {key}"
                for key in harness.unexpected_objects(storage, tenant, session_id, complete=True)]
    record = harness.record(redis_client, session_id)
    winner = f"{object_prefix(tenant, session_id)}{RUNS_FOLDER}{record.get('fence')}/"
    if not (record.get("result_key", "").startswith(winner) and record.get("result_json_key", "").startswith(winner)):
        problems.append(f"{session_id}: the record names {record.get('result_key')}, not the last run's {winner}")
    download = client.get(f"/api/v1/download/{session_id}", follow_redirects=False)
    if download.status_code != 302 or f"/{winner}" not in download.headers.get("location", ""):
        problems.append(f"{session_id}: the download answers {download.status_code} "
                        f"{download.headers.get('location', '')[:120]}")
    served = client.get(f"/api/v1/sessions/{session_id}/result.json")
    stored = json.loads(storage.get(record["result_json_key"])) if record.get("result_json_key") else {}
    if served.status_code != 200 or _answers(served.json()) != _answers(stored):
        problems.append(f"{session_id}: result.json served ({served.status_code}) is not the published run's")
    return problems


def how_it_learned(log: Path, token: str) -> str:
    """How a run learned it had lost its job: a refused write (fencing) or its heartbeat."""
    text = log.read_text(errors="replace")
    if f"run {token} stopped (" in text and "was refused" in text.split(f"run {token} stopped (", 1)[1][:300]:
        return "a write refused by its stale fencing token"
    if f"run {token} lost its lease" in text:
        reason = text.split(f"run {token} lost its lease: ", 1)[1].split('"', 1)[0].split(" (", 1)[0]
        return f"its heartbeat: the lease {reason}"
    return "not logged"


def _answers(paper: dict) -> list:
    return [(q.get("number"), (q.get("answer") or {}).get("text")) for q in paper.get("questions", [])]


def seconds(values: list[float]) -> str:
    return harness.seconds(values)

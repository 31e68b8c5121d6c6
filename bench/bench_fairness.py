"""Fair scheduling between tenants: one tenant's single paper behind another's backlog.

    .venv/bin/python bench/bench_fairness.py [--backlog 60] [--repeats 1]

On one stack (the API under gunicorn, one worker with 2 pool processes, the offline engine),
tenant A uploads `backlog` ten-question PDFs through the API, then tenant B uploads one.
Measured from the session records: B's wait from its upload to its start and to its
completion, and A's total time (its first upload to its last paper complete); one paper's
run time is the median of A's papers' start-to-finish. The same run with
`QAGEN_FAIR_SCHEDULING=false` (the API sends every job straight onto the Celery queue, first
in, first out) is the baseline. The two modes alternate when repeated, each on its own API
and worker (warmed first: every pool process's first job imports the pipeline); every paper
is salted, so the answer cache never hits. Before each run the benchmark waits (up to 20 s) for
other processes to leave the CPUs alone, and records how busy they were; A's total is compared
run by run (each fair run with the FIFO run next to it, the median of those ratios), since on a
shared machine one run's total moves by more than the 10% the target allows.

Targets (issue 21): B starts within 1.5x one paper's run time; A's total within 10% of FIFO.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.common import Row, print_table, wait_until_quiet  # noqa: E402
from bench.papers import pdf_paper  # noqa: E402
from bench.stack import BenchStack, run_standalone  # noqa: E402
from qagen.apikeys import ApiKeyStore  # noqa: E402

QUESTIONS = 10
MODES = {"fair": "true", "fifo": "false"}


def _upload(client: httpx.Client, salt: str) -> tuple[str, float]:
    sent = time.time()
    response = client.post("/api/v1/upload", files={"file": ("paper.pdf", pdf_paper(QUESTIONS, salt), "application/pdf")})
    response.raise_for_status()
    return response.json()["session_id"], sent


def _times(stack: BenchStack, ids: list[str], timeout: float) -> dict[str, tuple[float, float]]:
    stack.wait_sessions(ids, timeout=timeout, interval=0.05)
    out = {}
    for sid in ids:
        started, finished = stack.redis.hmget(f"qagen:session:{sid}", "started_at", "finished_at")
        out[sid] = (float(started), float(finished))
    return out


def one_run(stack: BenchStack, api_url: str, backlog: int) -> dict:
    keys = {name: ApiKeyStore(stack.redis).create(f"bench-{name}-{uuid.uuid4().hex[:6]}") for name in "AB"}
    clients = {n: httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {k}"}, timeout=60)
               for n, k in keys.items()}
    try:
        a = [_upload(clients["A"], uuid.uuid4().hex[:8]) for _ in range(backlog)]
        b_id, b_sent = _upload(clients["B"], uuid.uuid4().hex[:8])
    finally:
        for c in clients.values():
            c.close()
    done = _times(stack, [sid for sid, _ in a] + [b_id], timeout=120 + 10 * backlog)
    paper = statistics.median(done[sid][1] - done[sid][0] for sid, _ in a)
    b_start, b_end = done[b_id]
    return {"paper_s": paper, "b_start_s": b_start - b_sent, "b_complete_s": b_end - b_sent,
            "a_total_s": max(done[sid][1] for sid, _ in a) - a[0][1],
            "a_started_after_b": sum(1 for sid, _ in a if done[sid][0] > b_start)}


def run(stack: BenchStack, backlog: int = 60, repeats: int = 1) -> tuple[list[Row], dict]:
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for repeat in range(repeats):
        order = list(MODES) if repeat % 2 == 0 else list(MODES)[::-1]  # fair, FIFO, FIFO, fair, ...
        for mode in order:
            flag = MODES[mode]
            worker = stack.start_worker("worker", concurrency=2, QAGEN_FAIR_SCHEDULING=flag)
            try:
                worker.wait_ready()
                with stack.api(QAGEN_QUEUE=worker.queue, QAGEN_FAIR_SCHEDULING=flag) as api:
                    one_run(stack, api.layout.api_url, 4)  # warm-up: both pool processes import the pipeline
                    others = wait_until_quiet(20)
                    runs[mode].append({**one_run(stack, api.layout.api_url, backlog), "other_cpu_share": others})
            finally:
                worker.stop()
    med = {mode: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for mode, rs in runs.items()}
    fair, fifo = med["fair"], med["fifo"]
    start_ratio = statistics.median(r["b_start_s"] / r["paper_s"] for r in runs["fair"])
    total_ratio = statistics.median(f["a_total_s"] / o["a_total_s"] for f, o in zip(runs["fair"], runs["fifo"]))
    print_table(f"Tenant A uploads {backlog} papers, then tenant B uploads 1 ({QUESTIONS}-question PDFs, offline "
                f"engine, 1 worker x 2 processes; median of {repeats})",
                ["scheduling", "one paper s", "B upload->start s", "B upload->complete s", "A total s",
                 "A papers started after B", "other processes' CPU"],
                [[mode, round(m["paper_s"], 2), round(m["b_start_s"], 2), round(m["b_complete_s"], 2),
                  round(m["a_total_s"], 1), int(m["a_started_after_b"]), f"{m['other_cpu_share']:.0%}"]
                 for mode, m in med.items()])
    pairs = ", ".join(f"{f['a_total_s'] / o['a_total_s']:.2f}" for f, o in zip(runs["fair"], runs["fifo"]))
    print(f"\nB's start over one paper's run time (fair, median of runs): {start_ratio:.2f}x; A's total, fair over "
          f"the FIFO run beside it (median of pairs): {total_ratio:.2f}x ({pairs})")
    rows = [Row(f"fairness: B's one paper, upload to start, behind A's {backlog} (x one paper's run)",
                fair["b_start_s"], "s", fifo["b_start_s"], "FIFO", start_ratio, "<= 1.5x one paper",
                start_ratio <= 1.5, note=f"one paper {fair['paper_s']:.2f} s; ratio: B's wait over one paper's run "
                                         "time, median of runs"),
            Row(f"fairness: A's {backlog} papers, total time vs FIFO", fair["a_total_s"], "s", fifo["a_total_s"],
                "FIFO", total_ratio, "<= 1.10x", total_ratio <= 1.10,
                note="ratio: median over runs of fair / the FIFO run beside it")]
    return rows, {"backlog": backlog, "questions": QUESTIONS, "repeats": repeats, "runs": runs, "median": med,
                  "b_start_over_paper": start_ratio, "a_total_over_fifo": total_ratio}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    return run_standalone("fairness", lambda stack: run(stack, args.backlog, args.repeats))


if __name__ == "__main__":
    raise SystemExit(main())

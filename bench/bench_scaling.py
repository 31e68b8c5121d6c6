"""Throughput of 1 vs 2 worker processes on the offline engine.

    .venv/bin/python bench/bench_scaling.py [--papers 32] [--repeats 3]

One qagen worker (prefork) with concurrency 1, then a fresh one with concurrency 2, on
the same stack. Each pool process first runs warm-up jobs (its first job imports the
pipeline, which is not what this measures). Then a batch of N ten-question PDFs (every
question salted, so the answer cache never hits) is enqueued at once, the way the API
does it (store, session record, send_task), and timed from the first send to the last
session seen complete (polled every 50 ms). Papers per second, median of the repeats.
Batches of 32: the last paper of a batch runs alone, a tail that a batch of 16 made ~6%
of the two-process time (a steady stream of jobs has none).
Both workers run with production's settings, `worker_max_tasks_per_child` included (the
Settings default, 50): a pool process is replaced after 50 jobs and its successor pays the
pipeline's imports again, inside a measured batch, as it would in production. How many
pool processes were replaced in each side's batches is printed and recorded beside the
figures (with 3 batches of 32, about one on each side).
Target: 2 processes >= 1.8x one on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, print_table, production_default  # noqa: E402
from bench.papers import pdf_paper  # noqa: E402
from bench.common import cpu_accounting, foreign_cpu_fraction  # noqa: E402
from bench.stack import BenchStack, cpu_seconds, process_tree, run_standalone  # noqa: E402

QUESTIONS = 10


def batch(stack: BenchStack, celery, queue: str, papers: int) -> float:
    """Seconds from the first send to the last paper complete."""
    datas = [pdf_paper(QUESTIONS, uuid.uuid4().hex[:8]) for _ in range(papers)]
    started = time.perf_counter()
    ids = [stack.submit(celery, data, "ten.pdf", queue) for data in datas]
    done = stack.wait_sessions(ids, timeout=60 + 10 * papers, interval=0.05)
    return max(done.values()) - started


def _groups(stack: BenchStack, worker) -> dict[str, list[int]]:
    pids = worker.pids()
    return {"pool processes": pids[1:], "worker main": pids[:1],
            "redis": [stack.local.processes["redis"].pid],
            "seaweedfs": process_tree(stack.local.processes["s3"].pid), "benchmark (polling)": [os.getpid()]}


def _cpu(groups: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}


def run(stack: BenchStack, papers: int = 32, repeats: int = 3) -> tuple[list[Row], dict]:
    # Both workers are started and warmed first, then their batches alternate (1, 2, 1, 2, ...),
    # so a change in the machine's background load hits both alike. An idle worker costs ~nothing.
    # Production's worker_max_tasks_per_child (set explicitly, so this shell's environment cannot
    # change it): a replaced pool process pays the pipeline's imports again (see bench_worker.py)
    # in whichever side's batch it falls; the replacements are counted per side.
    max_tasks = production_default("worker_max_tasks_per_child")
    workers = {n: stack.start_worker("worker", concurrency=n, QAGEN_WORKER_MAX_TASKS_PER_CHILD=str(max_tasks))
               for n in (1, 2)}
    walls: dict[int, list[float]] = {1: [], 2: []}
    recycled: dict[int, int] = {1: 0, 2: 0}
    try:
        celery = {}
        for n, worker in workers.items():
            worker.wait_ready()
            celery[n] = stack.celery(worker.queue)
            batch(stack, celery[n], worker.queue, 2 * n)  # every pool process imports the pipeline
        cpu_before = os.times()
        usage: dict[int, dict[str, float]] = {1: {}, 2: {}}
        for _ in range(repeats):
            for n, worker in workers.items():
                groups = _groups(stack, worker)
                before, machine_before, started = _cpu(groups), cpu_accounting(), time.perf_counter()
                walls[n].append(batch(stack, celery[n], worker.queue, papers))
                recycled[n] += len(set(groups["pool processes"]) - set(worker.pids()[1:]))
                groups["pool processes"] = sorted(set(groups["pool processes"]) | set(worker.pids()[1:]))
                after = _cpu(groups)
                for name in groups:
                    usage[n][name] = usage[n].get(name, 0.0) + after[name] - before[name]
                usage[n]["other processes"] = usage[n].get("other processes", 0.0) + foreign_cpu_fraction(
                    machine_before, cpu_accounting(), time.perf_counter() - started) * 2 * walls[n][-1]
        bench_cpu = sum(os.times()[:2]) - sum(cpu_before[:2])
    finally:
        for worker in workers.values():
            worker.stop()
    figures = {n: {"walls_s": w, "median_s": statistics.median(w), "papers_per_s": papers / statistics.median(w),
                   "pool_processes_replaced": recycled[n],
                   "cpu_s_per_paper": {k: v / (papers * repeats) for k, v in usage[n].items()},
                   "cores_busy": {k: v / sum(w) for k, v in usage[n].items()}}
               for n, w in walls.items()}
    one, two = figures[1], figures[2]
    ratio = two["papers_per_s"] / one["papers_per_s"]
    print_table(f"Throughput, {papers} x {QUESTIONS}-question PDFs, offline engine (median of {repeats}, alternating)",
                ["pool processes", "batch s", "papers/s", "per paper s", "runs s", "processes replaced"],
                [[n, round(r["median_s"], 2), round(r["papers_per_s"], 2), round(r["median_s"] / papers, 3),
                  " ".join(f"{w:.2f}" for w in r["walls_s"]), r["pool_processes_replaced"]]
                 for n, r in figures.items()])
    print(f"\nCPU while the batches ran (cores busy on average; {os.cpu_count()} cores):")
    for n, r in figures.items():
        print(f"  {n} pool process(es): " + ", ".join(f"{k} {v:.2f}" for k, v in r["cores_busy"].items())
              + f"; pool CPU per paper {r['cpu_s_per_paper']['pool processes'] * 1000:.0f} ms")
    rows = [Row(f"throughput, 2 vs 1 worker processes ({QUESTIONS}-question PDFs, offline)", two["papers_per_s"] * 60,
                "papers/min", one["papers_per_s"] * 60, "1 process", ratio, ">= 1.8x", ratio >= 1.8,
                note=f"max tasks per child {max_tasks} (production); pool processes replaced while measuring: "
                     f"{one['pool_processes_replaced']} (1 process), {two['pool_processes_replaced']} (2)")]
    return rows, {"papers": papers, "questions": QUESTIONS, "worker_max_tasks_per_child": max_tasks,
                  "one": one, "two": two, "ratio": ratio,
                  "bench_process_cpu_s": bench_cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    return run_standalone("scaling", lambda stack: run(stack, args.papers, args.repeats))


if __name__ == "__main__":
    raise SystemExit(main())

"""Memory: RSS and PSS of qagen's worker processes, idle and busy, beside a bare Celery worker.

    .venv/bin/python bench/bench_memory.py

A qagen worker as deployed (prefork, concurrency 2) and a bare Celery worker started the
same way (bench/stack.py). From /proc: VmRSS (status) and Pss (smaps_rollup; PSS counts
pages shared after the fork once, which is what a container is charged).

- idle: a pool process right after "ready" (nothing imported beyond the start-up path)
- busy: the peak of the pool process running a 40-question PDF (8 charts), sampled every 20 ms;
  the process's first job, so the pipeline's imports are in it
- warm idle: the same process after the job (the pipeline's libraries stay imported)
Each figure is the median over `repeats` runs, each with fresh workers (a bare one and a
qagen one); every run's figures are recorded beside the medians.
The gunicorn API worker's memory is measured under load in bench_api.py.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, print_table  # noqa: E402
from bench.papers import pdf_paper  # noqa: E402
from bench.stack import BenchStack, PeakSampler, memory_mib, run_standalone  # noqa: E402


def _settled(worker, count: int, timeout: float = 20.0) -> list[int]:
    """The worker's pids (main first) once all its pool processes exist."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = worker.pids()
        if len(pids) >= count + 1:
            return pids
        time.sleep(0.05)
    raise TimeoutError("the pool processes did not start")


def median_figures(runs: list[dict]) -> dict:
    """The median of every number over the runs, nested dicts alike (the runs share one shape)."""
    first = runs[0]
    out: dict = {}
    for key, value in first.items():
        if isinstance(value, dict):
            out[key] = median_figures([run[key] for run in runs])
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = statistics.median(run[key] for run in runs)
        else:
            out[key] = value
    return out


def run(stack: BenchStack, concurrency: int = 2, questions: int = 40, repeats: int = 3) -> tuple[list[Row], dict]:
    runs = [measure_once(stack, concurrency, questions) for _ in range(repeats)]
    m = median_figures(runs)
    bare_mem, idle, busy, warm, main_after = m["bare"], m["idle"], m["busy_peak"], m["warm_idle"], m["main_after_job"]
    job_seconds = m["job_seconds"]
    print_table(f"Worker memory, MiB (prefork, concurrency {concurrency}; busy = a {questions}-question PDF, "
                f"{job_seconds:.1f} s, the process's first job; median of {repeats} runs)",
                ["process", "RSS", "PSS", "bare Celery RSS", "bare PSS"],
                [["main process, idle", round(idle["main"]["rss"]), round(idle["main"]["pss"]),
                  round(bare_mem["main"]["rss"]), round(bare_mem["main"]["pss"])],
                 ["pool process, idle (fresh)", round(idle["child"]["rss"]), round(idle["child"]["pss"]),
                  round(bare_mem["child"]["rss"]), round(bare_mem["child"]["pss"])],
                 ["pool process, busy (peak)", round(busy["rss"]), round(busy["pss"]), "", ""],
                 ["pool process, idle after the job", round(warm["rss"]), round(warm["pss"]), "", ""],
                 ["main process after the job", round(main_after["rss"]), round(main_after["pss"]), "", ""]])
    median_of = f"median of {repeats} runs"
    rows = [
        Row("memory: worker pool process, idle (RSS)", idle["child"]["rss"], "MiB", bare_mem["child"]["rss"],
            "bare Celery", idle["child"]["rss"] / bare_mem["child"]["rss"],
            note=f"PSS {idle['child']['pss']:.0f} vs {bare_mem['child']['pss']:.0f} MiB; {median_of}"),
        Row(f"memory: worker pool process, busy peak ({questions} questions) (RSS)", busy["rss"], "MiB",
            note=f"PSS {busy['pss']:.0f} MiB; {median_of}"),
        Row("memory: worker pool process, idle after a job (RSS)", warm["rss"], "MiB",
            note=f"PSS {warm['pss']:.0f} MiB; {median_of}"),
        Row("memory: worker main process, idle (RSS)", idle["main"]["rss"], "MiB", bare_mem["main"]["rss"], "bare Celery",
            idle["main"]["rss"] / bare_mem["main"]["rss"], note=median_of),
    ]
    details = {"concurrency": concurrency, "questions": questions, "repeats": repeats, **m, "runs": runs}
    return rows, details


def measure_once(stack: BenchStack, concurrency: int, questions: int) -> dict:
    """One run: a fresh bare worker, then a fresh qagen worker and its first (large) job."""
    bare = stack.start_worker("bench.bare_app", concurrency=concurrency)
    try:
        bare.wait_ready()
        pids = _settled(bare, concurrency)
        time.sleep(1.0)
        bare_mem = {"main": memory_mib(pids[0]), "child": memory_mib(pids[1])}
    finally:
        bare.stop()

    worker = stack.start_worker("worker", concurrency=concurrency)
    try:
        worker.wait_ready()
        pids = _settled(worker, concurrency)
        time.sleep(1.0)
        main, children = pids[0], pids[1:]
        idle = {"main": memory_mib(main), "child": memory_mib(children[0])}
        sampler = PeakSampler(children, interval=0.02)
        sampler.start()
        started = time.perf_counter()
        session = stack.submit(stack.celery(worker.queue), pdf_paper(questions, uuid.uuid4().hex[:6]), "forty.pdf",
                               worker.queue)
        stack.wait_sessions([session], timeout=180, interval=0.02)
        job_seconds = time.perf_counter() - started
        peaks = sampler.stop()
        busy_pid = max(children, key=lambda pid: peaks[pid]["rss"])
        time.sleep(0.5)
        warm = memory_mib(busy_pid)
        main_after = memory_mib(main)
    finally:
        worker.stop()

    return {"job_seconds": job_seconds, "bare": bare_mem, "idle": idle, "busy_peak": peaks[busy_pid],
            "warm_idle": warm, "main_after_job": main_after}


def main() -> int:
    return run_standalone("memory", run)


if __name__ == "__main__":
    raise SystemExit(main())

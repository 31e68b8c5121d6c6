"""Cold start, end to end: a new worker process -> its first paper answered, beside a warm one.

    .venv/bin/python bench/bench_cold_start.py [--repeats 5]

Every worker is started by the Procfile's own `worker:` line, run under `sh -c` as a
platform runs it (same flags: prefork, `-E --without-mingle --without-gossip`, log level
INFO), with QAGEN_WORKER_CONCURRENCY=1 so that the second paper surely lands on the same,
now warm, pool process, and QAGEN_QUEUE set to a queue of its own. The bare worker is the
same line with `-A bench.bare_app` (Celery and one no-op task, no qagen import).

Per launch, with the first job already waiting in the queue (a scale-from-zero start):
- ready: process start -> the `celery@... ready.` line (read from the pipe as written);
- first job: ready -> its session seen complete (polled every 5 ms); its stages from the
  worker's own timings (qagen.jobs.stats);
- warm job: a second paper sent once the first is done -> seen complete.
Variants: the offline engine (the default) and an OpenAI-compatible model (the stub,
devtools/llm_stub.py, answering at once), so the litellm import is on the path; and, for
the price of that import, `import qagen.llm.client` timed in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, print_table  # noqa: E402
from bench.papers import pdf_paper  # noqa: E402
from bench.stack import REPO, BenchStack, WorkerProcess, run_standalone  # noqa: E402

STAGES = ("parsing", "answering", "diagrams", "rendering", "storing")
# "no warm-up": worker/warmup.py off; "idle": the first job is sent once the pool process has warmed up.
VARIANTS = ("bare", "offline", "offline, no warm-up", "offline, idle", "stub", "stub, no warm-up", "stub, idle")
TARGET_VARIANTS = ("bare", "offline", "stub")


def procfile_worker_line(app: str = "worker") -> str:
    """The Procfile's `worker:` command, for `app` (`-A worker` is qagen's)."""
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith("worker:"):
            command = line.split(":", 1)[1].strip()
            return command.replace("-A worker ", f"-A {app} ", 1)
    raise RuntimeError("the Procfile has no worker line")


def start(stack: BenchStack, app: str, queue: str, env: dict[str, str]) -> WorkerProcess:
    bin_dir = str(Path(sys.executable).parent)
    full = stack.env(QAGEN_QUEUE=queue, QAGEN_WORKER_CONCURRENCY="1", **env)
    full["PATH"] = bin_dir + os.pathsep + full.get("PATH", "")
    worker = WorkerProcess(["sh", "-c", procfile_worker_line(app)], full,
                           stack.folder / "logs" / f"cold-{queue}.log")
    stack.workers.append(worker)
    return worker


NO_WARMUP_APP = "from worker import app  # noqa: F401\nimport worker.warmup\n\nworker.warmup.ENABLED = False\n"


def app_without_warmup(stack: BenchStack) -> str:
    """qagen's worker with the pool process warm-up (worker/warmup.py) off: a module in the run's folder."""
    folder = stack.folder / "apps"
    folder.mkdir(exist_ok=True)
    (folder / "qagen_no_warmup.py").write_text(NO_WARMUP_APP)
    return "qagen_no_warmup"


def launch(stack: BenchStack, variant: str, env: dict[str, str]) -> dict:
    """One worker started with its first job waiting (or, "idle", sent once it has warmed up)."""
    queue = f"cold-{uuid.uuid4().hex[:8]}"
    out: dict = {}
    idle = variant.endswith("idle")
    if "no warm-up" in variant:
        app = app_without_warmup(stack)
        env = {**env, "PYTHONPATH": os.pathsep.join([str(stack.folder / "apps"), str(REPO)])}
    else:
        app = "worker"
    if variant == "bare":
        from celery import Celery

        job = str(uuid.uuid4())
        Celery("bare-producer", broker=stack.settings.redis_url).send_task("bare.noop", task_id=job, queue=queue)
        worker = start(stack, "bench.bare_app", queue, env)
        try:
            out["ready_s"] = worker.wait_ready()
            out["ready_cpu_s"] = worker.ready_cpu
            deadline = time.monotonic() + 60
            while not stack.redis.exists(f"celery-task-meta-{job}") and time.monotonic() < deadline:
                time.sleep(0.005)
            out["first_job_s"] = time.perf_counter() - worker.ready_at
        finally:
            worker.stop()
        return out
    celery = stack.celery(queue)
    if not idle:
        first = stack.submit(celery, pdf_paper(1, uuid.uuid4().hex[:6]), "one.pdf", queue)
    before = stack.stage_seconds()
    worker = start(stack, app, queue, env)
    background = worker.mark("litellm imported in the background in")
    warmed = worker.mark("pool process warmed up in")
    try:
        out["ready_s"] = worker.wait_ready()
        out["ready_cpu_s"] = worker.ready_cpu
        if idle:
            if not warmed.wait(60):
                raise TimeoutError("the pool process did not report its warm-up")
            out["warmed_s"] = worker.mark_time("pool process warmed up in") - worker.started_at
            before = stack.stage_seconds()
            sent = time.perf_counter()
            first = stack.submit(celery, pdf_paper(1, uuid.uuid4().hex[:6]), "one.pdf", queue)
            out["first_job_s"] = stack.wait_sessions([first], 120)[first] - sent
        else:
            done = stack.wait_sessions([first], 120)[first]
            out["first_job_s"] = done - worker.ready_at
        after = stack.stage_seconds()
        out["first_stages_s"] = {s: round(after[s] - before[s], 4) for s in STAGES}
        if background.is_set():
            line = next(text for _, text in worker.lines if "litellm imported in the background in" in text)
            out["background_import_s"] = float(line.split("background in", 1)[1].split()[0])
        sent = time.perf_counter()
        second = stack.submit(celery, pdf_paper(1, uuid.uuid4().hex[:6]), "one.pdf", queue)
        out["warm_job_s"] = stack.wait_sessions([second], 60)[second] - sent
        final = stack.stage_seconds()
        out["warm_stages_s"] = {s: round(final[s] - after[s], 4) for s in STAGES}
    finally:
        worker.stop()
    return out


def litellm_import_seconds(repeats: int) -> tuple[float, float]:
    """In a fresh interpreter: `import qagen.llm.client` (litellm, configured), and that plus the
    first call's set-up (`qagen.llm.loading.prime`): the model library's own price, medians."""
    code = ("import time; t = time.perf_counter(); import qagen.llm.client; i = time.perf_counter() - t\n"
            "from qagen.llm.loading import prime; prime('openai/stub-model'); print(i, time.perf_counter() - t)")
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "OPENAI_API_KEY": "sk-bench"}
    pairs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=REPO, env=env).stdout.split() for _ in range(repeats)]
    return statistics.median(float(a) for a, _ in pairs), statistics.median(float(b) for _, b in pairs)


def run(stack: BenchStack, repeats: int = 5, variants: tuple[str, ...] = VARIANTS) -> tuple[list[Row], dict]:
    """`variants` beyond the targets' three (bare, offline, stub) are optional (`python -m bench` leaves them out)."""
    from devtools.llm_stub import running_stub

    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS if v in variants or v in TARGET_VARIANTS}
    with running_stub() as base:
        stub_env = {"QAGEN_MODEL": "openai/stub-model", "QAGEN_LLM_API_BASE": f"{base}/v1", "OPENAI_API_KEY": "sk-bench"}
        envs = {v: (stub_env if v.startswith("stub") else {}) for v in runs}
        for variant in ("bare", "offline", "stub"):  # file-system caches warm, outside the figures
            launch(stack, variant, envs[variant])
        for _ in range(repeats):
            for variant in runs:  # interleaved: drift on the machine hits every variant alike
                runs[variant].append(launch(stack, variant, envs[variant]))
    import_s, ready_to_call_s = litellm_import_seconds(repeats)

    def med(variant: str, key: str, stage: str | None = None) -> float | None:
        values = [(r[key][stage] if stage else r[key]) for r in runs[variant] if key in r]
        return statistics.median(values) if values else None

    keys = ("ready_s", "ready_cpu_s", "first_job_s", "warm_job_s", "background_import_s", "warmed_s")
    figures = {v: {k: med(v, k) for k in keys} for v in runs}
    for v in [v for v in runs if v != "bare"]:
        for when in ("first", "warm"):
            figures[v][f"{when}_stages_s"] = {s: round(med(v, f"{when}_stages_s", s), 4) for s in STAGES}
    figures["litellm_import_s"], figures["litellm_ready_to_call_s"] = import_s, ready_to_call_s
    bare, off, stub = figures["bare"], figures["offline"], figures["stub"]
    off_extra = off["first_job_s"] - off["warm_job_s"]
    stub_extra = stub["first_job_s"] - stub["warm_job_s"]
    # The parse of a first job, from the offline engine's (the stub's "parsing" stage runs on to its
    # first answer, so it holds the wait for litellm too).
    parse_first = off["first_stages_s"]["parsing"]
    # The stub's first job may cost what the offline engine's does, plus the part of the model
    # library's price (import and first-call set-up) that the parse did not hide.
    stub_budget = off_extra + max(0.0, ready_to_call_s - parse_first)
    table = [[v, len(runs[v]), *("-" if figures[v][k] is None else round(figures[v][k], 3) for k in keys)]
             for v in runs]
    print_table("Cold start, end to end (medians, s; Procfile's worker line, concurrency 1, job waiting)",
                ["variant", "runs", "ready", "CPU to ready", "first job (after ready; idle: after sent)", "warm job",
                 "litellm in background", "warmed up"], table)
    for v in [v for v in runs if v != "bare"]:
        print(f"{v}: stages of the first job {figures[v]['first_stages_s']}, of the warm job {figures[v]['warm_stages_s']}")
    print(f"litellm alone (fresh interpreter): import {import_s:.2f} s, ready to call {ready_to_call_s:.2f} s")
    rows = [
        Row("cold start: worker ready (Procfile line)", off["ready_s"], "s", bare["ready_s"], "bare Celery",
            off["ready_s"] / bare["ready_s"], "<= 1.3x bare", off["ready_s"] <= 1.3 * bare["ready_s"]),
        Row("cold start: first paper, offline engine (after ready)", off["first_job_s"], "s", off["warm_job_s"],
            "warm process", off["first_job_s"] / off["warm_job_s"], "<= warm + 1.0 s", off_extra <= 1.0,
            note=f"extra {off_extra:.2f} s; 1-question PDF"),
        Row("cold start: first paper, stub model (after ready)", stub["first_job_s"], "s", stub["warm_job_s"],
            "warm process", stub["first_job_s"] / stub["warm_job_s"],
            "<= warm + offline's extra + (litellm - parse)", stub_extra <= stub_budget,
            note=f"extra {stub_extra:.2f} s, budget {stub_budget:.2f} s (litellm ready to call "
                 f"{ready_to_call_s:.2f} s, parse {parse_first:.2f} s)"),
        Row("  litellm import alone (fresh interpreter)", import_s, "s"),
        Row("  litellm import + first-call set-up (fresh interpreter)", ready_to_call_s, "s"),
    ]
    for v in ("offline", "stub"):
        if f"{v}, no warm-up" not in runs or f"{v}, idle" not in runs:
            continue
        bare_v, idle_v = figures[f"{v}, no warm-up"], figures[f"{v}, idle"]
        rows.append(Row(f"  {v}: first paper without the warm-up", bare_v["first_job_s"], "s",
                        figures[v]["first_job_s"], "with it", bare_v["first_job_s"] / figures[v]["first_job_s"]))
        rows.append(Row(f"  {v}: first paper on an idle, warmed-up process", idle_v["first_job_s"], "s",
                        idle_v["warm_job_s"], "warm process", idle_v["first_job_s"] / idle_v["warm_job_s"],
                        note=f"warmed up {idle_v['warmed_s']:.1f} s after start"))
    return rows, {"runs": runs, "medians": figures, "procfile_line": procfile_worker_line(),
                  "stub_budget_s": stub_budget}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    def measured(stack: BenchStack) -> tuple[list[Row], dict]:
        rows, details = run(stack, args.repeats)
        from bench.common import summary_markdown

        print("\n" + summary_markdown(rows))
        for row in rows:
            if row.note:
                print(f"- {row.metric.strip()}: {row.note}")
        return rows, details

    return run_standalone("cold_start", measured)


if __name__ == "__main__":
    raise SystemExit(main())

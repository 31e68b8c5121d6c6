"""qagen's worker with the pipeline preloaded in each pool process after it starts.

    celery -A bench.preload_app worker ...

A candidate for worker/celery_app.py, measured by bench/bench_worker.py before anyone
adopts it: on `worker_process_init` (in each prefork child, after the fork) a thread
imports the pipeline, runs it once on a two-question paper (one chart; skipped if a job is
already waiting), makes the task's Redis and S3 clients and freezes the garbage collector's
view of all that (`gc.freeze()`), so the child's first real job does not pay ~4-6 s of
imports and first-use costs, and no later job pays ~0.45 s for a full collection. The thread runs at nice 10 and the
child tells the parent it is up straight away, so "ready" is not delayed. Not synchronously in the signal handler: with
celery 5.7.0, a replacement pool process (after worker_max_tasks_per_child = 50 jobs, or a
crash) whose init takes longer than worker_proc_alive_timeout (4 s) is SIGKILLed ("Timed
out waiting for UP message") and replaced, again and again. A job that arrives before the
preload is done waits for it (task_prerun joins the thread), so two threads never import
the same modules at once; it waits only for the imports it would have paid for itself.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time

from celery.signals import task_prerun, worker_process_init

from worker import app

log = logging.getLogger("qagen.preload")
_preload: threading.Thread | None = None
_job_waiting = threading.Event()
PRELOAD_NICE = 10

# What any job imports first (litellm alone is ~3 s): a job that is already waiting needs
# these anyway, so loading them first costs it nothing.
JOB_MODULES = ("qagen.answering.engine", "qagen.pipeline.run", "qagen.pipeline.parse", "qagen.pipeline.answer",
               "qagen.pipeline.diagrams", "qagen.pipeline.render", "qagen.documents.pdf")


def warm_pipeline() -> None:
    import importlib

    started = time.perf_counter()
    try:
        # Below the worker's own threads and processes: the main process is still starting when the
        # pool forks, and "ready" should not wait for this. An unprivileged process may raise its
        # nice value but not lower it again, so it stays at 10 (it only matters under contention).
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PRELOAD_NICE)
    except (AttributeError, OSError):
        pass
    try:
        for name in JOB_MODULES:
            importlib.import_module(name)
        imported = time.perf_counter() - started
        if not _job_waiting.is_set():
            # First-use costs beyond imports (fonts, mathtext, seaborn for charts, sympy caches): one
            # small run of the pipeline, skipped when a job is already waiting for this process.
            from qagen.answering.engine import AnswerEngine
            from qagen.pipeline.run import run_pipeline
            from qagen.settings import get_settings

            paper = (b"Warm-up\n\n1. Solve for x: 2x + 3 = 11. [2]\n"
                     b"2. Plot the graph of y = x^2 - 4 for x from -3 to 3. [2]\n")
            engine = AnswerEngine(model="qagen/offline", concurrency=2)  # in-process cache, nothing shared
            run_pipeline(paper, "warm-up.txt", get_settings(), engine=engine)
        # The task's per-process clients (Redis, S3: boto3 is imported there), made and connected.
        import worker.tasks

        resources = getattr(worker.tasks, "_resources", None)
        if resources is not None:
            redis, _, _, storage = resources()
            redis.ping()
            storage.ping()
        # Hundreds of thousands of long-lived objects (litellm, sympy, matplotlib): out of the
        # collector's sight, a full collection takes ~25 ms instead of ~450 ms (python -m bench.profile gc).
        gc.freeze()
        log.info("pipeline preloaded in %.2f s (imports %.2f s)", time.perf_counter() - started, imported)
    except Exception:  # a failed warm-up must never cost the worker; the first job imports instead
        log.exception("pipeline preload failed after %.2f s", time.perf_counter() - started)


@worker_process_init.connect
def _start_preload(**_: object) -> None:
    global _preload
    _job_waiting.clear()
    _preload = threading.Thread(target=warm_pipeline, name="qagen-preload", daemon=True)
    _preload.start()


@task_prerun.connect
def _wait_for_preload(**_: object) -> None:
    if _preload is not None and _preload.is_alive():
        _job_waiting.set()  # skip the warm-up run; finish the imports the job needs anyway
        _preload.join()

"""A pool process warms up in the background while it waits for its first task.

On `worker_process_init` (in each pool process, right after the fork; "ready" does not wait
for it) a thread (not niced: a job that arrives waits for its first steps, and an
unprivileged thread could not be given its priority back):

1. makes the task's clients (worker.tasks `_resources`: Redis, and the S3 client, whose
   boto3 import and two botocore clients take ~0.3-0.5 s); the first task waits for them
   rather than making its own;
2. imports what every paper job imports first (the answer engine, the knowledge loader, the
   pipeline, the PDF reader and segmenter: ~0.1 s);
3. only while no task has started: the typesetting (reportlab, the DejaVu fonts: ~0.3 s)
   and, for a model behind litellm, litellm (~2.5-3 s) and its first call's set-up (~0.5 s,
   a `mock_response` call; qagen.llm.loading). A job already
   waiting gets these where it would have paid them anyway: litellm in the background once
   its parse has forked (qagen.pipeline.run), the typesetting when it renders.

Never across a fork: a job's parse forks its reader (qagen.documents.sandbox), and a fork
copies the import locks this thread may hold mid-import, on which the child could hang.
So a fork waits for the warm-up to finish first (`os.register_at_fork`); steps 1-2 are what
the job needs before its parse anyway, and step 3 is skipped once a task has started
unless already under way. Not in the worker's main process: that would delay "ready"
(tests/test_import_boundaries.py; docs/performance.md, "Cold start").
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import signals

from qagen.settings import get_settings

log = logging.getLogger(__name__)

ENABLED = True  # the benchmark's "without warm-up" variant turns it off
JOB_MODULES = ("qagen.answering.engine", "qagen.knowledge.indexing", "qagen.pipeline.run", "qagen.pipeline.answer",
               "qagen.pipeline.diagrams")

_thread: threading.Thread | None = None
_task_started = threading.Event()


def warm_up() -> None:
    import importlib

    from qagen.llm.loading import needs_litellm
    from qagen.pipeline.parse import warm_readers

    started = time.perf_counter()
    steps: list[str] = []
    try:
        import worker.tasks

        worker.tasks._resources()
        steps.append("clients")
        for name in JOB_MODULES:
            importlib.import_module(name)
        warm_readers()
        steps.append("pipeline")
        if not _task_started.is_set():
            from qagen.pipeline.pdf.fonts import register_fonts

            importlib.import_module("qagen.pipeline.render")
            register_fonts()
            steps.append("typesetting")
        if not _task_started.is_set() and needs_litellm(get_settings().model):
            from qagen.llm.loading import prime

            prime(get_settings().model)  # imports litellm, then one mock call
            steps.append("litellm")
    except Exception:  # a failed warm-up never costs the worker: the job does it itself
        log.exception("warm-up failed after %.2f s", time.perf_counter() - started)
        return
    log.info("pool process warmed up in %.2f s (%s)", time.perf_counter() - started, ", ".join(steps))


@signals.worker_process_init.connect
def _start(**_: object) -> None:
    global _thread
    _task_started.clear()
    if not ENABLED:
        return
    _thread = threading.Thread(target=warm_up, name="qagen-warmup", daemon=True)
    _thread.start()


@signals.task_prerun.connect
def _task_starts(**_: object) -> None:
    _task_started.set()  # the optional steps not begun yet are left to the job


def _before_fork() -> None:
    thread = _thread
    if thread is not None and thread.is_alive() and thread is not threading.current_thread():
        thread.join()


def _after_fork_in_child() -> None:
    global _thread
    _thread = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)

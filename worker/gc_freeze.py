"""A pool process's first paper loads the pipeline's libraries (litellm, matplotlib, seaborn,
reportlab, sympy: ~750,000 objects) for the rest of its life. After that job, collect once
and freeze what is left, so later full garbage collections skip it: ~450 ms each before,
~25 ms after (bench/profile.py gc), an occasional job that much slower.

No gc.collect() first: over ~750,000 objects it takes ~0.3-0.45 s, which would hold back
the acknowledgement and the next job; freezing is a list splice. The first job's cyclic
garbage not yet collected stays frozen with the libraries, once per process."""

from __future__ import annotations

import gc

from celery import signals

from qagen.jobs.names import PROCESS_QUESTION_PAPER

_frozen = False


@signals.task_postrun.connect
def freeze_after_first_paper(sender=None, **_):  # type: ignore[no-untyped-def]
    global _frozen
    if _frozen or getattr(sender, "name", None) != PROCESS_QUESTION_PAPER:
        return
    _frozen = True
    gc.freeze()

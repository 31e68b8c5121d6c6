"""The floor for the worker benchmarks: a bare Celery app with one no-op task.

    celery -A bench.bare_app worker ...   (started exactly like qagen's worker, see bench/stack.py)

Same broker (QAGEN_REDIS_URL), a Redis result backend so a round trip can be observed.
Nothing from qagen is imported.
"""

import os

from celery import Celery

_url = os.environ.get("QAGEN_REDIS_URL", "redis://127.0.0.1:6379/0")
app = Celery("bare", broker=_url, backend=_url)
app.conf.update(task_default_queue=os.environ.get("QAGEN_QUEUE", "celery"), worker_prefetch_multiplier=1,
                result_expires=600)


@app.task(name="bare.noop")
def noop() -> None:
    return None

"""litellm, imported only for a model that needs it, and in the background where that pays.

Importing litellm takes ~2.5-3 s here (~4.6 s under `-X importtime`): twenty times a warm
job (docs/performance.md, "Cold start"). So:

- the offline engine (`qagen/offline`, the default) is ours and `qagen.answering.engine`
  calls it directly: a worker answering with it never imports litellm;
- for any other model, `load()` returns litellm configured (`qagen.llm.client`: the offline
  engine registered as a provider, telemetry and the feedback banner off), importing it on
  first use;
- `load_in_background(after_fork=True)`, called as a job starts parsing, imports it in a
  thread that starts as soon as the parse has forked its reader (qagen.documents.sandbox):
  the import runs while the child reads the paper, and `load()` waits for what is left;
  given the model, the thread then `prime`s it: one `mock_response` call (no network) pays
  litellm's first-call set-up (~0.5 s) there rather than in the answer stage.

Why only after the fork: a fork copies the import locks a thread holds mid-import, and a
child that imports one of those modules waits forever (its parse would end at the time
limit). So the thread never runs across a fork: it starts after the parse's fork, and any
other fork while it runs waits for it first (`os.register_at_fork`). Where nothing forks
(the CLI, an unconfigured sandbox, a reviewed paper answered without a parse), `load()`
imports litellm in the calling thread when the answer stage needs it, as before.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from types import ModuleType

from qagen.settings import OFFLINE_MODEL

log = logging.getLogger(__name__)

OFFLINE_PREFIX = OFFLINE_MODEL.split("/")[0] + "/"  # "qagen/": every model of the offline engine

_lock = threading.Lock()
_thread: threading.Thread | None = None
_armed = False  # start the import after the next fork in this process
_seconds: float | None = None  # how long the background import took
_primed = False
_prime_model = ""  # the model whose first call the background import warms (prime)


def is_offline(model: str) -> bool:
    """Whether `model` is the offline engine's (answered in-process, without litellm)."""
    return model.startswith(OFFLINE_PREFIX)


def needs_litellm(model: str) -> bool:
    return not is_offline(model)


def loaded() -> bool:
    return "qagen.llm.client" in sys.modules


def load() -> ModuleType:
    """litellm, configured; waits for a background import in progress rather than racing it."""
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        waited = time.perf_counter()
        thread.join()
        if time.perf_counter() - waited > 0.05:
            log.debug("waited %.2f s for litellm's background import", time.perf_counter() - waited)
    import litellm

    import qagen.llm.client  # noqa: F401  (configures litellm once per process)

    return litellm


def transient_model_errors(litellm: ModuleType) -> tuple[type[BaseException], ...]:
    """What litellm raises for a failure worth retrying: 429, 5xx, timeouts, connection errors."""
    return (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError, litellm.ServiceUnavailableError,
            litellm.InternalServerError, litellm.BadGatewayError)


def refusals(litellm: ModuleType) -> tuple[type[BaseException], ...]:
    """What litellm raises for a request the provider will never accept as it is."""
    return (litellm.AuthenticationError, litellm.PermissionDeniedError, litellm.NotFoundError,
            litellm.BadRequestError)


def load_in_background(*, after_fork: bool = False, model: str = "") -> None:
    """Import litellm in a thread: now, or (`after_fork`) right after this process's next fork;
    with `model`, then `prime` it."""
    global _armed, _prime_model
    if loaded():
        return
    with _lock:
        _prime_model = model
        if _thread is not None:
            return
        if after_fork and hasattr(os, "register_at_fork"):
            _armed = True
        else:
            _start()


def background_seconds() -> float | None:
    """How long the background import took, once it is done (for logs and the benchmark)."""
    return _seconds


def _start() -> None:  # under _lock
    global _thread, _armed
    _armed = False
    _thread = threading.Thread(target=_import, name="qagen-litellm-import", daemon=True)
    _thread.start()


def prime(model: str) -> None:
    """One call answered by litellm itself (`mock_response`: no network, no provider): its first
    call's own imports and set-up (~0.5 s here) are then paid outside the answer stage."""
    global _primed
    if _primed:
        return
    _primed = True
    import asyncio

    litellm = load()
    try:
        asyncio.run(litellm.acompletion(model=model, messages=[{"role": "user", "content": "warm-up"}],
                                        mock_response="ok", max_retries=0))
    except Exception as exc:  # only a warm-up: the first real call pays instead
        log.info("litellm's warm-up call failed: %s", exc)


def _import() -> None:
    global _seconds
    started = time.perf_counter()
    try:
        import qagen.llm.client  # noqa: F401

        if _prime_model:
            prime(_prime_model)
    except BaseException:  # load() imports again where it is needed, and raises there
        log.exception("importing litellm in the background failed")
    _seconds = time.perf_counter() - started
    log.info("litellm imported in the background in %.2f s", _seconds)


def _before_fork() -> None:
    thread = _thread
    if thread is not None and thread.is_alive() and thread is not threading.current_thread():
        thread.join()  # a fork must not copy the locks of an import in progress


def _after_fork_in_parent() -> None:
    if _armed and _thread is None:
        with _lock:
            if _armed and _thread is None:
                _start()


def _after_fork_in_child() -> None:
    global _lock, _thread, _armed
    _lock, _thread, _armed = threading.Lock(), None, False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)

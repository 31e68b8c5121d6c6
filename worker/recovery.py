"""The worker's side of job recovery (qagen.jobs.leases) and of bounded parsing.

- `begin_run`: a task takes its session's lease before doing anything; None means it must
  not run (another run holds the lease, the session is finished, or it was lost with its
  worker too often and has just been failed).
- `Holdings`: the paper messages this worker's main process has received and no run has
  started yet (`task_received`); each is held in Redis (qagen.jobs.leases.hold) so that a worker
  killed before starting it loses the job for one lease ttl, not for the broker's
  visibility timeout. A message given back to the queue on a warm shutdown is queued once
  more by a sweeper after the ttl: the duplicate drops out at the lease.
- `Sweeper`: a thread in each worker's main process (started on `worker_ready`, stopped on
  shutdown) that every `recovery_interval_seconds` renews the holdings, then queues again
  the jobs whose lease expired, at the head of the queue.
- `worker_process_init`: every pool process reads papers in a bounded child process
  (qagen.documents.sandbox) with `parse_memory_mb` and `parse_timeout_seconds`.
"""

from __future__ import annotations

import logging
import random
import threading
import time

import redis
from celery import signals
from celery.exceptions import Retry

from qagen.jobs import fairness, leases
from qagen.jobs.names import PROCESS_QUESTION_PAPER
from qagen.jobs.records import SessionStore, patiently
from qagen.jobs.stats import record_outcome
from qagen.redis_client import redis_from_settings
from qagen.settings import Settings, get_settings
from worker.webhook_tasks import notify_if_finished

log = logging.getLogger(__name__)

# How long a job waits out an unreachable Redis (a restart, AOF loading) before giving up.
# It holds its message only in memory by then (kombu moved it off the queue), so failing
# fast would lose it; waiting is the only way to keep it.
REDIS_PATIENCE_SECONDS = 60.0


class Run:
    """A running job's lease as a context manager: the heartbeat runs inside the block, and
    leaving it releases the lease the way the block ended (finished, retry, lost, abandon)."""

    def __init__(self, lease: leases.Lease, retry_grace_seconds: float, what: str = "session"):
        self.lease = lease
        self.retry_grace_seconds = retry_grace_seconds
        self.what = what  # how the logs name the job ("session <id>: run <token> ended" is parsed by the fault suite)

    @property
    def token(self) -> str:
        return self.lease.token

    @property
    def fence(self):  # type: ignore[no-untyped-def]
        """The run's fencing token (qagen.jobs.fencing.Fence), for its fenced writes."""
        return self.lease.fenced

    def check(self) -> None:
        self.lease.check()

    def confirm(self) -> None:
        self.lease.confirm()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        mode, watch_from = "finished", None
        if exc is not None:
            if isinstance(exc, Retry):
                delay = exc.when if isinstance(exc.when, (int, float)) else 0
                mode, watch_from = "retry", time.time() + float(delay) + self.retry_grace_seconds
            elif isinstance(exc, leases.LeaseLost):
                mode = "lost"
            else:
                mode = "abandon"
        try:
            patiently(lambda: self.lease.release(mode, watch_from), REDIS_PATIENCE_SECONDS / 2)
        except redis.RedisError as error:
            # The lease expires by itself; the sweeper then restarts or finishes the job.
            log.warning("%s %s: could not release the lease (%s): %s", self.what, self.lease.session_id, mode, error)
        log.info("%s %s: run %s ended (%s)", self.what, self.lease.session_id, self.token, mode)


def begin_run(client: redis.Redis, sessions: SessionStore, settings: Settings, session_id: str,
              hostname: str | None) -> Run | None:
    token = leases.new_token(hostname)
    got = patiently(lambda: leases.acquire(client, session_id, token, settings.lease_ttl_seconds),
                    REDIS_PATIENCE_SECONDS)
    if got.outcome == "busy":
        log.info("session %s: run %s holds the lease; this message drops out", session_id, got.detail)
        return None
    if got.outcome != "ok":
        log.info("session %s: nothing to run (%s %s)", session_id, got.outcome, got.detail)
        return None
    lost_before = bool(got.detail)
    why = None
    if lost_before and got.previous_started_at is not None and \
            time.time() - got.previous_started_at >= settings.task_hard_time_limit_seconds:
        why = (f"The job ran past the {settings.task_hard_time_limit_seconds} s time limit and was stopped; "
               "try a shorter paper.")
    elif got.losses > settings.max_worker_losses:
        why = (f"This paper stopped the worker processing it {got.losses} times (for example by exhausting its "
               "memory), so it was not tried again. Check the file, or upload it as a plain PDF.")
    if why:
        try:
            fence = leases.Fence(leases.SESSIONS.fence_key(session_id), got.fence)
            sessions.for_run(fence).mark_failed(session_id, why)
            record_outcome(client, "failed")
        finally:
            patiently(lambda: leases.release(client, session_id, token, "finished"), REDIS_PATIENCE_SECONDS)
        log.warning("session %s: failed after %d worker loss(es): %s", session_id, got.losses, why)
        return None
    log.info("session %s: run %s started (attempt %d, fencing token %d%s)", session_id, token, got.attempts, got.fence,
             f", after {got.losses} worker loss(es)" if got.losses else "")
    lease = leases.Lease(client, session_id, token, settings.lease_ttl_seconds, settings.lease_renew_seconds,
                         fence=got.fence)
    return Run(lease.start(), retry_grace_seconds=2 * settings.lease_ttl_seconds)


class Holdings:
    """Sessions whose message this process received and whose run has not taken the lease."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()
        self.client: redis.Redis | None = None

    def _redis(self) -> redis.Redis:
        if self.client is None:
            self.client = redis_from_settings(get_settings())
        return self.client

    def received(self, session_id: str) -> None:
        with self._lock:
            self._ids.add(session_id)
        try:
            self._hold(session_id)
        except redis.RedisError as exc:  # the next renewal holds it
            log.warning("session %s: could not hold the received message yet: %s", session_id, exc)

    def renew(self) -> None:
        with self._lock:
            ids = list(self._ids)
        for session_id in ids:
            self._hold(session_id)

    def __contains__(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._ids

    def _hold(self, session_id: str) -> None:
        if not leases.hold(self._redis(), session_id, get_settings().lease_ttl_seconds):
            with self._lock:
                self._ids.discard(session_id)


holdings = Holdings()


@signals.task_received.connect
def _hold_received(request=None, **_):  # type: ignore[no-untyped-def]
    # A paper task's id is its session id (retries and requeues included).
    if request is not None and request.name == PROCESS_QUESTION_PAPER:
        holdings.received(request.id)


class Sweeper(threading.Thread):
    """Every `recovery_interval_seconds` (with jitter), runs `qagen.jobs.leases.sweep` for this node."""

    def __init__(self, celery_app, settings: Settings, hostname: str):  # type: ignore[no-untyped-def]
        super().__init__(name="qagen-recovery", daemon=True)
        self.app = celery_app
        self.settings = settings
        self.hostname = hostname
        self.stopped = threading.Event()
        self.client = redis_from_settings(settings)
        self._last_error_logged = 0.0

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> None:
        interval = self.settings.recovery_interval_seconds
        log.info("%s: looking for lost jobs every %.0f s (lease ttl %.0f s)", self.hostname, interval,
                 self.settings.lease_ttl_seconds)
        while not self.stopped.wait(interval * random.uniform(0.8, 1.2)):
            self.sweep_once()

    def sweep_once(self) -> leases.SweepReport | None:
        try:
            holdings.renew()
            report = leases.sweep(self.client, requeue=self.requeue, on_failed=self.notify,
                                  hard_limit_seconds=self.settings.task_hard_time_limit_seconds,
                                  claim_seconds=max(30.0, 2 * self.settings.lease_ttl_seconds))
            fairness.dispatch_quietly(self.client, self.settings)  # pending jobs a missed dispatch left waiting
            return report
        except Exception as exc:  # Redis down, a broker hiccup: try again next time
            if time.monotonic() - self._last_error_logged > 60:
                self._last_error_logged = time.monotonic()
                log.warning("%s: recovery sweep failed: %s", self.hostname, exc)
            return None

    def requeue(self, session_id: str) -> None:
        queue = self.settings.queue
        self.app.send_task(PROCESS_QUESTION_PAPER, args=[session_id], task_id=session_id, queue=queue)
        if not leases.jump_queue(self.client, queue, session_id, PROCESS_QUESTION_PAPER):
            log.info("session %s: requeued message not found near the queue's tail; it waits its turn", session_id)

    def notify(self, session_id: str) -> None:
        # Not worker.tasks._resources(): those clients belong to pool processes, and pool
        # processes forked later from this (main) process must not inherit them.
        notify_if_finished(self.client, SessionStore(self.client, self.settings.session_ttl_seconds), session_id)


_sweeper: Sweeper | None = None


@signals.worker_ready.connect
def _start_sweeper(sender=None, **_):  # type: ignore[no-untyped-def]
    global _sweeper
    from worker.celery_app import app

    hostname = getattr(sender, "hostname", None) or "worker"
    _sweeper = Sweeper(app, get_settings(), hostname)
    _sweeper.start()


@signals.worker_shutdown.connect
def _stop_sweeper(**_):  # type: ignore[no-untyped-def]
    if _sweeper is not None:
        _sweeper.stop()


@signals.worker_process_init.connect
def _bound_parsing(**_):  # type: ignore[no-untyped-def]
    from qagen.documents import sandbox

    settings = get_settings()
    sandbox.configure(settings.parse_memory_mb * 1024 * 1024, settings.parse_timeout_seconds)

"""Leases on running jobs, so a job lost with its worker runs again within seconds, once.

Celery on Redis gives a killed worker's job back only after the broker's visibility
timeout (an hour by default, and it must stay above the hard time limit), plus kombu's
~100 s sweep. This module detects the loss itself:

- A job that starts takes a lease, `SET qagen:lease:<session> <token> NX PX <ttl>`, and a
  heartbeat thread renews it every `lease_renew_seconds` while the job runs. Taking the
  lease is what lets a job run: a second message for the same session (a redelivery, a
  recovery) finds the lease held and drops out, so a session runs at most once at a time.
- Every session whose job should be alive is in the sorted set `qagen:jobs:active`, scored
  with the time from which it must hold a lease (its start; for a job waiting to retry, the
  retry time plus a grace). The session record keeps `run_token`, the token of the run that
  last started and has not ended in an orderly way.
- Each worker's sweeper (worker/recovery.py) calls `sweep` every few seconds: an active
  session past its score with no lease lost its worker. One sweeper claims it (`SET NX` on
  `qagen:recover:<session>`), sends its task again, moves the message to the head of the
  queue, and marks the session queued; the new run resumes from the cached answers.
- Between a worker receiving a job's message and the job taking its lease, the worker's
  main process holds the session (`hold`): it is watched from `lease_ttl` ahead and the
  worker's sweeper renews that every few seconds until a run holds the lease (or the job
  finished). A worker killed with a message it had not started yet (a fresh pool process
  still loading, a retry waiting for its time) stops renewing, and the job is queued again
  like any other lost job, instead of waiting out the broker's visibility timeout.
- The next run to take the lease sees the previous run's `run_token` still set, and counts
  a worker loss on the session; past `max_worker_losses` the session fails (a paper that
  kills its worker every time must not loop forever).

- Taking the lease also takes the run's fencing token (`INCR qagen:fence:<session>`, see
  qagen.jobs.fencing); the sweeper's requeue and fail bump it. The run's writes are refused
  once it is stale, so a run cut off or frozen past its lease cannot overwrite a newer one.

Every state change is one Lua script (qagen.jobs.lease_scripts), so a sweeper and a starting
job never interleave (e.g. a sweeper cannot requeue a session whose new run has just taken the
lease); none touches one in review.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from qagen.jobs import lease_scripts as scripts
from qagen.jobs.fencing import Fence, LeaseLost
from qagen.jobs.records import key_for, patiently

log = logging.getLogger(__name__)

LEASE_PREFIX = "qagen:lease:"
ACTIVE_KEY = "qagen:jobs:active"
CLAIM_PREFIX = "qagen:recover:"
NOT_RUNNABLE = ("complete", "failed", "awaiting_review")


@dataclass(frozen=True)
class Scope:
    """A kind of job that runs under leases: where its lease, its run record (a hash with
    `run_token`, `worker_losses`, `attempts`, `run_started_at`) and its watch list live.
    Papers use SESSIONS (the run record is the session record); knowledge-base indexing has
    its own scope (qagen.knowledge.indexing), with no sweeper: Celery redelivers its tasks."""

    lease_prefix: str
    record_key: Callable[[str], str]
    active_key: str

    def keys(self, job_id: str) -> list[str]:
        """The keys of every lease script (qagen.jobs.lease_scripts): lease, record, watch list, fence."""
        return [self.lease_prefix + job_id, self.record_key(job_id), self.active_key, self.fence_key(job_id)]

    def fence_key(self, job_id: str) -> str:
        """The job's fencing counter (qagen.jobs.fencing): qagen:fence:<session> for papers."""
        return self.lease_prefix.replace(":lease:", ":fence:", 1) + job_id


SESSIONS = Scope(LEASE_PREFIX, key_for, ACTIVE_KEY)


def lease_key(session_id: str) -> str:
    return LEASE_PREFIX + session_id


def new_token(hostname: str | None = None) -> str:
    """Who runs the job: the Celery node, the process and a random part (unique per run)."""
    return f"{hostname or 'local'}|{os.getpid()}|{uuid.uuid4().hex[:12]}"


def token_node(token: str) -> str:
    return token.split("|", 1)[0]


@dataclass
class Acquired:
    """What `acquire` found: outcome `ok` (the lease is ours), `busy`, `done` or `gone`."""

    outcome: str
    detail: str = ""  # busy: the holder's token; done: the final status; ok: the previous run's token
    losses: int = 0
    attempts: int = 0
    previous_started_at: float | None = None
    fence: int = 0  # ok: this run's fencing token (qagen.jobs.fencing)


def _keys(session_id: str) -> list[str]:
    return SESSIONS.keys(session_id)


def _text(value) -> str:  # type: ignore[no-untyped-def]
    return value.decode() if isinstance(value, bytes) else str(value)


def acquire(client: redis.Redis, session_id: str, token: str, ttl_seconds: float, now: float | None = None,
            scope: Scope = SESSIONS) -> Acquired:
    now = time.time() if now is None else now
    reply = client.eval(scripts.ACQUIRE, 4, *scope.keys(session_id), token, int(ttl_seconds * 1000), repr(now),
                        session_id)
    outcome, detail, losses, attempts, previous_start, fence = (_text(v) for v in reply)
    return Acquired(outcome, detail, int(losses), int(attempts), float(previous_start) if previous_start else None,
                    int(fence))


def release(client: redis.Redis, session_id: str, token: str, mode: str = "finished",
            watch_from: float | None = None, scope: Scope = SESSIONS, fence: int | None = None) -> bool:
    """End a run: `finished`, `retry` (watched again from `watch_from`), `lost` or `abandon`.
    With `fence`, the record is left alone unless it is still the current fencing token."""
    score = repr(watch_from) if watch_from is not None else ""
    return bool(client.eval(scripts.RELEASE, 4, *scope.keys(session_id), token, session_id, mode, score,
                            "" if fence is None else fence))


def hold(client: redis.Redis, session_id: str, ttl_seconds: float, now: float | None = None) -> bool:
    """Watch a session whose message this worker holds but has not started, `ttl_seconds`
    ahead; False when there is nothing left to hold (a run holds the lease, or it is done)."""
    now = time.time() if now is None else now
    return bool(client.eval(scripts.HOLD, 4, *_keys(session_id), session_id, repr(now + ttl_seconds)))


def holder(client: redis.Redis, session_id: str, scope: Scope = SESSIONS) -> str | None:
    value = client.get(scope.lease_prefix + session_id)
    return _text(value) if value is not None else None


@dataclass
class Lease:
    """A run's lease, renewed by a daemon thread until `release`; `check()` raises once it is lost."""

    client: redis.Redis
    session_id: str
    token: str
    ttl_seconds: float
    renew_seconds: float
    scope: Scope = SESSIONS
    fence: int | None = None  # the run's fencing token, from `acquire`
    lost_reason: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Lease:
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.session_id[:8]}", daemon=True)
        self._thread.start()
        return self

    @property
    def lost(self) -> bool:
        return self.lost_reason is not None

    @property
    def fenced(self) -> Fence | None:
        """The run's fencing token with its counter, for the run's writes (qagen.jobs.fencing)."""
        return Fence(self.scope.fence_key(self.session_id), self.fence) if self.fence is not None else None

    def check(self) -> None:
        """Raise LeaseLost if the heartbeat found the lease gone (cheap: no Redis call)."""
        if self.lost_reason is not None:
            raise LeaseLost(self.lost_reason)

    def confirm(self, patience_seconds: float = 30.0) -> None:
        """Raise LeaseLost unless Redis still says the lease is ours (before writing results)."""
        self.check()
        current = patiently(lambda: holder(self.client, self.session_id, self.scope), patience_seconds)
        if current != self.token:
            self._lose(f"the lease is now {'held by ' + current if current else 'expired'}")
            self.check()

    def note(self, **fields: str | int) -> bool:
        """Record `fields` on the run record while this run is the current one (what it is doing
        now, for the run after it to read if this one dies); best effort: False if it is not the
        current run, or Redis did not answer."""
        pairs = [str(part) for item in fields.items() for part in item]
        try:
            return bool(self.client.eval(scripts.NOTE, 2, self.scope.record_key(self.session_id),
                                         self.scope.fence_key(self.session_id), self.token,
                                         "" if self.fence is None else self.fence, *pairs))
        except redis.RedisError as exc:
            log.warning("session %s: could not note %s on the run record: %s", self.session_id, sorted(fields), exc)
            return False

    def release(self, mode: str = "finished", watch_from: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=max(1.0, self.renew_seconds))
        if self.lost and mode == "finished":
            mode = "lost"
        release(self.client, self.session_id, self.token, mode, watch_from, self.scope, self.fence)

    def _lose(self, reason: str) -> None:
        if self.lost_reason is None:
            self.lost_reason = reason
            log.warning("session %s: run %s lost its lease: %s", self.session_id, self.token, reason)

    def _beat(self) -> None:
        last_renewed = time.monotonic()
        ttl_ms = int(self.ttl_seconds * 1000)
        while not self._stop.wait(self.renew_seconds):
            try:
                result = self.client.eval(scripts.RENEW, 1, self.scope.lease_prefix + self.session_id, self.token, ttl_ms)
            except redis.RedisError as exc:
                if time.monotonic() - last_renewed >= self.ttl_seconds:
                    self._lose(f"it could not be renewed for {self.ttl_seconds:.0f} s ({exc})")
                    return
                log.warning("session %s: lease renewal failed, will retry: %s", self.session_id, exc)
                continue
            if result == 1:
                last_renewed = time.monotonic()
                continue
            self._lose("it expired" if result == 0 else "another run holds it")
            return


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)


def sweep(client: redis.Redis, *, requeue: Callable[[str], None], hard_limit_seconds: float, claim_seconds: float,
          on_failed: Callable[[str], None] = lambda session_id: None, now: float | None = None,
          batch: int = 100) -> SweepReport:
    """Find running jobs whose lease expired and run them again (or fail them: time limit).

    `requeue(session_id)` must send the job's task again; it is called before the session
    is marked queued, so a crash in between leaves the session watched (tried again after
    the claim expires), never queued without a message.
    """
    now = time.time() if now is None else now
    report = SweepReport()
    due = client.zrangebyscore(ACTIVE_KEY, "-inf", repr(now), start=0, num=batch)
    if not due:
        return report
    ids = [_text(s) for s in due]
    pipe = client.pipeline(transaction=False)
    for session_id in ids:
        pipe.exists(lease_key(session_id))
        pipe.hmget(key_for(session_id), "status", "run_started_at", "run_token")
    replies = pipe.execute()
    for index, session_id in enumerate(ids):
        leased, (status, started, token) = replies[2 * index], replies[2 * index + 1]
        if leased:
            continue
        status = _text(status) if status is not None else None
        if status is None or status in NOT_RUNNABLE:
            client.eval(scripts.RECOVER, 4, *_keys(session_id), session_id, repr(now), "noop", "")
            report.cleaned.append(session_id)
            continue
        claim = CLAIM_PREFIX + session_id
        if not client.set(claim, "1", nx=True, px=int(claim_seconds * 1000)):
            continue  # another worker's sweeper is on it
        started_at = float(_text(started)) if started else None
        if started_at is not None and token and now - started_at >= hard_limit_seconds:
            text = (f"The job ran past the {hard_limit_seconds:.0f} s time limit and was stopped; "
                    "try a shorter paper.")
            if _text(client.eval(scripts.RECOVER, 4, *_keys(session_id), session_id, repr(now), "fail", text)) == "failed":
                log.warning("session %s: lost after the hard time limit; failed", session_id)
                report.failed.append(session_id)
                on_failed(session_id)
            client.delete(claim)
            continue
        requeue(session_id)
        outcome = _text(client.eval(scripts.RECOVER, 4, *_keys(session_id), session_id, repr(now), "requeue",
                                    "A worker stopped while running this job; it is queued again and resumes "
                                    "where it stopped."))
        client.delete(claim)
        if outcome == "requeued":
            log.warning("session %s: its worker (%s) is gone; job queued again", session_id,
                        token_node(_text(token)) if token else "unknown")
            report.requeued.append(session_id)
    return report


def jump_queue(client: redis.Redis, queue: str, session_id: str, task_name: str, depth: int = 200) -> bool:
    """Move the session's just-sent message to the head of the queue (True if found)."""
    return bool(client.eval(scripts.JUMP_QUEUE, 1, queue, session_id, task_name, depth))

"""Session records: the state of one uploaded paper's job (`JobState`), kept in Redis.

A session's id is its Celery task id. The record is a Redis hash at `key_for(id)`,
written by the API when the upload is accepted and by the worker as the job moves
through its stages. Records expire after `session_ttl_seconds`, which settings keep
longer than any signed download link.

While a job runs, qagen.jobs.leases keeps a lease per session and the index of sessions whose
job must be alive (`qagen:jobs:active`); it writes the run fields below with Lua scripts.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from enum import Enum
from typing import Any

import redis

from qagen.errors import SessionNotFound
from qagen.jobs.fencing import CHECK, Fence

KEY_PREFIX = "qagen:session:"
# Errors of a Redis that is briefly away (restarting, loading its append-only file, a blip).
REDIS_UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError)


def patiently(call, patience_seconds: float):  # type: ignore[no-untyped-def]
    """`call()`, retried while Redis is unreachable for up to `patience_seconds` (0: once)."""
    deadline = time.monotonic() + patience_seconds
    delay = 0.25
    while True:
        try:
            return call()
        except REDIS_UNAVAILABLE:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


class JobState(str, Enum):
    """Where a session's job is (qagen/jobs/__init__.py draws the transitions); the API shows it as `status`."""

    QUEUED = "queued"
    RUNNING = "running"
    # Parsed, and stopped for a person to check the questions (an upload with review): no
    # worker holds it and it is not queued; POST .../answer queues it again (qagen.jobs.review).
    AWAITING_REVIEW = "awaiting_review"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass
class Session:
    id: str
    tenant: str
    filename: str
    input_key: str
    knowledge_base_id: str | None = None
    callback_url: str | None = None
    status: JobState = JobState.QUEUED
    stage: str = "queued"
    progress: int = 0
    message: str = ""
    error: str | None = None
    question_count: int | None = None
    # What the parse found for a person to check (qagen.model.Paper's warnings and confidence),
    # recorded when the parse stage ends; None until then.
    warnings: list[str] | None = None
    confidence: str | None = None
    result_key: str | None = None
    result_json_key: str | None = None
    # Review (qagen.jobs.review): stop after parsing for a person to check the questions;
    # the stored paper's object (each edit is a new object); when the checked paper was sent on.
    review: bool = False
    paper_key: str | None = None
    reviewed_at: float | None = None
    # The Redis key of the upload's Idempotency-Key record, if it had one: removed with the
    # session (qagen.lifecycle.delete_session), so a retry of a deleted upload starts anew.
    idempotency_record: str | None = None
    # Who in the tenant made it, when not the tenant as a whole: an LTI launch's teacher
    # (api/lti/), who lists and reads only their own sessions; None for an API key's upload.
    owner: str | None = None
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    updated_at: float = 0.0
    # Kept by qagen.jobs.leases (not shown by the API): runs started, runs lost with their worker,
    # the token of the run that started last and has not ended in an orderly way, its start.
    attempts: int = 0
    worker_losses: int = 0
    run_token: str | None = None
    run_started_at: float | None = None
    # The fencing token of the run that started last (qagen.jobs.fencing); result_key and
    # result_json_key are under that run's objects once it has published them.
    fence: int = 0

    def to_public(self) -> dict[str, Any]:
        """The record as the API shows it (no storage keys)."""
        return {
            "session_id": self.id,
            "status": self.status.value,
            "stage": self.stage,
            "progress": self.progress,
            "message": self.message,
            "error": self.error,
            "filename": self.filename,
            "review": self.review,
            "knowledge_base_id": self.knowledge_base_id,
            "question_count": self.question_count,
            "warnings": list(self.warnings) if self.warnings is not None else None,
            "confidence": self.confidence,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "updated_at": _iso(self.updated_at),
        }


def _iso(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"


def key_for(session_id: str) -> str:
    return KEY_PREFIX + session_id


def index_for(tenant: str) -> str:
    """A tenant's sessions, newest last: a sorted set of ids scored by creation time."""
    return f"qagen:tenant:{tenant}:sessions"


# Every session's objects are under one prefix, so that one bucket lifecycle rule can expire
# them with their sessions (qagen.lifecycle); knowledge bases, kept until deleted, are not.
SESSION_OBJECTS = "sessions/"


def object_prefix(tenant: str, session_id: str) -> str:
    """Where a session's upload and results live in the bucket."""
    return f"{SESSION_OBJECTS}{tenant}/{session_id}/"


_FIELD_TYPES = {f.name: f.type for f in fields(Session)}


def _encode(values: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, value in values.items():
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, (list, tuple)):
            value = json.dumps([str(v) for v in value], ensure_ascii=False)
        out[name] = "" if value is None else str(value)
    return out


def _decode(raw: dict[str, str]) -> Session:
    values: dict[str, Any] = {}
    for name, text in raw.items():
        kind = _FIELD_TYPES.get(name)
        if kind is None:
            continue
        if text == "" and "None" in kind:
            values[name] = None
        elif kind == "bool":
            values[name] = text in ("1", "True", "true")
        elif kind.startswith("int"):
            values[name] = int(text)
        elif kind.startswith("float"):
            values[name] = float(text)
        elif kind == "JobState":
            values[name] = JobState(text)
        elif kind.startswith("list"):
            values[name] = _string_list(text)
        else:
            values[name] = text
    return Session(**values)


def _string_list(text: str) -> list[str] | None:
    """A list of strings stored as JSON; None for anything else (a record is never unreadable)."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


# KEYS: the record. ARGV: field, value pairs. 1 written, 0 no such record (nothing written).
_UPDATE = """
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV))
return 1
"""

# KEYS: fencing counter, the record. ARGV: the run's fencing token, then field, value pairs.
# -1 stale token (nothing written), 0 no such record, 1 written.
_FENCED_UPDATE = """
if redis.call('exists', KEYS[2]) == 0 then return 0 end
""" + CHECK + """
redis.call('hset', KEYS[2], unpack(ARGV, 2))
return 1
"""


class SessionStore:
    """Reads and writes session records; all Redis I/O for sessions goes through here."""

    def __init__(self, client: redis.Redis, ttl_seconds: int, *, patience_seconds: float = 0.0):
        """`patience_seconds`: how long `fetch` and `update` (and so the `mark_*` calls) wait
        out an unreachable Redis before raising. The API answers 503 at once (0); a worker,
        which holds a job it cannot put back while Redis is away, waits."""
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.patience_seconds = patience_seconds
        self.fence: Fence | None = None

    def for_run(self, fence: Fence | None) -> SessionStore:
        """This store for one run: every write (`update` and the `mark_*` calls) lands only
        while `fence` is current, and raises LeaseLost (qagen.jobs.fencing) once it is stale."""
        store = SessionStore(self.client, self.ttl_seconds, patience_seconds=self.patience_seconds)
        store.fence = fence
        return store

    def create(self, session: Session) -> Session:
        now = time.time()
        session.created_at = session.updated_at = now
        key = key_for(session.id)
        pipe = self.client.pipeline()
        pipe.hset(key, mapping=_encode(asdict(session)))
        pipe.expire(key, self.ttl_seconds)
        pipe.zadd(index_for(session.tenant), {session.id: now})
        pipe.zremrangebyscore(index_for(session.tenant), "-inf", now - self.ttl_seconds)
        pipe.expire(index_for(session.tenant), self.ttl_seconds)
        pipe.execute()
        return session

    def list_for_tenant(self, tenant: str, *, limit: int = 20, status: JobState | None = None,
                        before: float | None = None, owner: str | None = None) -> tuple[list[Session], float | None]:
        """The tenant's sessions newest first, created before `before` (only `owner`'s, if given); and
        the cursor for the next page."""
        found: list[Session] = []
        upper = f"({before}" if before is not None else "+inf"
        while len(found) < limit:
            batch = self.client.zrevrangebyscore(index_for(tenant), upper, "-inf", start=0, num=limit * 2,
                                                 withscores=True)
            if not batch:
                return found, None
            pipe = self.client.pipeline()
            for session_id, _ in batch:
                pipe.hgetall(key_for(session_id.decode()))
            for (session_id, score), raw in zip(batch, pipe.execute()):
                upper = f"({score!r}"
                if not raw:  # expired: drop it from the index
                    self.client.zrem(index_for(tenant), session_id)
                    continue
                session = _decode({k.decode(): v.decode() for k, v in raw.items()})
                if (status is None or session.status == status) and (owner is None or session.owner == owner):
                    found.append(session)
                    if len(found) == limit:
                        return found, score
        return found, None

    def fetch(self, session_id: str) -> Session:
        raw = patiently(lambda: self.client.hgetall(key_for(session_id)), self.patience_seconds)
        if not raw:
            raise SessionNotFound(f"No session {session_id!r}.")
        return _decode({k.decode(): v.decode() for k, v in raw.items()})

    def exists(self, session_id: str) -> bool:
        return bool(self.client.exists(key_for(session_id)))

    def update(self, session_id: str, **changes: Any) -> None:
        """Write only the given fields; the record must exist (one script: a deleted or expired
        session is never written back, not even for a moment)."""
        changes["updated_at"] = time.time()
        pairs = [part for item in _encode(changes).items() for part in item]
        fence = self.fence
        if fence is None:
            written = patiently(lambda: self.client.eval(_UPDATE, 1, key_for(session_id), *pairs),
                                self.patience_seconds)
        else:
            written = patiently(lambda: self.client.eval(_FENCED_UPDATE, 2, fence.key, key_for(session_id),
                                                         fence.token, *pairs), self.patience_seconds)
            if written == -1:
                raise fence.refused(f"writing {', '.join(sorted(changes))} on session {session_id}")
        if not written:
            raise SessionNotFound(f"No session {session_id!r}.")

    def mark_running(self, session_id: str, stage: str, progress: int, message: str = "") -> None:
        session = self.fetch(session_id)
        self.update(
            session_id,
            status=JobState.RUNNING,
            stage=stage,
            progress=progress,
            message=message,
            error=None,
            started_at=session.started_at or time.time(),
        )

    def record_parse(self, session_id: str, warnings: list[str], confidence: str) -> None:
        """What the parse found for a person to check; the API shows it from then on."""
        self.update(session_id, warnings=list(warnings), confidence=confidence)

    def mark_complete(self, session_id: str, result_key: str, result_json_key: str, question_count: int,
                      message: str | None = None) -> None:
        """Finish the session; for a run's store (`for_run`) this is the token-checked switch
        that publishes the run's objects: a stale run's results are never named by the record."""
        self.update(
            session_id,
            status=JobState.COMPLETE,
            stage="complete",
            progress=100,
            message=message or "Answered PDF ready.",
            result_key=result_key,
            result_json_key=result_json_key,
            question_count=question_count,
            finished_at=time.time(),
        )

    def mark_failed(self, session_id: str, error: str) -> None:
        self.update(session_id, status=JobState.FAILED, stage="failed", error=error, finished_at=time.time())

    def delete(self, session_id: str, tenant: str) -> None:
        """Remove the record and its entry in the tenant's list (a job that was never queued)."""
        pipe = self.client.pipeline()
        pipe.delete(key_for(session_id))
        pipe.zrem(index_for(tenant), session_id)
        pipe.execute()

"""Fair scheduling between tenants: a dispatcher in Redis in front of the one Celery queue.

Why (docs/fairness.md): the Celery queue is first-in-first-out for everyone, so one tenant's
300 papers used to sit ahead of another tenant's single paper. Now a new paper job waits in
its tenant's own pending list, and one Lua script (`dispatch`) moves jobs into the Celery
queue one at a time, taking the next job of the tenant served least recently among those
under their cap, and only while the Celery queue holds fewer than `dispatch_depth` messages.
The job of a tenant with nothing dispatched goes to the head of the Celery queue, ahead of
the message already waiting there, even when the queue is at that depth: a tenant's first
paper waits only for the next free slot (the queue holds at most `dispatch_depth` messages
plus one per tenant that had nothing running).
A big backlog therefore waits in Redis, per tenant, not in the broker in FIFO order.

Keys, per Celery queue `<q>` (`QAGEN_QUEUE`: deployments, tests and benchmarks sharing a Redis
with queues of their own keep apart); one Redis, as everywhere in qagen (not Redis Cluster:
the script names per-tenant keys):
- `qagen:fair:<q>:pending:<tenant>` LIST: the tenant's waiting session ids, oldest first.
- `qagen:fair:<q>:pending` ZSET: every waiting session id, scored by its upload time. KEDA
  counts it (ZCARD) beside the Celery queue and `unacked` (k8s/base/keda.yaml).
- `qagen:fair:<q>:tenants` ZSET: tenants with waiting jobs, scored by the turn they were last
  served (0: never, or not since they last had work): the lowest eligible score goes next.
- `qagen:fair:<q>:messages` HASH: session id -> the job's Celery message, built at upload
  (with Celery's own code, `celery_message`), so the script moves it into the queue
  atomically: a crash between choosing a job and sending it cannot lose it.
- `qagen:fair:<q>:inflight` HASH: session id -> tenant, for every dispatched job not finished.
  Each dispatch first drops the entries whose session is finished, in review or gone, then
  counts the rest per tenant against its cap (`QAGEN_TENANT_MAX_RUNNING`, or the tenant's own
  `qagen tenants set TENANT --max-running N`): the counts are recomputed from the session
  records every time, so a worker that dies cannot leave a count wrong.

Dispatch runs on an upload (and an answer after review), when a worker starts and ends a paper
job, and from every worker's sweeper (every `recovery_interval_seconds`). A job lost with its
worker is sent again by the sweeper straight to the head of the Celery queue, as before; it
stays in `inflight` meanwhile (it is still the tenant's running job).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis

from qagen.jobs.names import PROCESS_QUESTION_PAPER
from qagen.jobs.records import key_for
from qagen.settings import Settings

log = logging.getLogger(__name__)

MAX_RUNNING_KEY = "qagen:fair:max-running"  # tenant -> its own cap (qagen tenants set), every queue
SESSION_PREFIX = key_for("")


@dataclass(frozen=True)
class Keys:
    """The dispatcher's keys in front of one Celery queue."""

    queue: str

    def _key(self, name: str) -> str:
        return f"qagen:fair:{self.queue}:{name}"

    @property
    def pending(self) -> str:
        return self._key("pending")

    @property
    def pending_prefix(self) -> str:
        return self._key("pending:")

    @property
    def tenants(self) -> str:
        return self._key("tenants")

    @property
    def messages(self) -> str:
        return self._key("messages")

    @property
    def inflight(self) -> str:
        return self._key("inflight")

    @property
    def turn(self) -> str:
        return self._key("turn")


def pending_key(queue: str) -> str:
    """The sorted set of every job waiting for `queue` (what KEDA counts)."""
    return Keys(queue).pending

# KEYS: pending zset, tenant's list, messages, tenants, inflight. ARGV: session id, now, message.
_SUBMIT = """
if redis.call('zscore', KEYS[1], ARGV[1]) or redis.call('hexists', KEYS[5], ARGV[1]) == 1 then return 0 end
redis.call('rpush', KEYS[2], ARGV[1])
redis.call('zadd', KEYS[1], ARGV[2], ARGV[1])
redis.call('hset', KEYS[3], ARGV[1], ARGV[3])
redis.call('zadd', KEYS[4], 'NX', 0, ARGV[4])
return 1
"""

# KEYS: tenants, pending zset, messages, inflight, celery queue, max-running, turn.
# ARGV: depth, default cap (0: none), session key prefix, pending list prefix, most to move.
_DISPATCH = """
local running = {}
local flat = redis.call('hgetall', KEYS[4])
for i = 1, #flat, 2 do
  local status = redis.call('hget', ARGV[3] .. flat[i], 'status')
  if (not status) or status == 'complete' or status == 'failed' or status == 'awaiting_review' then
    redis.call('hdel', KEYS[4], flat[i])
  else
    running[flat[i + 1]] = (running[flat[i + 1]] or 0) + 1
  end
end
local room = tonumber(ARGV[1]) - redis.call('llen', KEYS[5])
local moved = {}
local most = tonumber(ARGV[5])
while #moved < most do
  -- with no room left, only a tenant with nothing dispatched may still go (to the head)
  local chosen = nil
  for _, tenant in ipairs(redis.call('zrange', KEYS[1], 0, -1)) do
    local cap = tonumber(redis.call('hget', KEYS[6], tenant) or ARGV[2]) or 0
    local mine = running[tenant] or 0
    if (cap <= 0 or mine < cap) and (room > 0 or mine == 0) then chosen = tenant break end
  end
  if not chosen then break end
  local list = ARGV[4] .. chosen
  local sid = redis.call('lpop', list)
  if redis.call('llen', list) == 0 then redis.call('zrem', KEYS[1], chosen) end
  if sid then
    redis.call('zrem', KEYS[2], sid)
    local message = redis.call('hget', KEYS[3], sid)
    redis.call('hdel', KEYS[3], sid)
    -- a session deleted (or failed) while it waited is dropped here
    if message and redis.call('hget', ARGV[3] .. sid, 'status') == 'queued' then
      -- a tenant with nothing dispatched goes to the queue's head (workers BRPOP the right end)
      if (running[chosen] or 0) == 0 then redis.call('rpush', KEYS[5], message) else redis.call('lpush', KEYS[5], message) end
      redis.call('hset', KEYS[4], sid, chosen)
      running[chosen] = (running[chosen] or 0) + 1
      redis.call('zadd', KEYS[1], 'XX', redis.call('incr', KEYS[7]), chosen)
      room = room - 1
      moved[#moved + 1] = sid
    end
  end
end
return moved
"""

_capture_lock = threading.Lock()
_capture_app = None


def celery_message(session_id: str, queue: str) -> str:
    """The Celery message `send_task(PROCESS_QUESTION_PAPER, [session_id], task_id=session_id)`
    would push onto `queue`, as kombu's Redis transport writes it; built with Celery's own code
    (`as_task_v2`, kombu's producer on its in-memory transport). Nothing is published, so no
    `before/after_task_publish` signal fires: the job is queued when `submit` stores it."""
    global _capture_app
    from kombu.utils.json import dumps

    with _capture_lock:
        if _capture_app is None:
            from celery import Celery

            _capture_app = Celery("qagen-dispatch", broker="memory://")
            _capture_app.conf.update(task_serializer="json", accept_content=["json"], task_send_sent_event=False)
        app = _capture_app
        headers, properties, body, _ = app.amqp.as_task_v2(
            session_id, PROCESS_QUESTION_PAPER, args=[session_id], kwargs={}, root_id=session_id,
            reply_to=app.thread_oid, ignore_result=None)
        with app.producer_or_acquire() as producer:
            producer.publish(body, exchange="", routing_key=queue, serializer="json", delivery_mode=2, headers=headers,
                             retry=False, **properties)
            message = producer.channel._get(queue)
    return dumps(message)


def submit(client: redis.Redis, session_id: str, tenant: str, queue: str, now: float | None = None) -> bool:
    """Put a queued session's job in its tenant's pending list (False: it is already waiting or dispatched)."""
    now = time.time() if now is None else now
    k = Keys(queue)
    keys = [k.pending, k.pending_prefix + tenant, k.messages, k.tenants, k.inflight]
    return bool(client.eval(_SUBMIT, len(keys), *keys, session_id, repr(now), celery_message(session_id, queue),
                            tenant))


def dispatch(client: redis.Redis, settings: Settings, most: int = 1000) -> list[str]:
    """Move waiting jobs into the Celery queue, fairly, up to `dispatch_depth` messages there;
    the session ids moved."""
    k = Keys(settings.queue)
    keys = [k.tenants, k.pending, k.messages, k.inflight, settings.queue, MAX_RUNNING_KEY, k.turn]
    moved = client.eval(_DISPATCH, len(keys), *keys, settings.dispatch_depth, settings.tenant_max_running or 0,
                        SESSION_PREFIX, k.pending_prefix, most)
    return [m.decode() if isinstance(m, bytes) else m for m in moved]


def enqueue(client: redis.Redis, celery, settings: Settings, session_id: str, tenant: str) -> None:  # type: ignore[no-untyped-def]
    """Queue a session's job: through the dispatcher (fair scheduling, the default), or, with
    `QAGEN_FAIR_SCHEDULING=false`, straight onto the Celery queue (first in, first out)."""
    if not settings.fair_scheduling:
        celery.send_task(PROCESS_QUESTION_PAPER, args=[session_id], task_id=session_id, queue=settings.queue)
        return
    submit(client, session_id, tenant, settings.queue)
    try:
        dispatch(client, settings)
    except redis.RedisError as exc:  # the job waits in its list: the next dispatch (a sweeper's) moves it
        log.warning("session %s is pending; dispatching failed for now: %s", session_id, exc)


def dispatch_quietly(client: redis.Redis, settings: Settings) -> list[str]:
    """`dispatch` for the worker's hooks: a failure is logged, the sweeper tries again. Workers
    dispatch whatever `fair_scheduling` says, so jobs left pending when it is turned off still run."""
    try:
        return dispatch(client, settings)
    except Exception as exc:
        log.warning("could not dispatch pending jobs now (the sweeper tries again): %s", exc)
        return []


def set_max_running(client: redis.Redis, tenant: str, limit: int | None) -> None:
    """A tenant's own cap on jobs dispatched at once (None: back to QAGEN_TENANT_MAX_RUNNING)."""
    if limit is None:
        client.hdel(MAX_RUNNING_KEY, tenant)
    else:
        client.hset(MAX_RUNNING_KEY, tenant, int(limit))


def max_running(client: redis.Redis, tenant: str) -> int | None:
    raw = client.hget(MAX_RUNNING_KEY, tenant)
    return int(raw) if raw is not None else None


@dataclass(frozen=True)
class Waiting:
    """The dispatcher's view: jobs waiting per tenant, and jobs dispatched (queued in Celery or running) per tenant."""

    pending: dict[str, int]
    dispatched: dict[str, int]

    @property
    def total_pending(self) -> int:
        return sum(self.pending.values())

    def ahead_of_new_job(self, tenant: str) -> int:
        """Waiting jobs a new job of `tenant` would wait behind, under round robin: its tenant's
        own, and from each other tenant at most one more than that (one per turn)."""
        own = self.pending.get(tenant, 0)
        return own + sum(min(count, own + 1) for name, count in self.pending.items() if name != tenant)


def waiting(client: redis.Redis, queue: str) -> Waiting:
    k = Keys(queue)
    tenants = [t.decode() if isinstance(t, bytes) else t for t in client.zrange(k.tenants, 0, -1)]
    pipe = client.pipeline()
    for tenant in tenants:
        pipe.llen(k.pending_prefix + tenant)
    pipe.hvals(k.inflight)
    *lengths, owners = pipe.execute()
    dispatched: dict[str, int] = {}
    for owner in owners:
        name = owner.decode() if isinstance(owner, bytes) else owner
        dispatched[name] = dispatched.get(name, 0) + 1
    return Waiting({t: n for t, n in zip(tenants, lengths) if n}, dispatched)

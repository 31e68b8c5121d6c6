"""The webhook dispatcher: the small process that sends due events (`python -m qagen.webhooks`).

Deliveries used to be Celery tasks on the paper queue. A retry waiting out its countdown
sat in kombu's `unacked` hash, which KEDA counts as running work, so one unreachable
callback kept a worker pod (sized for papers) alive for the ~4 hours of its retries and
stopped the workers from scaling to zero. Now the paper worker only writes the delivery
record and puts the event on the schedule (qagen.webhooks.deliveries: a sorted set,
`qagen:webhooks:due`, event id -> time of its next attempt), and this loop, in its own
small Deployment that KEDA does not scale, sends what is due:

- wait for work: BLPOP on a wake-up list (pushed when an event is created) for at most
  `poll_seconds`, so a first attempt starts at once and a retry within a second of its time;
- claim: one script takes up to `concurrency` due ids and moves each one's score to now +
  `attempt_seconds` (the claim); `attempt_delivery` then re-scores it with its next attempt,
  or removes it when it is delivered or failed;
- a process that dies mid-attempt (SIGKILL, OOM, node lost) leaves its claims behind; they
  come due again when the claim ends (95 s with the default timeouts) and any dispatcher
  sends them: a stalled delivery is re-sent with no sweep, cron or operator;
- at start, pending records missing from the schedule (written while deliveries ran on
  Celery) are put on it;
- SIGTERM: stop claiming, let the attempts in flight finish, exit.

Plain Python (redis, httpx, threads): no Celery, no Flask; 54 MB resident idle.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import logging
import signal
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from qagen.webhooks.addresses import DNS_TIMEOUT_SECONDS
from qagen.webhooks.deliveries import (DEFAULT_JITTER, DEFAULT_MAX_ATTEMPTS, DEFAULT_SCHEDULE, DEFAULT_TIMEOUT_SECONDS,
                                       RECORD_PREFIX, SCHEDULE_KEY, WAKE_KEY, Outcome, attempt_delivery,
                                       attempt_seconds, load_record)

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0

# Up to ARGV[2] ids due by ARGV[1], each moved to ARGV[3] (the end of its claim), oldest first.
_CLAIM = """
local ids = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do redis.call('zadd', KEYS[1], 'XX', ARGV[3], id) end
return ids
"""


def claim_due(client: redis.Redis, limit: int, hold_seconds: float, now: float | None = None) -> list[str]:
    """Take up to `limit` due event ids off the schedule, holding each for `hold_seconds`."""
    now = time.time() if now is None else now
    ids = client.eval(_CLAIM, 1, SCHEDULE_KEY, repr(now), int(limit), repr(now + hold_seconds))
    return [i.decode() if isinstance(i, bytes) else i for i in ids]


def scheduled_at(client: redis.Redis, event_id: str) -> float | None:
    """When the event's next attempt is due (or its claim ends); None if it is not on the schedule."""
    return client.zscore(SCHEDULE_KEY, event_id)


def ensure_scheduled(client: redis.Redis, event_id: str) -> bool:
    """Put a pending record that is missing from the schedule on it; True if it was missing.

    qagen.webhooks.deliveries keeps every pending record scheduled; this repairs records
    written before the schedule existed (deliveries on Celery) and entries removed by hand.
    """
    record = load_record(client, event_id)
    if record is None or record["status"] != "pending":
        client.zrem(SCHEDULE_KEY, event_id)
        return False
    added = bool(client.zadd(SCHEDULE_KEY, {event_id: record.get("next_attempt_at") or time.time()}, nx=True))
    if added:
        client.lpush(WAKE_KEY, event_id)
    return added


def iter_records(client: redis.Redis) -> Iterable[dict[str, Any]]:
    """Every delivery record (a SCAN of the keyspace: for repairs, not for the hot path)."""
    for key in client.scan_iter(match=RECORD_PREFIX + "evt_*", count=500):
        name = key.decode()
        if name.count(":") != 2:  # skip the :lock companions
            continue
        raw = client.get(name)
        if raw:
            yield json.loads(raw)


def adopt_unscheduled(client: redis.Redis) -> list[str]:
    """Schedule every pending record that is not on the schedule; returns their ids."""
    adopted = [r["event_id"] for r in iter_records(client)
               if r["status"] == "pending" and scheduled_at(client, r["event_id"]) is None
               and ensure_scheduled(client, r["event_id"])]
    if adopted:
        log.warning("put %d pending webhook event(s) missing from the schedule on it: %s", len(adopted),
                    ", ".join(adopted))
    return adopted


def parse_schedule(text: str) -> tuple[float, ...]:
    """QAGEN_WEBHOOK_SCHEDULE ("30,120,480,1800") as seconds; every step positive."""
    try:
        steps = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        steps = ()
    if not steps or any(step <= 0 for step in steps):
        raise ValueError(f"QAGEN_WEBHOOK_SCHEDULE must be positive seconds separated by commas (e.g. "
                         f"30,120,480,1800), not {text!r}.")
    return steps


@dataclass
class Dispatcher:
    """Claims due events and runs their attempts on `concurrency` threads until `stop` is set."""

    client: redis.Redis
    allow: str = ""
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    schedule: Sequence[float] = DEFAULT_SCHEDULE
    jitter: float = DEFAULT_JITTER
    concurrency: int = 16
    poll_seconds: float = POLL_SECONDS
    dns_timeout: float = DNS_TIMEOUT_SECONDS
    heartbeat_file: Path | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)  # the last few, newest last (tests, debugging)

    @classmethod
    def from_settings(cls, client: redis.Redis, settings: Any, **overrides: Any) -> Dispatcher:
        options = dict(allow=settings.webhook_allow or "", max_attempts=settings.webhook_max_attempts,
                       timeout=settings.webhook_timeout_seconds, schedule=parse_schedule(settings.webhook_schedule),
                       concurrency=settings.webhook_concurrency)
        return cls(client, **{**options, **overrides})

    @property
    def hold_seconds(self) -> int:
        return attempt_seconds(self.timeout, self.dns_timeout)

    def attempt(self, event_id: str) -> Outcome | None:
        """One attempt; an error (Redis away) leaves the claim, so the event comes due again."""
        try:
            outcome = attempt_delivery(self.client, event_id, allow=self.allow, max_attempts=self.max_attempts,
                                       timeout=self.timeout, schedule=self.schedule, jitter=self.jitter,
                                       dns_timeout=self.dns_timeout)
        except Exception:
            log.exception("webhook %s: the attempt failed; it is tried again when its claim ends", event_id)
            return None
        self.outcomes = self.outcomes[-99:] + [outcome]
        return outcome

    def _beat(self) -> None:
        if self.heartbeat_file is not None:
            self.heartbeat_file.touch()

    def run(self) -> None:
        in_flight: set[concurrent.futures.Future] = set()
        failures = 0
        with concurrent.futures.ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook") as pool:
            while not self.stop.is_set():
                self._beat()
                in_flight = {f for f in in_flight if not f.done()}
                free = self.concurrency - len(in_flight)
                if free <= 0:
                    concurrent.futures.wait(in_flight, self.poll_seconds, concurrent.futures.FIRST_COMPLETED)
                    continue
                try:
                    claimed = claim_due(self.client, free, self.hold_seconds)
                    if not claimed:
                        self.client.blpop([WAKE_KEY], timeout=self.poll_seconds)
                    failures = 0
                except redis.RedisError as exc:
                    failures += 1
                    if failures in (1, 10) or failures % 60 == 0:
                        log.warning("webhook dispatcher: Redis is unreachable (%s); retrying", exc)
                    self.stop.wait(min(5.0, self.poll_seconds * failures))
                    continue
                in_flight |= {pool.submit(self.attempt, event_id) for event_id in claimed}
            if in_flight:
                log.info("webhook dispatcher stopping: waiting for %d attempt(s) in flight", len(in_flight))
            concurrent.futures.wait(in_flight)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qagen.webhooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--heartbeat-file", type=Path, help="touched every loop (at least once a second) for a "
                        "liveness probe")
    args = parser.parse_args(argv)

    from qagen.logs import configure_logging
    from qagen.redis_client import redis_from_settings
    from qagen.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    dispatcher = Dispatcher.from_settings(redis_from_settings(settings), settings, heartbeat_file=args.heartbeat_file)

    def stop(signum: int, _frame: object) -> None:
        log.info("webhook dispatcher: %s received; finishing the attempts in flight", signal.Signals(signum).name)
        dispatcher.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def adopt() -> None:
        try:
            adopt_unscheduled(dispatcher.client)
        except redis.RedisError as exc:
            log.warning("webhook dispatcher: could not look for unscheduled events (%s)", exc)

    threading.Thread(target=adopt, name="webhook-adopt", daemon=True).start()
    log.info("webhook dispatcher ready: %d attempts at a time, schedule %s s, %d attempts at most",
             dispatcher.concurrency, ",".join(f"{s:g}" for s in dispatcher.schedule), dispatcher.max_attempts)
    dispatcher.run()
    log.info("webhook dispatcher stopped")

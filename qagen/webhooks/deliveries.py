"""Webhook deliveries: the event of a finished session, its delivery record, each attempt.

Everything here is plain Python (stdlib, redis, httpx) so the API can import it to
validate a `callback_url` at upload time; the Celery task that drives delivery lives in
`worker/webhook_tasks.py` and calls `attempt_delivery` below. docs/webhooks.md is the
receiver-facing description of the format, the signature and the retry schedule.

Pieces:

- `event_for` / `enqueue_once` — the event id is a function of (session id, final status),
  and the delivery record is created with SET NX, so re-running a session, a redelivered
  task or a repeated `notify` never produces a second event.
- `deliver` (one HTTP attempt) and `attempt_delivery` (load record, lock, re-validate,
  sign, deliver, record, decide the next delay) — the delivery policy.
- The callback URL is checked (qagen.webhooks.addresses) at upload and before every attempt
  (DNS can change between the two: rebinding), and each attempt connects only to an
  address that was just validated (the URL is pinned to the IP; Host and TLS SNI keep the
  name), never following redirects. The signature is qagen.webhooks.signing's.

Delivery is at least once: a receiver must de-duplicate on `Qagen-Event-Id`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import ssl
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlunsplit

import redis

from qagen.webhooks.addresses import (DNS_TIMEOUT_SECONDS, CallbackRefused, CheckedTarget, IPAddress,
                                      check_callback_url)
from qagen.webhooks.signing import SIGNATURE_HEADER, WebhookSecrets, sign

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

USER_AGENT = "qagen-webhooks/1"
EVENT_ID_HEADER = "Qagen-Event-Id"
EVENT_TYPE_HEADER = "Qagen-Event-Type"
FINAL_STATUSES = ("complete", "failed")

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 12
# Wait before attempt 2, 3, 4, 5; the last value repeats. With 12 attempts the first is
# immediate and the last comes ~4 h 10 min later (30 s + 2 min + 8 min + 8 x 30 min).
# Every delay must stay below the broker's visibility timeout (2400 s by default): a Celery
# countdown longer than that makes Redis hand the message out again, in a loop.
DEFAULT_SCHEDULE: tuple[float, ...] = (30, 120, 480, 1800)
DEFAULT_JITTER = 0.1  # +-10 % so a receiver's outage doesn't end in a thundering herd
RECORD_TTL_SECONDS = 7 * 24 * 3600  # as long as a session lives, so a re-run never re-sends
EARLY_TOLERANCE_SECONDS = 5.0
MAX_HISTORY = 20

RECORD_PREFIX = "qagen:webhook:"


# --------------------------------------------------------------------------- events and records


def event_id_for(session_id: str, status: str) -> str:
    return "evt_" + hashlib.sha256((session_id + status).encode()).hexdigest()[:24]


def _iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def event_for(session: dict[str, Any], tenant: str, *, status_url: str | None = None,
              download_url: str | None = None) -> tuple[str, bytes]:
    """(event id, JSON body) for a finished session, from `Session.to_public()`.

    The id depends only on (session id, final status), so the same finish always makes
    the same event; `created_at` is the session's `finished_at` when it has one.
    """
    session_id = session["session_id"]
    status = session["status"]
    if status not in FINAL_STATUSES:
        raise ValueError(f"Session {session_id} is {status!r}; events exist only for {' and '.join(FINAL_STATUSES)}.")
    event_id = event_id_for(session_id, status)
    data: dict[str, Any] = {
        "session_id": session_id,
        "status": status,
        "error": session.get("error"),
        "question_count": session.get("question_count"),
        "warnings": session.get("warnings"),
        "confidence": session.get("confidence"),
        "filename": session.get("filename"),
        "knowledge_base_id": session.get("knowledge_base_id"),
        "created_at": session.get("created_at"),
        "finished_at": session.get("finished_at"),
    }
    if status_url:
        data["status_url"] = status_url
    if download_url and status == "complete":
        data["download_url"] = download_url
    event = {
        "id": event_id,
        "type": f"session.{status}",
        "created_at": session.get("finished_at") or _iso_now(),
        "tenant": tenant,
        "data": data,
    }
    return event_id, json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def record_key(event_id: str) -> str:
    return RECORD_PREFIX + event_id


def enqueue_once(client: redis.Redis, event_id: str, body: bytes, url: str, tenant: str, *,
                 ttl_seconds: int = RECORD_TTL_SECONDS, now: float | None = None) -> bool:
    """Create the delivery record; False if this event already has one (nothing to do)."""
    now = time.time() if now is None else now
    event = json.loads(body)
    record = {
        "event_id": event_id,
        "type": event.get("type"),
        "url": url,
        "tenant": tenant,
        "body": body.decode("utf-8"),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "last_error": None,
        "last_status_code": None,
        "delivered_at": None,
        "history": [],
    }
    return bool(client.set(record_key(event_id), json.dumps(record), nx=True, ex=ttl_seconds))


def load_record(client: redis.Redis, event_id: str) -> dict[str, Any] | None:
    raw = client.get(record_key(event_id))
    return json.loads(raw) if raw else None


def _save_record(client: redis.Redis, record: dict[str, Any]) -> None:
    client.set(record_key(record["event_id"]), json.dumps(record), xx=True, keepttl=True)


def mark_enqueued(client: redis.Redis, event_id: str, ttl_seconds: int = RECORD_TTL_SECONDS) -> None:
    """Note that a delivery task for this event is in the queue (see `needs_enqueue`)."""
    client.set(record_key(event_id) + ":enqueued", str(time.time()), ex=ttl_seconds)


def needs_enqueue(client: redis.Redis, event_id: str) -> bool:
    """True if the record exists and is pending but no task was ever handed to the queue
    (the process died between `enqueue_once` and sending the task)."""
    record = load_record(client, event_id)
    return (record is not None and record["status"] == "pending"
            and not client.exists(record_key(event_id) + ":enqueued"))


def iter_records(client: redis.Redis) -> Iterable[dict[str, Any]]:
    for key in client.scan_iter(match=RECORD_PREFIX + "evt_*", count=500):
        name = key.decode()
        if name.count(":") != 2:  # skip :lock / :enqueued companions
            continue
        raw = client.get(name)
        if raw:
            yield json.loads(raw)


# --------------------------------------------------------------------------- one attempt


@dataclass(frozen=True)
class AttemptResult:
    """What one HTTP attempt did."""

    delivered: bool
    retryable: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    address: str | None = None


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def _pinned_url(target: CheckedTarget, address: IPAddress) -> str:
    host = f"[{address}]" if address.version == 6 else str(address)
    default = 443 if target.scheme == "https" else 80
    netloc = host if target.port == default else f"{host}:{target.port}"
    path, _, query = target.path_and_query.partition("?")
    return urlunsplit((target.scheme, netloc, path, query, ""))


def _excerpt(response: httpx.Response) -> str:
    import httpx

    try:
        chunk = b""
        for part in response.iter_bytes():
            chunk += part
            if len(chunk) >= 200:
                break
        text = chunk[:200].decode("utf-8", "replace")
    except httpx.HTTPError:
        return ""
    text = re.sub(r"\s+", " ", text).strip()
    return f": {text}" if text else ""


def deliver(record: dict[str, Any], secret: str | Sequence[str], timeout: float = DEFAULT_TIMEOUT_SECONDS, *,
            allow: str = "", now: float | None = None, dns_timeout: float = DNS_TIMEOUT_SECONDS,
            verify_tls: ssl.SSLContext | bool = True) -> AttemptResult:
    """One signed POST of the record's event; never raises for network or receiver errors.

    The URL is validated again (DNS may have changed since upload) and the request goes
    to a just-validated IP with the original Host header and TLS server name, so the
    connection can't be steered elsewhere. Redirects are not followed. 2xx = delivered;
    410 Gone = stop; anything else (3xx, 4xx, 5xx, timeouts, connection errors) = retry.
    `verify_tls` is httpx's `verify` (certifi's CAs by default; an SSLContext for a private CA).
    """
    try:
        target = check_callback_url(record["url"], allow, dns_timeout=dns_timeout)
    except CallbackRefused as exc:
        return AttemptResult(delivered=False, retryable=True, error=f"not sent: {exc}")
    body = record["body"].encode("utf-8")
    timestamp = int(time.time() if now is None else now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        EVENT_ID_HEADER: record["event_id"],
        EVENT_TYPE_HEADER: record["type"],
        "Host": target.netloc,
    }
    extensions = {} if target.host_is_literal else {"sni_hostname": target.host}
    last_error = "no address to connect to"
    import httpx  # here, not at the top: a worker's start-up path should not pay ~50 ms for it

    # trust_env=False: no proxy from the environment may reroute (or reach inside) for us.
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify_tls) as client:
        for address in target.addresses[:3]:
            request = client.build_request("POST", _pinned_url(target, address), content=body, headers=headers,
                                           extensions=extensions)
            try:
                response = client.send(request, stream=True)
            except httpx.ConnectError as exc:
                last_error = f"could not connect to {target.host} ({exc or 'connection refused'})"
                continue  # try the next validated address
            except httpx.TimeoutException:
                return AttemptResult(False, True, error=f"no answer from {target.host} within {timeout:g} s",
                                     address=str(address))
            except httpx.HTTPError as exc:
                return AttemptResult(False, True, error=f"request to {target.host} failed: {exc.__class__.__name__}: {exc}",
                                     address=str(address))
            try:
                code = response.status_code
                if 200 <= code < 300:
                    return AttemptResult(True, False, status_code=code, address=str(address))
                retry_after = _retry_after(response.headers.get("Retry-After"))
                if code == 410:
                    return AttemptResult(False, False, status_code=code, address=str(address),
                                         error="receiver answered 410 Gone; delivery stopped")
                if 300 <= code < 400:
                    error = (f"receiver answered {code} redirect to {response.headers.get('Location', '?')!r}; "
                             "redirects are not followed, configure the final URL")
                else:
                    error = f"receiver answered HTTP {code}{_excerpt(response)}"
                return AttemptResult(False, True, status_code=code, error=error, retry_after=retry_after,
                                     address=str(address))
            finally:
                response.close()
    return AttemptResult(False, True, error=last_error)


# --------------------------------------------------------------------------- the policy


def backoff_delay(failed_attempts: int, schedule: Sequence[float] = DEFAULT_SCHEDULE, *,
                  jitter: float = DEFAULT_JITTER, max_delay: float | None = None,
                  retry_after: float | None = None, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `failed_attempts`-th failure (1-based); the schedule's last value repeats.

    A receiver's Retry-After is honoured when longer; `max_delay` (below the broker's
    visibility timeout) caps everything.
    """
    base = schedule[min(max(failed_attempts, 1), len(schedule)) - 1]
    delay = base * (1 + (rng or random).uniform(-jitter, jitter)) if jitter else float(base)
    if retry_after is not None:
        delay = max(delay, retry_after)
    if max_delay is not None:
        delay = min(delay, max_delay)
    return max(0.0, delay)


@dataclass(frozen=True)
class Outcome:
    """What `attempt_delivery` did: action is delivered | retry | failed | skipped."""

    event_id: str
    action: str
    attempts: int = 0
    retry_in: float | None = None
    status_code: int | None = None
    error: str | None = None


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def attempt_delivery(client: redis.Redis, event_id: str, *, allow: str = "",
                     max_attempts: int = DEFAULT_MAX_ATTEMPTS, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                     schedule: Sequence[float] = DEFAULT_SCHEDULE, jitter: float = DEFAULT_JITTER,
                     max_delay: float | None = None, secrets: WebhookSecrets | None = None,
                     dns_timeout: float = DNS_TIMEOUT_SECONDS) -> Outcome:
    """Run one due attempt for `event_id` and record it; `retry_in` says when to run again.

    Safe under duplicate task messages: a per-event lock keeps two attempts from running
    at once, an attempt that is not yet due is skipped (the chain that scheduled it will
    come), and finished records are left alone.
    """
    lock_key = record_key(event_id) + ":lock"
    token = uuid.uuid4().hex
    if not client.set(lock_key, token, nx=True, ex=int(timeout * 3 + dns_timeout + 60)):
        return Outcome(event_id, "skipped", error="another attempt is running")
    try:
        record = load_record(client, event_id)
        if record is None:
            log.warning("webhook %s: no delivery record (expired or never created); dropping", event_id)
            return Outcome(event_id, "skipped", error="no record")
        if record["status"] != "pending":
            return Outcome(event_id, "skipped", attempts=record["attempts"], error=f"already {record['status']}")
        now = time.time()
        if now < record["next_attempt_at"] - EARLY_TOLERANCE_SECONDS:
            return Outcome(event_id, "skipped", attempts=record["attempts"], error="not due yet (duplicate message)")

        secret = (secrets or WebhookSecrets(client)).signing_secrets(record["tenant"])
        result = deliver(record, secret, timeout, allow=allow, dns_timeout=dns_timeout)

        attempts = record["attempts"] + 1
        done_at = time.time()
        record["attempts"] = attempts
        record["last_status_code"] = result.status_code
        record["last_error"] = result.error
        record["history"] = (record.get("history") or [])[-(MAX_HISTORY - 1):] + [
            {"at": done_at, "status_code": result.status_code, "error": result.error}]
        if result.delivered:
            record.update(status="delivered", delivered_at=done_at, next_attempt_at=None)
            outcome = Outcome(event_id, "delivered", attempts, status_code=result.status_code)
            log.info("webhook %s (%s) delivered on attempt %d", event_id, record["type"], attempts)
        elif not result.retryable or attempts >= max_attempts:
            reason = result.error if not result.retryable else f"gave up after {attempts} attempts: {result.error}"
            record.update(status="failed", last_error=reason, next_attempt_at=None)
            outcome = Outcome(event_id, "failed", attempts, status_code=result.status_code, error=reason)
            log.warning("webhook %s (%s) to tenant %s failed: %s", event_id, record["type"], record["tenant"], reason)
        else:
            delay = backoff_delay(attempts, schedule, jitter=jitter, max_delay=max_delay, retry_after=result.retry_after)
            record["next_attempt_at"] = done_at + delay
            outcome = Outcome(event_id, "retry", attempts, retry_in=delay, status_code=result.status_code,
                              error=result.error)
            log.info("webhook %s attempt %d/%d failed (%s); next in %.0f s", event_id, attempts, max_attempts,
                     result.error, delay)
        _save_record(client, record)
        return outcome
    finally:
        client.eval(_RELEASE, 1, lock_key, token)

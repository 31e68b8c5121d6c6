"""`Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header).

The same key and body from the same tenant replays the original response (no second
job); the same key with a different body is 422; a retry while the first request is still
being handled is 409. Only successful responses are remembered, so a failed request can
be retried with the same key. Answers are remembered 24 hours. A view whose answer holds a
secret (a new API key) is `idempotent(sealed=True)`: its answer is remembered sealed with
the caller's API key (api/sealing.py), and only a retry with that key opens it.

A key never stays locked (issue 16):
- The pending record lives PENDING_TTL_SECONDS, and a heartbeat thread extends it while the
  request is alive; a request killed mid-way blocks its retries for at most that long.
- A view that queues a job calls `accept()` just before it queues: its answer is recorded
  (24 hours, `queued: false`) before the job exists, so no job is ever queued without its
  record. After the view returns, the final write marks the record queued, retried while Redis
  is briefly away. When the request dies, or that write fails, between the two, a retry finds
  the recorded answer and the view's `recover(ref)` makes sure the job is queued (sending it
  again is harmless: a duplicate drops out at its lease), or says the work is gone (its enqueue
  failed and it was removed): then the record is void and the retry runs as a new request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable
from functools import wraps

from flask import g, make_response, request
from redis.exceptions import RedisError

from api.auth import current_tenant, presented_key
from api.errors import ApiError
from api.sealing import seal, unseal
from api.services import services
from qagen.jobs.records import patiently

log = logging.getLogger(__name__)

TTL_SECONDS = 24 * 3600
PENDING_TTL_SECONDS = 10
HEARTBEAT_SECONDS = PENDING_TTL_SECONDS / 3
FINAL_WRITE_PATIENCE_SECONDS = 5.0
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

# Extend / delete the record only while it is still the one this request wrote.
_EXTEND_IF_MINE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end " \
                  "return 0"
_DELETE_IF_MINE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}?{request.query_string.decode('latin-1')}\n".encode())
    for name, value in sorted(request.form.items(multi=True)):
        digest.update(f"form {name}={value}\n".encode())
    for name, file in sorted(request.files.items(multi=True), key=lambda item: (item[0], item[1].filename or "")):
        digest.update(f"file {name} {file.filename}\n".encode())
        digest.update(hashlib.sha256(file.stream.read()).digest())
        file.stream.seek(0)
    if request.is_json:  # an edited paper (PUT .../paper); a form's fields are above
        digest.update(hashlib.sha256(request.get_data(cache=True)).digest())
    return digest.hexdigest()


class _Claim:
    """One request's hold on an idempotency key: its pending record, heartbeat and answer."""

    def __init__(self, redis, key: str, fingerprint: str, seal_with: str | None = None):
        self.redis, self.key, self.fingerprint, self.seal_with = redis, key, fingerprint, seal_with
        self.pending = json.dumps({"state": "pending", "fingerprint": fingerprint, "owner": uuid.uuid4().hex})
        self.accepted: str | None = None  # the record accept() wrote (or tried to)
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def take(self) -> bool:
        return bool(self.redis.set(self.key, self.pending, nx=True, ex=PENDING_TTL_SECONDS))

    def start_heartbeat(self) -> None:
        self._beat = threading.Thread(target=self._extend, name="idempotency-heartbeat", daemon=True)
        self._beat.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()

    def _extend(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                if not self.redis.eval(_EXTEND_IF_MINE, 1, self.key, self.pending, PENDING_TTL_SECONDS):
                    return  # answered (or lost to expiry): nothing pending to keep alive
            except RedisError:
                continue  # a blip: the next beat tries again

    def record(self, body: str, status: int, location: str | None, ref: str | None, queued: bool) -> str:
        if self.seal_with:
            body = seal(body, self.seal_with, self.key)
        done = json.dumps({"state": "done", "fingerprint": self.fingerprint, "status": status, "body": body,
                           "location": location, "ref": ref, "queued": queued, "sealed": bool(self.seal_with)})
        if not queued:
            self.accepted = done
        self.redis.set(self.key, done, ex=TTL_SECONDS)
        return done

    def finish(self, response) -> None:
        """Remember a successful answer; a job accept()ed is now queued."""
        ref = json.loads(self.accepted)["ref"] if self.accepted else None
        try:
            patiently(lambda: self.record(response.get_data(as_text=True), response.status_code,
                                          response.headers.get("Location"), ref, queued=True),
                      FINAL_WRITE_PATIENCE_SECONDS)
        except RedisError:
            # The client has its answer. A retry finds the accepted record (if any) and recovers;
            # otherwise the pending record expires and a retry runs again.
            log.exception("could not record the answer of idempotency record %s", self.key)

    def abandon(self) -> None:
        """Unsuccessful: free the key (the pending record, or the answer accept() recorded)."""
        try:
            for mine in filter(None, (self.pending, self.accepted)):
                patiently(lambda mine=mine: self.redis.eval(_DELETE_IF_MINE, 1, self.key, mine),
                          FINAL_WRITE_PATIENCE_SECONDS)
        except RedisError:
            # A pending record expires by itself; an accepted one is voided or recovered on replay.
            log.exception("could not free idempotency record %s", self.key)


def accept(body: dict, status: int, headers: dict[str, str] | None = None, ref: str | None = None) -> None:
    """Record the answer of the request being handled before it queues its job (no-op without a key).

    `ref` names the work for the view's `recover` (e.g. the session id). Raises when Redis
    refuses the write: the view must then not queue the job, and clean up what it made.
    """
    claim: _Claim | None = g.get("idempotency")
    if claim is not None:
        claim.record(json.dumps(body), status, (headers or {}).get("Location"), ref, queued=False)


def idempotent(view=None, *, recover: Callable[[str], bool] | None = None, sealed: bool = False):
    """Make a POST (or PUT) view safe to retry with an Idempotency-Key (after require_key).

    `sealed`: remember the answer sealed with the caller's API key, which then takes part in
    the request's fingerprint (the same Idempotency-Key with another key is 422).

    `recover(ref)`, for views that call `accept()`: make sure the accepted work goes on (queue
    its job again if need be) and return True, or return False when the work is gone.
    """

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            check_key(key)
            record_key = f"qagen:idempotency:{g.tenant}:{hashlib.sha256(key.encode()).hexdigest()}"
            fingerprint, seal_with = _fingerprint(), presented_key() if sealed else None
            if seal_with:
                fingerprint = hashlib.sha256(f"{fingerprint} {hashlib.sha256(seal_with.encode()).hexdigest()}"
                                             .encode()).hexdigest()
            claim = _Claim(services().redis, record_key, fingerprint, seal_with)
            for attempt in range(3):
                if claim.take():
                    break
                replayed = _replay(claim, recover if attempt == 0 else None)
                if replayed is not None:
                    return replayed
            else:
                raise _in_progress()
            g.idempotency = claim
            claim.start_heartbeat()
            try:
                response = make_response(view(*args, **kwargs))
                if 200 <= response.status_code < 300:
                    claim.finish(response)
                else:
                    claim.abandon()
            except BaseException:
                claim.abandon()
                raise
            finally:
                claim.stop_heartbeat()
                g.pop("idempotency", None)
            return response

        wrapped.checks_idempotency_key = True  # outer decorators copy it (functools.wraps): init_app's hook
        return wrapped

    return decorate(view) if view is not None else decorate


def check_key(key: str) -> None:
    """An Idempotency-Key is 1-255 printable ASCII characters; an empty one is refused, not ignored."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
        raise ApiError(400, "bad_idempotency_key",
                       f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID.")


def init_app(app) -> None:
    """Refuse a malformed Idempotency-Key on the routes that honour one, before their body is read
    or validated (a 400 `bad_idempotency_key`, not a form's validation error or a silent no-key)."""

    @app.before_request
    def _check_idempotency_key():
        view = app.view_functions.get(request.endpoint or "")
        key = request.headers.get(HEADER)
        # Without a valid key the view answers 401 first: who asks comes before what they send.
        if key is not None and getattr(view, "checks_idempotency_key", False) and current_tenant() is not None:
            check_key(key)


def _in_progress() -> ApiError:
    return ApiError(409, "request_in_progress",
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    {"Retry-After": "1"})


def _replay(claim: _Claim, recover: Callable[[str], bool] | None):
    """The remembered answer; None when there is none (expired or void): the caller takes the key."""
    raw = claim.redis.get(claim.key)
    if raw is None:
        return None
    record = json.loads(raw)
    if record["fingerprint"] != claim.fingerprint:
        raise ApiError(422, "idempotency_key_reused",
                       "This Idempotency-Key was already used with a different request; use a new key.")
    if record["state"] == "pending":
        raise _in_progress()
    if not record.get("queued", True) and record.get("ref") and recover is not None:
        # Accepted, but its request ended before it said the job was queued.
        if not recover(record["ref"]):
            claim.redis.eval(_DELETE_IF_MINE, 1, claim.key, raw)
            return None
        record["queued"] = True
        try:
            claim.redis.set(claim.key, json.dumps(record), xx=True, keepttl=True)
        except RedisError:
            pass  # the next retry recovers again (a duplicate job drops out at its lease)
    body = record["body"]
    if record.get("sealed"):
        body = unseal(body, claim.seal_with or "", claim.key)
        if body is None:
            raise ApiError(422, "idempotency_key_reused",
                           "This Idempotency-Key was already used with a different request; use a new key.")
    response = make_response(body, record["status"])
    response.mimetype = "application/json"
    response.headers["Idempotent-Replayed"] = "true"
    if record.get("location"):
        response.headers["Location"] = record["location"]
    return response

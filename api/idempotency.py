"""`Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header).

The same key and body from the same tenant replays the original response (no second
job); the same key with a different body is 422; a retry while the first request is still
being handled is 409. Only successful responses are remembered, so a failed request can
be retried with the same key. Records live 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from flask import g, make_response, request

from api.errors import ApiError
from api.services import services

TTL_SECONDS = 24 * 3600
HEADER = "Idempotency-Key"


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    for name, value in sorted(request.form.items(multi=True)):
        digest.update(f"form {name}={value}\n".encode())
    for name, file in sorted(request.files.items(multi=True), key=lambda item: (item[0], item[1].filename or "")):
        digest.update(f"file {name} {file.filename}\n".encode())
        digest.update(hashlib.sha256(file.stream.read()).digest())
        file.stream.seek(0)
    return digest.hexdigest()


def idempotent(view):
    """Make a POST view safe to retry with an Idempotency-Key (after require_key)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise ApiError(400, "bad_idempotency_key", "Idempotency-Key must be 1-255 printable characters.")
        redis = services().redis
        record_key = f"qagen:idempotency:{g.tenant}:{hashlib.sha256(key.encode()).hexdigest()}"
        fingerprint = _fingerprint()
        pending = json.dumps({"state": "pending", "fingerprint": fingerprint})
        if not redis.set(record_key, pending, nx=True, ex=TTL_SECONDS):
            return _replay(redis.get(record_key), fingerprint)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            redis.delete(record_key)
            raise
        if 200 <= response.status_code < 300:
            done = {"state": "done", "fingerprint": fingerprint, "status": response.status_code,
                    "body": response.get_data(as_text=True), "location": response.headers.get("Location")}
            redis.set(record_key, json.dumps(done), ex=TTL_SECONDS)
        else:
            redis.delete(record_key)
        return response

    return wrapped


def _replay(raw: bytes | None, fingerprint: str):
    record = json.loads(raw) if raw else {"state": "pending", "fingerprint": fingerprint}
    if record["fingerprint"] != fingerprint:
        raise ApiError(422, "idempotency_key_reused",
                       "This Idempotency-Key was already used with a different request; use a new key.")
    if record["state"] == "pending":
        raise ApiError(409, "request_in_progress",
                       "A request with this Idempotency-Key is still being processed; retry shortly.",
                       {"Retry-After": "1"})
    response = make_response(record["body"], record["status"])
    response.mimetype = "application/json"
    response.headers["Idempotent-Replayed"] = "true"
    if record.get("location"):
        response.headers["Location"] = record["location"]
    return response

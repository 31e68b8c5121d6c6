"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from api.services import services
from qagen.errors import TransientError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Alive: the process answers. Checks nothing else, so a slow dependency never restarts us."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Ready: Redis and the S3 bucket answer; 503 naming what is down otherwise."""
    checks: dict[str, str] = {}
    try:
        services().redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # any failure means not ready
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    try:
        services().storage.ping()
        checks["s3"] = "ok"
    except TransientError as exc:
        checks["s3"] = f"unreachable: {exc.__cause__.__class__.__name__ if exc.__cause__ else exc}"
    ready = all(value == "ok" for value in checks.values())
    return jsonify({"status": "ready" if ready else "unavailable", "checks": checks}), 200 if ready else 503

"""Liveness and readiness probes."""

from __future__ import annotations

from apiflask import APIBlueprint

from api.schemas import Health
from api.services import services
from qagen.errors import TransientError

bp = APIBlueprint("health", __name__, tag="Probes")


@bp.get("/healthz")
@bp.output(Health)
@bp.doc(operation_id="liveness")
def healthz():
    """Alive: the process answers (checks nothing else, so a slow dependency never restarts it)"""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.output(Health, description="Redis and the S3 bucket answer")
@bp.doc(responses={503: {"description": "Not ready: the checks name what is down",
                         "content": {"application/json": {"schema": Health}}}}, operation_id="readiness")
def readyz():
    """Ready: Redis and the S3 bucket answer; 503 naming what is down otherwise"""
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
    return {"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503

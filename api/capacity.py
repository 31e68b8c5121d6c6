"""GET /api/v1/capacity: queue depth and an estimated wait, so integrators can set expectations."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import g

from api.auth import require_key
from api.schemas import Capacity
from api.services import services
from qagen.jobs.capacity import cached_ready_workers, measure
from qagen.jobs.fairness import waiting

bp = APIBlueprint("capacity", __name__, tag="Service")


@bp.get("/capacity")
@require_key
@bp.output(Capacity)
@bp.doc(security="BearerAuth", responses={401: "Missing or invalid API key", 429: "Rate limited"},
        operation_id="get_capacity")
def capacity():
    """Queue depth, jobs running, and the estimated wait before a new job starts"""
    s = services().settings
    workers = cached_ready_workers(s.worker_deployment)
    redis = services().redis
    # A new job of this tenant waits for its own pending jobs and one per turn of each other tenant's.
    return measure(redis, s.queue, s.worker_concurrency, workers, waiting=waiting(redis, s.queue), tenant=g.tenant).to_dict()

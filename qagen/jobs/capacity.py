"""How busy the service is: queue depth, jobs running, and an estimate of the wait for a new job.

In Kubernetes the worker Deployment's ready replicas (read with the kubernetes client,
in-cluster config, a least-privilege Role) times each worker's concurrency gives the
slots; elsewhere the estimate falls back to the queue depth and the jobs running now.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import time
from dataclasses import asdict, dataclass

import redis

from qagen.jobs.fairness import Waiting

log = logging.getLogger(__name__)

DURATIONS_KEY = "qagen:job-durations"
UNACKED_KEY = "unacked"  # kombu's hash of delivered, unacknowledged messages (all queues)


@dataclass(frozen=True)
class Capacity:
    queued: int
    running: int
    workers: int | None
    slots: int | None
    median_job_seconds: float | None
    estimated_wait_seconds: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def record_job_duration(client: redis.Redis, seconds: float, keep: int = 200) -> None:
    pipe = client.pipeline()
    pipe.lpush(DURATIONS_KEY, f"{seconds:.3f}")
    pipe.ltrim(DURATIONS_KEY, 0, keep - 1)
    pipe.execute()


def ready_workers(deployment: str, namespace: str | None = None) -> int | None:
    """Ready replicas of the worker Deployment, or None outside a cluster or when it cannot be read."""
    if not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    try:
        from kubernetes import client, config

        config.load_incluster_config()
        if namespace is None:
            with open("/var/run/secrets/kubernetes.io/serviceaccount/namespace") as handle:
                namespace = handle.read().strip()
        status = client.AppsV1Api().read_namespaced_deployment(deployment, namespace, _request_timeout=2).status
        return status.ready_replicas or 0
    except Exception as exc:  # the estimate degrades, the endpoint still answers
        log.warning("could not read deployment %s: %s", deployment, exc)
        return None


def measure(client: redis.Redis, queue: str, worker_concurrency: int, workers: int | None, *,
            unacked_key: str = UNACKED_KEY, durations_key: str = DURATIONS_KEY,
            waiting: Waiting | None = None, tenant: str | None = None) -> Capacity:
    """`waiting`: the fair-scheduling dispatcher's pending jobs (qagen.jobs.fairness.waiting), which
    count as queued; with `tenant`, the estimate is for a new job of that tenant, which waits
    only for its own pending jobs and one per turn of each other tenant's (round robin)."""
    pipe = client.pipeline()
    pipe.llen(queue)
    pipe.hlen(unacked_key)
    pipe.lrange(durations_key, 0, -1)
    in_broker, running, durations = pipe.execute()
    queued = in_broker + (waiting.total_pending if waiting else 0)
    ahead = in_broker + (waiting.ahead_of_new_job(tenant) if waiting and tenant else queued - in_broker)
    median = statistics.median(float(d) for d in durations) if durations else None
    slots = workers * worker_concurrency if workers is not None else None
    estimate = None
    if median is not None:
        # A new job starts once the jobs ahead of it (queued, and running: papers and notes
        # being indexed alike) have drained through the slots. With no cluster to ask, one
        # worker's concurrency (or the jobs running now, if more) stands in for the slots, so
        # all slots busy with nothing queued still means a wait of one job. With zero workers
        # (scaled to zero) the wait depends on a pod starting: not estimated.
        parallel = slots if slots is not None else max(running, worker_concurrency, 1)
        if parallel:
            estimate = math.floor((ahead + running) / parallel) * median
    return Capacity(queued, running, workers, slots, median, estimate)


_cache: dict[str, tuple[float, int | None]] = {}


def cached_ready_workers(deployment: str, ttl_seconds: float = 10.0) -> int | None:
    """ready_workers, asked of the cluster at most every `ttl_seconds` per process."""
    now = time.monotonic()
    hit = _cache.get(deployment)
    if hit and now - hit[0] < ttl_seconds:
        return hit[1]
    value = ready_workers(deployment)
    _cache[deployment] = (now, value)
    return value

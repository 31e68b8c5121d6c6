"""GET /metrics for Prometheus: API request latency, and the worker fleet's job statistics.

Request latency is a histogram per route, method and status. Under gunicorn the worker
processes share it through prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
set up in api/gunicorn_conf.py). Worker statistics (stage durations, job outcomes) and the
queue's depth come from Redis at scrape time, so every API replica reports the same
fleet-wide numbers and workers (scaled to zero by KEDA) need no port of their own.
"""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from qagen.jobs.capacity import UNACKED_KEY
from qagen.jobs.stats import BUCKETS, read_outcomes, read_stages

log = logging.getLogger("qagen.api.requests")

REQUEST_SECONDS = Histogram("qagen_api_request_duration_seconds", "API request latency.",
                            ["method", "route", "status"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class FleetCollector:
    """Worker and queue figures read from Redis when Prometheus scrapes."""

    def __init__(self, redis, queue: str):
        self.redis, self.queue = redis, queue

    def collect(self):
        queued = GaugeMetricFamily("qagen_queue_depth", "Jobs waiting in the queue.")
        queued.add_metric([], self.redis.llen(self.queue))
        yield queued
        running = GaugeMetricFamily("qagen_jobs_in_flight", "Jobs delivered to workers and not yet acknowledged.")
        running.add_metric([], self.redis.hlen(UNACKED_KEY))
        yield running
        outcomes = CounterMetricFamily("qagen_jobs", "Jobs finished, by outcome.", labels=["outcome"])
        for outcome, count in read_outcomes(self.redis).items():
            outcomes.add_metric([outcome], count)
        yield outcomes
        stages = HistogramMetricFamily("qagen_stage_duration_seconds", "Pipeline stage durations.", labels=["stage"])
        for stage, values in read_stages(self.redis).items():
            buckets = [(str(bound), values.get(f"le:{bound}", 0.0)) for bound in BUCKETS]
            buckets.append(("+Inf", values.get("count", 0.0)))
            stages.add_metric([stage], buckets, values.get("sum", 0.0))
        yield stages


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


def init_app(app: Flask, redis, queue: str) -> None:
    fleet = FleetCollector(redis, queue)

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("request_started", None)
        if started is not None and request.path != "/metrics":
            seconds = time.perf_counter() - started
            route = request.url_rule.rule if request.url_rule else "unmatched"
            REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(seconds)
            # The access log: the path only, never the query (it may carry ?access_token=).
            log.info("%s %s %s", request.method, request.path, response.status_code,
                     extra={"method": request.method, "path": request.path, "status": response.status_code,
                            "ms": round(seconds * 1000, 1)})
        return response

    @app.get("/metrics")
    @app.doc(hide=True)
    def metrics():
        registry = CollectorRegistry()
        registry.register(fleet)
        body = generate_latest(_registry()) + generate_latest(registry)
        return Response(body, mimetype=CONTENT_TYPE_LATEST)

"""Metrics for Prometheus: API request latency, and the worker fleet's job statistics.

They are served apart from the API, on `QAGEN_METRICS_BIND` (0.0.0.0:9464 in Kubernetes,
where a NetworkPolicy admits only the monitoring namespace to that port and the Ingress
never routes to it), by a small HTTP server in gunicorn's master process (`serve`, started
from `when_ready` in api/gunicorn_conf.py). The API's own port has no /metrics.

Request latency is a histogram per route, method and status, observed in the worker
processes and pooled through prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
set up in api/gunicorn_conf.py): the master reads every worker's file at each scrape, so one
scrape covers all workers. Worker statistics (stage durations, job outcomes) and the queue's
depth come from Redis at scrape time, so every API replica reports the same fleet-wide
numbers and workers (scaled to zero by KEDA) need no port of their own.
"""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from qagen.jobs.capacity import UNACKED_KEY
from qagen.jobs.fairness import waiting
from qagen.jobs.stats import BUCKETS, read_outcomes, read_stages
from qagen.usage import totals

log = logging.getLogger("qagen.api.requests")
server_log = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram("qagen_api_request_duration_seconds", "API request latency.",
                            ["method", "route", "status"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class FleetCollector:
    """Worker and queue figures read from Redis when Prometheus scrapes."""

    def __init__(self, redis, queue: str):
        self.redis, self.queue = redis, queue

    def collect(self):
        up = GaugeMetricFamily("qagen_fleet_metrics_up", "1 when the fleet's figures could be read from Redis.")
        try:
            families = list(self._fleet())
        except Exception:  # Redis away: the API's own latency is still worth a scrape
            server_log.warning("fleet metrics unavailable: Redis did not answer", exc_info=True)
            families = []
        up.add_metric([], 1 if families else 0)
        yield up
        yield from families

    def _fleet(self):
        fair = waiting(self.redis, self.queue)
        queued = GaugeMetricFamily("qagen_queue_depth", "Jobs waiting: in the dispatcher and in the Celery queue.")
        queued.add_metric([], self.redis.llen(self.queue) + fair.total_pending)
        yield queued
        pending = GaugeMetricFamily("qagen_tenant_jobs_pending", "Paper jobs waiting in the dispatcher, by tenant "
                                    "(docs/fairness.md).", labels=["tenant"])
        for tenant, count in sorted(fair.pending.items()):
            pending.add_metric([tenant], count)
        yield pending
        dispatched = GaugeMetricFamily("qagen_tenant_jobs_dispatched", "Paper jobs dispatched (in the Celery queue "
                                       "or running), by tenant.", labels=["tenant"])
        for tenant, count in sorted(fair.dispatched.items()):
            dispatched.add_metric([tenant], count)
        yield dispatched
        running = GaugeMetricFamily("qagen_jobs_in_flight", "Jobs delivered to workers and not yet acknowledged.")
        running.add_metric([], self.redis.hlen(UNACKED_KEY))
        yield running
        yield from usage_families(self.redis)
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


USAGE_HELP = {"papers": "Papers uploaded (accepted), by tenant.", "model_calls": "Model calls, by tenant.",
              "input_tokens": "Model input tokens, by tenant.", "output_tokens": "Model output tokens, by tenant.",
              "cost_usd": "Model cost in US dollars (litellm's cost map), by tenant."}


def usage_families(redis):
    """qagen_tenant_<figure>_total{tenant}: every tenant's usage since the start (qagen/usage.py)."""
    figures = totals(redis)
    for name, help_text in USAGE_HELP.items():
        family = CounterMetricFamily(f"qagen_tenant_{name}", help_text, labels=["tenant"])
        for tenant, values in figures.items():
            family.add_metric([tenant], values[name])
        yield family


def registry(redis, queue: str) -> CollectorRegistry:
    """What a scrape reports: every gunicorn worker's request latency, and the fleet's figures."""
    scraped = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(scraped)
    else:  # one process (a test, `flask run`): its own histogram
        scraped.register(_OwnRequests())
    scraped.register(FleetCollector(redis, queue))
    return scraped


class _OwnRequests:
    def collect(self):
        yield from REQUEST_SECONDS.collect()


def serve(bind: str, redis, queue: str):
    """Serve `registry` over HTTP on `bind` (host:port) from a daemon thread; None if it cannot bind.

    A failure to bind is logged, never raised: the API must start without its metrics."""
    if not bind:
        return None
    from prometheus_client import start_http_server

    host, _, port = bind.rpartition(":")
    try:
        server, _thread = start_http_server(int(port), addr=host.strip("[]") or "0.0.0.0",
                                            registry=registry(redis, queue))
    except OSError as exc:
        server_log.error("metrics not served: cannot listen on %s (%s)", bind, exc)
        return None
    server_log.info("metrics served on http://%s/metrics", bind)
    return server


def serve_from_settings(settings=None):
    """`serve` with this process's settings (gunicorn's master calls it once it is ready)."""
    from qagen.logs import configure_logging
    from qagen.redis_client import redis_from_settings
    from qagen.settings import get_settings

    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return serve(settings.metrics_bind, redis_from_settings(settings, timeout_seconds=3.0), settings.queue)


def init_app(app: Flask) -> None:
    """Time every request, and log it (the API's access log)."""

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("request_started", None)
        if started is not None:
            seconds = time.perf_counter() - started
            route = request.url_rule.rule if request.url_rule else "unmatched"
            REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(seconds)
            # The access log: the path only, never the query (it may carry ?access_token=).
            log.info("%s %s %s", request.method, request.path, response.status_code,
                     extra={"method": request.method, "path": request.path, "status": response.status_code,
                            "ms": round(seconds * 1000, 1)})
        return response

"""Job statistics shared by every worker, kept in Redis, exported by the API's /metrics.

Workers are prefork processes that come and go (scaled to zero by KEDA), so each records
what it did into Redis: a histogram per pipeline stage (seconds), and job outcomes. Any
API replica can then report the same fleet-wide numbers to Prometheus.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

STAGE_KEY = "qagen:stats:stage:"  # + stage: hash of bucket counters, "sum" and "count"
OUTCOMES_KEY = "qagen:stats:outcomes"  # hash: complete / failed / retried -> count
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


def record_stage(client: redis.Redis, stage: str, seconds: float) -> None:
    pipe = client.pipeline()
    key = STAGE_KEY + stage
    for bound in BUCKETS:
        if seconds <= bound:
            pipe.hincrby(key, f"le:{bound}", 1)
    pipe.hincrby(key, "count", 1)
    pipe.hincrbyfloat(key, "sum", seconds)
    pipe.execute()


def record_outcome(client: redis.Redis, outcome: str) -> None:
    client.hincrby(OUTCOMES_KEY, outcome, 1)


def timing_stages(client: redis.Redis, progress: Callable[..., None]) -> Callable[..., None]:
    """A progress callback that also records how long each stage took (stage changes mark the time)."""
    state = {"stage": None, "since": time.monotonic()}

    def report(stage: str, percent: int, message: str = "") -> None:
        now = time.monotonic()
        if stage != state["stage"]:
            if state["stage"] is not None:
                try:
                    record_stage(client, state["stage"], now - state["since"])
                except redis.RedisError:
                    pass  # statistics must never cost a job
            state["stage"], state["since"] = stage, now
        progress(stage, percent, message)

    return report


def read_stages(client: redis.Redis) -> dict[str, dict[str, float]]:
    out = {}
    for key in client.scan_iter(STAGE_KEY + "*"):
        stage = key.decode()[len(STAGE_KEY):]
        out[stage] = {k.decode(): float(v) for k, v in client.hgetall(key).items()}
    return out


def read_outcomes(client: redis.Redis) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in client.hgetall(OUTCOMES_KEY).items()}

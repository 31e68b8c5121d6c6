"""One way to open Redis, with timeouts, so no caller hangs on a dead server."""

from __future__ import annotations

import redis

from qagen.settings import Settings


def redis_from_settings(settings: Settings, *, timeout_seconds: float = 5.0) -> redis.Redis:
    return redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        health_check_interval=30,
    )

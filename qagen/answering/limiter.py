"""A requests-per-minute limit on model calls that waits instead of failing.

Shared by every worker process through Redis (limits' moving window, an atomic Lua
script), so N workers together stay under a provider's RPM; litellm's Router would
reject rather than wait and counts per process (field-notes-llm-parsing §1.3).
"""

from __future__ import annotations

import asyncio
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

NAMESPACE = "qagen-llm"


class ModelRateLimiter:
    """At most `limit` calls per model in any `window_seconds` (60: a provider's RPM).

    The window we enforce is `margin_seconds` longer than the provider's: a call reaches
    the provider some milliseconds after we count it, so an exact window lets the first
    call of the next burst land inside the provider's view of the previous one.
    """

    def __init__(self, limit: int | None, redis_url: str | None = None, window_seconds: int = 60,
                 margin_seconds: int = 1):
        self.item = RateLimitItemPerSecond(limit, window_seconds + margin_seconds) if limit else None
        storage = storage_from_string(redis_url) if redis_url else MemoryStorage()
        self.strategy = MovingWindowRateLimiter(storage)

    async def acquire(self, model: str) -> float:
        """Wait until a call to `model` is allowed; return the seconds waited."""
        if self.item is None:
            return 0.0
        started = time.monotonic()
        while not self.strategy.hit(self.item, NAMESPACE, model):
            stats = self.strategy.get_window_stats(self.item, NAMESPACE, model)
            await asyncio.sleep(min(5.0, max(0.02, stats.reset_time - time.time())))
        return time.monotonic() - started

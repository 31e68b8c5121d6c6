"""The retry policy: which answers mean "try later", how long to wait, and the backoff without a hint.

Refusals that say "try later" (429, 503, and a 409 `request_in_progress` of an upload whose
Idempotency-Key is still being handled) are retried by `QagenClient` a bounded number of
times, waiting `Retry-After` when the server sends one and `backoff(attempt)` otherwise.
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone

import httpx

RETRYABLE_CONFLICT = "request_in_progress"  # 409: an upload with the same Idempotency-Key is still being handled


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), or None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def retryable(response: httpx.Response) -> bool:
    """Refused for now: rate limited (429), briefly unavailable (503), or the same upload still in progress (409)."""
    if response.status_code in (429, 503):
        return True
    return response.status_code == 409 and error_code(response) == RETRYABLE_CONFLICT


def error_code(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError, httpx.ResponseNotRead):
        return None


def backoff(attempt: int) -> float:
    """The wait before retry `attempt` (from 0) when the server gave no Retry-After: 0.5, 1, 2 … 8 s."""
    return min(8.0, 0.5 * 2**attempt)

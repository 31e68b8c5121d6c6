"""Waiting on a record by polling the API, with a deadline instead of fixed sleeps."""

from __future__ import annotations

import time

import httpx


def poll_until(client: httpx.Client, path: str, finished: set[str], timeout: float = 120.0) -> dict:
    """GET `path` until its `status` is one of `finished`; the last body."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(path).json()
        if body.get("status") in finished:
            return body
        time.sleep(0.2)
    raise AssertionError(f"{path} did not finish within {timeout} s; last body {body}")


def wait_for_session(client: httpx.Client, session_id: str, timeout: float = 120.0) -> dict:
    return poll_until(client, f"/api/v1/sessions/{session_id}", {"complete", "failed"}, timeout)

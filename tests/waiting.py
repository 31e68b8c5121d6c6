"""Waiting on a session by polling the API, with a deadline instead of fixed sleeps."""

from __future__ import annotations

import time

import httpx


def wait_for_session(client: httpx.Client, session_id: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/sessions/{session_id}").json()
        if body["status"] in ("complete", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"session {session_id} did not finish within {timeout} s; last status {body}")

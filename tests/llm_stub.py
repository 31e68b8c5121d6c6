"""Start qagen's OpenAI-compatible stub server in its own process, for tests."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager

import httpx

from qagen.devstack import free_port, wait_until


@contextmanager
def running_stub(*args: str, ready_timeout: float = 10.0):
    """Yields the stub's base URL (`/v1` is its OpenAI API, `/stats` its counters)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "qagen.llm.stub_server", "--port", str(port), *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{base}/stats", timeout=1).status_code == 200, ready_timeout, "the LLM stub")
        yield base
    finally:
        process.terminate()
        process.wait(5)

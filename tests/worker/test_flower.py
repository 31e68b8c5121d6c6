"""`celery -A worker flower` monitors the same app the workers run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from devtools.stack import free_port, wait_until
from tests.conftest import REPO


def test_flower_starts_against_the_worker_app_and_sees_the_worker(stack):
    port = free_port()
    celery = str(Path(sys.executable).parent / "celery")
    process = subprocess.Popen([celery, "-A", "worker", "flower", f"--port={port}", "--address=127.0.0.1"],
                               cwd=REPO, env={**stack.env, "FLOWER_UNAUTHENTICATED_API": "true"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(f"{base}/healthcheck", timeout=1).text == "OK", 30, "Flower")
        wait_until(lambda: any(name.startswith("worker@") for name in httpx.get(f"{base}/api/workers", timeout=5).json()),
                   30, "Flower seeing the worker", interval=1)
    finally:
        process.terminate()
        process.wait(10)

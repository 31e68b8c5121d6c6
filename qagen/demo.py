"""`make demo`: the main job end to end on the real local stack, then everything stopped.

Starts Redis, SeaweedFS, the API and a worker on free ports, uploads the example paper
through the HTTP API as an LMS would, shows progress until done, follows the download
redirect to the signed URL, saves the PDF under out/ and prints the URL.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx

from qagen.devstack import LocalStack, StackLayout


def _say(text: str) -> None:
    print(text, flush=True)


def run_demo(paper: Path, out_dir: Path, timeout_seconds: float = 300.0) -> int:
    Path(".qagen").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="demo-", dir=".qagen") as data_dir:
        layout = StackLayout.on_free_ports(Path(data_dir))
        _say("Starting Redis, SeaweedFS (S3), the API (gunicorn) and a Celery worker ...")
        with LocalStack(layout) as stack:
            started = time.monotonic()
            stack.start()
            _say(f"  stack up in {time.monotonic() - started:.1f} s; API at {layout.api_url}")
            from qagen.apikeys import ApiKeyStore
            from qagen.redis_client import redis_from_settings

            key = ApiKeyStore(redis_from_settings(stack.settings)).create("demo")
            return _submit_and_fetch(layout.api_url, key, paper, out_dir, timeout_seconds)


def _submit_and_fetch(api_url: str, key: str, paper: Path, out_dir: Path, timeout_seconds: float) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        _say(f"Uploading {paper} ...")
        response = client.post("/api/upload", files={"file": (paper.name, paper.read_bytes())})
        if response.status_code != 202:
            _say(f"Upload refused: {response.status_code} {response.text}")
            return 1
        session_id = response.json()["session_id"]
        _say(f"  session {session_id}")
        deadline = time.monotonic() + timeout_seconds
        last = None
        while time.monotonic() < deadline:
            status = client.get(f"/api/sessions/{session_id}").json()
            line = f"  [{status['progress']:3d}%] {status['stage']}: {status['message']}"
            if line != last:
                _say(line)
                last = line
            if status["status"] == "failed":
                _say(f"The job failed: {status['error']}")
                return 1
            if status["status"] == "complete":
                break
            time.sleep(0.25)
        else:
            _say(f"Gave up after {timeout_seconds:.0f} s.")
            return 1
        redirect = client.get(f"/api/download/{session_id}")
        signed_url = redirect.headers["Location"]
    # The signed URL needs no credentials: fetch it as a browser would.
    pdf = httpx.get(signed_url, timeout=30)
    pdf.raise_for_status()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{paper.stem}-answers.pdf"
    target.write_bytes(pdf.content)
    _say(f"\n{status['question_count']} questions answered. Saved {target} ({len(pdf.content):,} bytes).")
    _say(f"Signed download URL (valid 15 minutes, until the demo's stack stops):\n{signed_url}")
    return 0


if __name__ == "__main__":
    sys.exit(run_demo(Path(sys.argv[1]), Path("out")))

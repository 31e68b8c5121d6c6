"""`make demo`: the main job end to end on the real local stack, then everything stopped.

Starts Redis, SeaweedFS, the API and a worker on free ports and then acts as an LMS would,
through the HTTP API only: uploads the course notes into a knowledge base and waits for
it to be indexed, uploads the example paper against it, shows progress until done, reads
the answers' JSON to say where each answer came from, follows the download redirect to
the signed URL, saves the PDF under out/ and prints the URL.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from devtools.provenance import summarise, summary_text
from devtools.stack import LocalStack, StackLayout
from qagen.model import Paper

POLL_SECONDS = 0.25


class DemoFailed(Exception):
    """A step of the demo went wrong; the message says which and what to do."""


def _say(text: str) -> None:
    print(text, flush=True)


def note_files(notes: Path) -> list[Path]:
    """The files to upload from a notes file or folder (searched recursively; hidden files left out)."""
    if notes.is_file():
        return [notes]
    files = sorted(p for p in notes.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(notes).parts))
    if not files:
        raise DemoFailed(f"There are no note files in {notes}; pass --notes with a folder of notes, or --no-notes.")
    return files


def error_message(response: httpx.Response) -> str:
    """The API's own error message (errors are JSON), else the raw body."""
    try:
        return f"{response.status_code} {response.json()['error']['message']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.text[:300]}"


def run_demo(paper: Path, out_dir: Path, notes: Path | None = None, timeout_seconds: float = 300.0) -> int:
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
            try:
                act_as_an_lms(layout.api_url, key, paper, notes, out_dir, timeout_seconds)
            except DemoFailed as exc:
                _say(str(exc))
                return 1
            except httpx.HTTPError as exc:
                _say(f"The API stopped answering ({type(exc).__name__}: {exc}); try `make demo` again.")
                return 1
            return 0


def act_as_an_lms(api_url: str, key: str, paper: Path, notes: Path | None, out_dir: Path,
                  timeout_seconds: float) -> None:
    """The demo's conversation with a running API; DemoFailed says which step went wrong."""
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        kb_id = None
        if notes is not None:
            kb_id = _create_knowledge_base(client, note_files(notes))
            _wait_until_indexed(client, kb_id, timeout_seconds)
        session_id = _upload_paper(client, paper, kb_id)
        status = _wait_until_answered(client, session_id, timeout_seconds)
        result = client.get(f"/api/v1/sessions/{session_id}/result.json")
        if result.status_code != 200:
            raise DemoFailed(f"Could not read the answers' JSON: {error_message(result)}")
        redirect = client.get(f"/api/v1/download/{session_id}")
        if redirect.status_code != 302:
            raise DemoFailed(f"The download was refused: {error_message(redirect)}")
        signed_url = redirect.headers["Location"]
    # The signed URL needs no credentials: fetch it as a browser would.
    pdf = httpx.get(signed_url, timeout=30)
    pdf.raise_for_status()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{paper.stem}-answers.pdf"
    target.write_bytes(pdf.content)
    _say(f"\n{status['question_count']} questions answered. Saved {target} ({len(pdf.content):,} bytes).")
    _say(summary_text(summarise(Paper.from_dict(result.json()))))
    _say(f"Signed download URL (valid 15 minutes, until the demo's stack stops):\n{signed_url}")


def _create_knowledge_base(client: httpx.Client, files: list[Path]) -> str:
    names = ", ".join(f.name for f in files)
    _say(f"Uploading {len(files)} file(s) of course notes into a knowledge base: {names} ...")
    response = client.post("/api/v1/knowledge", data={"name": "Demo course notes"},
                           files=[("file", (f.name, f.read_bytes())) for f in files])
    if response.status_code != 202:
        raise DemoFailed(f"The notes were refused: {error_message(response)}")
    kb_id = response.json()["knowledge_base_id"]
    _say(f"  knowledge base {kb_id}")
    return kb_id


def _wait_until_indexed(client: httpx.Client, kb_id: str, timeout_seconds: float) -> None:
    kb = _poll(lambda: _get_json(client, f"/api/v1/knowledge/{kb_id}"), _indexing_line,
               lambda kb: kb["status"] != "indexing", timeout_seconds, "indexing the notes")
    if kb["status"] == "failed":
        raise DemoFailed(f"The notes could not be indexed: {kb['error']} Check the files under --notes.")
    for document in kb["documents"]:
        if document["error"]:
            _say(f"  left out {document['filename']}: {document['error']}")


def _indexing_line(kb: dict) -> str:
    documents = len(kb["documents"])
    if kb["status"] == "ready":
        return f"  [ready] {kb['chunk_count']} passages from {documents} document(s)"
    return f"  [{kb['status']}] {documents} document(s)"


def _upload_paper(client: httpx.Client, paper: Path, kb_id: str | None) -> str:
    _say(f"Uploading {paper}" + (f" with knowledge_base={kb_id}" if kb_id else " without course notes") + " ...")
    response = client.post("/api/v1/upload", files={"file": (paper.name, paper.read_bytes())},
                           data={"knowledge_base": kb_id} if kb_id else None)
    if response.status_code != 202:
        raise DemoFailed(f"Upload refused: {error_message(response)}")
    session_id = response.json()["session_id"]
    _say(f"  session {session_id}")
    return session_id


def _wait_until_answered(client: httpx.Client, session_id: str, timeout_seconds: float) -> dict:
    status = _poll(lambda: _get_json(client, f"/api/v1/sessions/{session_id}"),
                   lambda s: f"  [{s['progress']:3d}%] {s['stage']}: {s['message']}",
                   lambda s: s["status"] in ("complete", "failed"), timeout_seconds, "answering the paper")
    if status["status"] == "failed":
        raise DemoFailed(f"The job failed: {status['error']}")
    return status


def _get_json(client: httpx.Client, path: str) -> dict:
    response = client.get(path)
    if response.status_code != 200:
        raise DemoFailed(f"GET {path} failed: {error_message(response)}")
    return response.json()


def _poll(fetch: Callable[[], dict], describe: Callable[[dict], str], finished: Callable[[dict], bool],
          timeout_seconds: float, what: str) -> dict:
    """Fetch until `finished`, printing each new progress line once; DemoFailed after `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    last = None
    while True:
        record = fetch()
        line = describe(record)
        if line != last:
            _say(line)
            last = line
        if finished(record):
            return record
        if time.monotonic() >= deadline:
            raise DemoFailed(f"Gave up {what} after {timeout_seconds:.0f} s: the worker did not finish. "
                             f"Is the machine overloaded? `make up` runs the stack with the worker's log in view.")
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    sys.exit(run_demo(Path(sys.argv[1]), Path("out"), Path(sys.argv[2]) if len(sys.argv) > 2 else None))

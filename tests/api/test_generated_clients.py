"""Clients generated from the live /openapi.json drive an integrator's whole flow, with no hand-written HTTP.

As an LMS integrator would: fetch the document from the running API, generate a client, use
only that client. Python: openapi-python-client's package, imported from a temporary folder.
TypeScript: openapi-typescript's types with openapi-fetch (tests/api/ts_client/flow.mts),
type-checked by tsc against the document, then run under Node.

The flow: upload a paper (multipart, with an Idempotency-Key), poll its status until it is
done, read result.json, download (the 302 with its Location, then, with redirects followed,
the PDF behind the signed URL), create a knowledge base and read it back, list the sessions.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest

TS_CLIENT = Path(__file__).resolve().parent / "ts_client"
PACKAGE = "qagen_generated_client"
PAPER = b"Quiz\n1. Define velocity. [1]\n2. State Newton's first law. [2]\n"
NOTES = b"Velocity is the rate of change of displacement with time.\n"
# The signed URL's PDF is application/pdf, which openapi-python-client does not parse unless told to
# read it as bytes; no post-hooks (ruff) run on the generated code.
GENERATOR_CONFIG = f"""\
project_name_override: {PACKAGE}
package_name_override: {PACKAGE}
post_hooks: []
content_type_overrides:
  application/pdf: application/octet-stream
"""


def _run(command: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture
def generated(stack, tmp_path, monkeypatch):
    """The Python client openapi-python-client generates from the live document, imported."""
    (tmp_path / "config.yaml").write_text(GENERATOR_CONFIG)
    generator = Path(sys.executable).with_name("openapi-python-client")
    done = _run([str(generator), "generate", "--url", f"{stack.layout.api_url}/openapi.json", "--meta", "none",
                 "--output-path", str(tmp_path / PACKAGE), "--config", "config.yaml"], tmp_path)
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _wait(get_session, client, session_id):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        session = get_session.sync(session_id=session_id, client=client)
        if session.status.value in ("complete", "failed"):
            return session
        time.sleep(0.1)
    raise AssertionError(f"session {session_id} did not finish")


def test_a_generated_python_client_drives_the_whole_flow(generated, stack, api_key):
    from qagen_generated_client import AuthenticatedClient
    from qagen_generated_client.api.knowledge_bases import (add_knowledge_documents, create_knowledge_base,
                                                            get_knowledge_base)
    from qagen_generated_client.api.sessions import (download_session_pdf, get_session, get_session_result,
                                                     list_sessions, upload_paper)
    from qagen_generated_client.models import (Error, KnowledgeIn, KnowledgeOut, KnowledgeStatus, PaperOut,
                                               SessionList, SessionStatus, Submission, UploadIn)
    from qagen_generated_client.types import File

    def paper() -> File:
        return File(payload=BytesIO(PAPER), file_name="quiz.txt", mime_type="text/plain")

    with AuthenticatedClient(base_url=stack.layout.api_url, token=api_key) as client:
        upload = upload_paper.sync_detailed(client=client, body=UploadIn(file=paper()),
                                            idempotency_key=str(uuid.uuid4()))
        assert upload.status_code == 202 and isinstance(upload.parsed, Submission)
        submission = upload.parsed
        assert isinstance(submission.session_id, uuid.UUID)
        assert upload.headers["Location"] == submission.status_url

        session = _wait(get_session, client, submission.session_id)
        assert session.status == SessionStatus.COMPLETE, session.error
        assert isinstance(session.created_at, datetime) and isinstance(session.finished_at, datetime)

        result = get_session_result.sync(session_id=submission.session_id, client=client)
        assert isinstance(result, PaperOut)
        assert [q.number for q in result.questions] == ["1", "2"]
        assert all(q.answer and q.answer.text for q in result.questions)

        # The download answers a 302 with no body: the generated call returns it, Location and all.
        redirect = download_session_pdf.sync_detailed(session_id=submission.session_id, client=client)
        assert redirect.status_code == 302 and redirect.parsed is None
        assert "X-Amz-Signature=" in redirect.headers["Location"]

        created = create_knowledge_base.sync_detailed(client=client, body=KnowledgeIn(
            file=[File(payload=BytesIO(NOTES), file_name="notes.txt", mime_type="text/plain")], name="Physics notes"))
        assert created.status_code == 202 and isinstance(created.parsed, KnowledgeOut)
        kb = get_knowledge_base.sync(kb_id=created.parsed.knowledge_base_id, client=client)
        assert isinstance(kb, KnowledgeOut) and kb.name == "Physics notes"
        assert isinstance(kb.status, KnowledgeStatus) and [d.filename for d in kb.documents] == ["notes.txt"]
        # The same notes again: a 200 with the base as it is and what was skipped.
        again = add_knowledge_documents.sync_detailed(kb_id=kb.knowledge_base_id, client=client, body=KnowledgeIn(
            file=[File(payload=BytesIO(NOTES), file_name="notes.txt", mime_type="text/plain")]))
        assert again.status_code == 200 and isinstance(again.parsed, KnowledgeOut)
        assert [s.filename for s in again.parsed.skipped] == ["notes.txt"]

        listed = list_sessions.sync(client=client, limit=100)
        assert isinstance(listed, SessionList)
        assert submission.session_id in [s.session_id for s in listed.sessions]

        missing = get_session.sync(session_id=uuid.uuid4(), client=client)
        assert isinstance(missing, Error) and missing.error.code == "not_found"

    # With redirects followed (httpx drops the API key on the way to the bucket's origin), the same
    # generated call returns the PDF the signed URL serves.
    with AuthenticatedClient(base_url=stack.layout.api_url, token=api_key, follow_redirects=True) as client:
        pdf = download_session_pdf.sync_detailed(session_id=submission.session_id, client=client)
        assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
        assert isinstance(pdf.parsed, File) and pdf.parsed.payload.read(5) == b"%PDF-"


@pytest.fixture(scope="module")
def ts_client() -> Path:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed (make test installs Debian's nodejs and npm when node is missing)")
    if not (TS_CLIENT / "node_modules" / ".bin" / "openapi-typescript").exists():
        pytest.fail(f"the npm packages are not installed: run `make test`, or `npm ci` in {TS_CLIENT}")
    return TS_CLIENT


def test_a_generated_typescript_client_drives_the_whole_flow(ts_client, stack, api_key, tmp_path):
    for name in ("flow.mts", "tsconfig.json"):
        shutil.copy(ts_client / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(ts_client / "node_modules", target_is_directory=True)
    bin_ = tmp_path / "node_modules" / ".bin"
    _run([str(bin_ / "openapi-typescript"), f"{stack.layout.api_url}/openapi.json", "-o", "schema.d.ts"], tmp_path)
    _run([str(bin_ / "tsc"), "-p", "."], tmp_path)  # the flow type-checks against the generated types

    done = _run(["node", "out/flow.mjs", stack.layout.api_url, api_key], tmp_path, timeout=180)
    outcome = json.loads(done.stdout.strip().splitlines()[-1])

    assert outcome["upload_status"] == 202
    assert outcome["location"].endswith(f"/api/v1/sessions/{outcome['session_id']}")
    assert outcome["status"] == "complete"
    assert outcome["questions"] == ["1", "2"] and outcome["answered"]
    assert outcome["redirect_status"] == 302 and "X-Amz-Signature=" in outcome["redirect_location"]
    assert outcome["pdf_status"] == 200 and outcome["pdf_content_type"] == "application/pdf"
    assert outcome["pdf_head"] == "%PDF-"
    assert outcome["knowledge_status"] == 202 and outcome["knowledge_name"] == "Physics notes"
    assert outcome["listed"]

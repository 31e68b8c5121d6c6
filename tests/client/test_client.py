"""qagen.client against the real stack: upload, wait, result, download, errors, knowledge bases."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid

import httpx
import pytest

from qagen.client import (
    AuthenticationError,
    NotFoundError,
    NotReadyError,
    QagenAPIError,
    QagenClient,
    QagenConnectionError,
    ServiceUnavailableError,
)
from devtools.stack import free_port
from qagen.model import Paper
from tests.client.conftest import RecordingTransport
from tests.conftest import EXAMPLE_PAPER

def test_an_uploaded_paper_is_waited_for_and_downloaded(answered, qagen, tmp_path):
    assert answered.submission.session_id and answered.submission.idempotency_key
    assert answered.final.done and answered.final.complete, answered.final
    assert answered.final.question_count == 11
    assert answered.final.finished_at and answered.final.created_at <= answered.final.finished_at

    saved = qagen.download(answered.submission.session_id, tmp_path / "answers.pdf")

    assert saved == tmp_path / "answers.pdf"
    assert saved.read_bytes().startswith(b"%PDF-")
    assert not list(tmp_path.glob("*.part"))


def test_a_download_into_a_folder_takes_the_served_file_name(answered, qagen, tmp_path):
    saved = qagen.download(answered.submission.session_id, tmp_path)

    assert saved == tmp_path / "sample-paper-answers.pdf"
    assert saved.read_bytes().startswith(b"%PDF-")


def test_progress_reports_only_increase_and_end_at_100(answered):
    progress = [status.progress for status in answered.seen]

    assert len(progress) >= 2
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert answered.seen[-1].status == "complete"


def test_wait_follows_the_event_stream(answered):
    streams = [response for request, response in answered.transport.exchanges if request.url.path.endswith("/events")]

    assert streams and streams[0].status_code == 200
    assert streams[0].headers["content-type"].startswith("text/event-stream")


def test_the_result_is_the_answered_paper(answered, qagen):
    paper = qagen.result(answered.submission.session_id)

    assert isinstance(paper, Paper)
    assert [q.number for q in paper.questions] == [str(n) for n in range(1, 12)]
    assert all(q.answer and q.answer.text for q in paper.questions)
    assert (paper.warnings, paper.confidence, paper.papers) == ([], "high", [])


def test_the_status_carries_the_parses_warnings_and_confidence(answered, qagen):
    status = qagen.status(answered.submission.session_id)

    assert (answered.final.warnings, answered.final.confidence) == ((), "high")
    assert (status.warnings, status.confidence) == ((), "high")
    assert all(s.confidence is None for s in answered.seen if s.stage == "queued")


def test_the_download_never_sends_the_api_key_to_the_storage_host(answered, stack, client_key, tmp_path):
    transport = RecordingTransport()
    with QagenClient(stack.layout.api_url, client_key, transport=transport) as client:
        client.download(answered.submission.session_id, tmp_path / "a.pdf")

    api_host = httpx.URL(stack.layout.api_url).netloc
    to_api = [r for r, _ in transport.exchanges if r.url.netloc == api_host]
    elsewhere = [r for r, _ in transport.exchanges if r.url.netloc != api_host]
    assert to_api and all(r.headers["Authorization"] == f"Bearer {client_key}" for r in to_api)
    assert len(elsewhere) == 1 and "X-Amz-Signature=" in str(elsewhere[0].url)
    assert "Authorization" not in elsewhere[0].headers
    assert client_key not in str(elsewhere[0].url) and client_key not in str(elsewhere[0].headers)


def test_a_wrong_key_is_an_authentication_error_with_the_servers_message(stack):
    with QagenClient(stack.layout.api_url, "qk_not-a-real-key") as client, pytest.raises(AuthenticationError) as caught:
        client.status(str(uuid.uuid4()))

    assert caught.value.status == 401
    assert caught.value.code == "unauthorized"
    assert str(caught.value) == "That API key is not valid."


def test_an_unknown_session_is_not_found(qagen):
    session_id = str(uuid.uuid4())
    for call in (qagen.status, lambda s: qagen.download(s, "never.pdf")):
        with pytest.raises(NotFoundError) as caught:
            call(session_id)
        assert caught.value.status == 404 and caught.value.code == "not_found"
        assert session_id in caught.value.message


def test_binary_content_is_refused_as_unsupported(qagen):
    with pytest.raises(QagenAPIError) as caught:
        qagen.upload(bytes(range(256)) * 8, "paper.pdf")

    assert caught.value.status == 415
    assert caught.value.code == "unsupported_media_type"
    assert "not a PDF" in caught.value.message


def test_a_failed_job_is_returned_by_wait_and_its_download_says_why(qagen, tmp_path):
    job = qagen.upload(b"Lecture notes with no numbered questions at all.", "notes.txt")

    final = qagen.wait(job.session_id, timeout=60)

    assert final.failed and "no numbered questions" in final.error
    with pytest.raises(NotReadyError) as caught:
        qagen.download(job.session_id, tmp_path / "x.pdf")
    assert caught.value.status == 409 and "no numbered questions" in caught.value.message
    assert not (tmp_path / "x.pdf").exists()


def test_the_same_idempotency_key_never_makes_two_jobs(qagen):
    key = str(uuid.uuid4())
    paper = b"Quiz\n1. Define velocity. [1]\n"

    first = qagen.upload(paper, "quiz.txt", idempotency_key=key)
    second = qagen.upload(paper, "quiz.txt", idempotency_key=key)

    assert second.session_id == first.session_id


def test_sessions_lists_and_follows_cursors(answered, qagen):
    listed = list(qagen.sessions(limit=1))

    assert answered.submission.session_id in {s.session_id for s in listed}
    assert len(listed) >= 2  # more than one page was followed
    complete = list(qagen.sessions(status="complete"))
    assert complete and all(s.status == "complete" for s in complete)


def test_capacity(qagen):
    capacity = qagen.capacity()

    assert capacity.queued >= 0 and capacity.running >= 0
    assert capacity.workers is None or capacity.workers >= 0  # known only on Kubernetes


def test_usage_counts_the_tenants_papers_by_day(qagen):
    from datetime import datetime, timezone

    qagen.upload(EXAMPLE_PAPER)
    today = datetime.now(timezone.utc).date()

    usage = qagen.usage(today, today)

    assert usage["from"] == usage["to"] == today.isoformat()
    assert [day["date"] for day in usage["days"]] == [today.isoformat()]
    assert usage["total"]["papers"] >= 1
    assert set(usage["quotas"]) >= {"monthly_papers", "monthly_cost_usd", "this_month", "resets_at"}
    with pytest.raises(QagenAPIError) as refused:
        qagen.usage("2026-12-05", "2026-01-01")
    assert refused.value.status == 400


def test_knowledge_bases_are_created_read_and_deleted(qagen, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Kinematics\n\nVelocity is the rate of change of displacement with time.\n")

    created = qagen.create_knowledge_base([notes], name="Physics notes")

    assert created.name == "Physics notes"
    assert [d.filename for d in created.documents] == ["notes.md"]
    assert qagen.knowledge_base(created.knowledge_base_id).knowledge_base_id == created.knowledge_base_id
    qagen.delete_knowledge_base(created.knowledge_base_id)
    with pytest.raises(NotFoundError):
        qagen.knowledge_base(created.knowledge_base_id)


def test_an_unknown_knowledge_base_is_refused_at_upload(qagen):
    with pytest.raises(NotFoundError, match="knowledge base"):
        qagen.upload(EXAMPLE_PAPER, knowledge_base="kb-that-does-not-exist")


# Retries: a real local HTTP server that refuses first, so the waits and the resent key can be seen.


class _FlakyHandler(http.server.BaseHTTPRequestHandler):
    refusals = 1
    retry_after = "1"
    refusal = (503, "unavailable")
    seen: list[tuple[float, str | None]] = []

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append((time.monotonic(), self.headers.get("Idempotency-Key")))
        if len(self.seen) <= self.refusals:
            status, code = self.refusal
            body = {"error": {"code": code, "message": "Busy; retry shortly."}}
        else:
            body, status = {"session_id": "s-1", "status_url": "u", "download_url": "d"}, 202
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status != 202:
            self.send_header("Retry-After", self.retry_after)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_server():
    _FlakyHandler.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", _FlakyHandler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("refusal", [(503, "unavailable"), (429, "rate_limited"), (409, "request_in_progress")])
def test_a_refused_upload_is_retried_after_retry_after_with_the_same_idempotency_key(flaky_server, refusal):
    url, handler = flaky_server
    handler.refusals, handler.retry_after, handler.refusal = 1, "1", refusal

    with QagenClient(url, "qk_x") as client:
        job = client.upload(b"1. Q?", "q.txt")

    (first, key1), (second, key2) = handler.seen
    assert job.session_id == "s-1"
    assert key1 == key2 == job.idempotency_key
    assert second - first >= 0.9


def test_retries_are_bounded_and_a_long_retry_after_is_raised_at_once(flaky_server):
    url, handler = flaky_server
    handler.refusals, handler.retry_after, handler.refusal = 99, "0", (503, "unavailable")
    with QagenClient(url, "qk_x", max_retries=2) as client, pytest.raises(ServiceUnavailableError):
        client.upload(b"1. Q?", "q.txt")
    assert len(handler.seen) == 3

    handler.seen.clear()
    handler.retry_after = "3600"
    with QagenClient(url, "qk_x", max_retries=3) as client, pytest.raises(ServiceUnavailableError) as caught:
        client.upload(b"1. Q?", "q.txt")

    assert len(handler.seen) == 1
    assert caught.value.retry_after == 3600 and caught.value.message == "Busy; retry shortly."


def test_an_unreachable_api_is_a_connection_error_after_bounded_retries():
    started = time.monotonic()
    with QagenClient(f"http://127.0.0.1:{free_port()}", "qk_x", max_retries=2) as client:
        with pytest.raises(QagenConnectionError, match="Could not reach the qagen API"):
            client.status("x")

    assert 1.4 <= time.monotonic() - started < 10  # backoff 0.5 s + 1 s


def test_the_event_stream_parser_follows_the_sse_rules():
    from qagen.client import _sse_events

    stream = ["retry: 2000", "", ": keep-alive", "", "event: progress", "id: 1", 'data: {"a":', "data: 1}", "",
              "data:no-space", "", "event: done", "data: {}", ""]

    assert list(_sse_events(stream)) == [("progress", '{"a":\n1}'), ("message", "no-space"), ("done", "{}")]

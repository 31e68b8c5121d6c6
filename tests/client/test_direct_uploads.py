"""`QagenClient.upload(..., direct=True)` and `qagen submit --direct` against the real stack: the
file goes to the bucket (SeaweedFS) and never through the API."""

from __future__ import annotations

import shutil
import uuid

import httpx
import pytest

from qagen.client import QagenAPIError, QagenClient
from tests.client.conftest import RecordingTransport
from tests.conftest import EXAMPLE_PAPER


def test_a_direct_upload_is_answered_and_the_file_never_reaches_the_api(stack, client_key, settings):
    transport = RecordingTransport()
    with QagenClient(stack.layout.api_url, client_key, transport=transport) as qagen:
        job = qagen.upload(EXAMPLE_PAPER, direct=True, review=False)
        final = qagen.wait(job.session_id, timeout=120)

    assert final.status == "complete" and final.question_count == 11
    sent = [(r.method, r.url, r) for r, _ in transport.exchanges]
    api = [r for method, url, r in sent if str(url).startswith(stack.layout.api_url)]
    bucket = [r for method, url, r in sent if str(url).startswith(settings.signing_endpoint)]
    assert [str(r.url.path) for r in api[:2]] == ["/api/v1/uploads/direct",
                                                 f"/api/v1/uploads/direct/{job.session_id}/session"]
    assert all(int(r.headers.get("Content-Length", 0)) < 1000 for r in api)  # no file through the API
    assert len(bucket) == 1 and int(bucket[0].headers["Content-Length"]) > EXAMPLE_PAPER.stat().st_size
    assert "Authorization" not in bucket[0].headers  # the key stays with the API
    assert api[0].headers["Idempotency-Key"] == f"{job.idempotency_key}:form"


def test_retrying_with_the_same_key_makes_no_second_session(qagen):
    first = qagen.upload(b"Quiz\n1. Define velocity. [1]\n", "quiz.txt", direct=True,
                         idempotency_key=f"direct-retry-{uuid.uuid4()}")
    again = qagen.upload(b"Quiz\n1. Define velocity. [1]\n", "quiz.txt", direct=True,
                         idempotency_key=first.idempotency_key)
    assert again.session_id == first.session_id


def test_a_non_paper_is_refused_with_the_apis_415(qagen):
    with pytest.raises(QagenAPIError) as refused:
        qagen.upload(b"\x7fELF\x02\x01\x01" + bytes(100), "tool", direct=True)
    assert refused.value.status == 415 and refused.value.code == "unsupported_media_type"


def test_the_buckets_refusal_is_raised_with_its_code(qagen, monkeypatch):
    real = httpx.Client.post

    def stale_form(self, url, *args, data=None, **kwargs):  # a form that names another key than it signs
        if isinstance(data, dict) and "policy" in data:
            data = {**data, "key": data["key"] + "-elsewhere"}
        return real(self, url, *args, data=data, **kwargs)

    monkeypatch.setattr(httpx.Client, "post", stale_form)
    with pytest.raises(QagenAPIError) as refused:
        qagen.upload(b"%PDF-1.4 tiny", "p.pdf", direct=True)
    assert refused.value.status == 403 and refused.value.code == "AccessDenied"
    assert "storage host refused" in refused.value.message


def test_submit_direct(run, tmp_path):
    paper = tmp_path / "paper.pdf"
    shutil.copy(EXAMPLE_PAPER, paper)

    result = run("submit", str(paper), "--direct", "--wait")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "paper-answers.pdf").read_bytes().startswith(b"%PDF-")
    assert f"Wrote {tmp_path / 'paper-answers.pdf'} (11 questions)." in result.stdout

"""The page sends a large paper (5 MB and more) straight to the bucket (docs/direct-uploads.md), in
Debian's Chromium against the real stack, under the page's Content-Security-Policy (the page
fixture fails the test on any violation)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import EXAMPLE_PAPER
from tests.web.test_page import JOB_TIMEOUT_MS, save_key

expect = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed").expect


def large_paper(tmp_path):
    """The sample paper with 5.3 MB of PDF comment lines after its end: the same one-page paper."""
    path = tmp_path / "large-paper.pdf"
    path.write_bytes(EXAMPLE_PAPER.read_bytes() + (b"%" + b"x" * 98 + b"\n") * 53000)
    return path


def test_the_page_allows_exactly_the_buckets_origin(web_url, settings):
    policy = httpx.get(web_url).headers["Content-Security-Policy"]
    assert f"connect-src 'self' {settings.signing_endpoint.rstrip('/')};" in policy + ";"


def test_a_large_paper_goes_straight_to_the_bucket_and_is_answered(page, web_url, web_key, settings, tmp_path):
    paper = large_paper(tmp_path)
    page.goto(web_url)
    save_key(page, web_key)
    page.get_by_label("Choose a paper").set_input_files(str(paper))
    requests = []
    page.on("requestfinished", lambda r: requests.append((r.method, r.url, r.response().status)))
    page.get_by_role("button", name="Answer this paper").click()

    expect(page.locator("progress#progress")).to_have_attribute("value", "100", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_role("status").filter(has_text="Status:")).to_contain_text("Status: complete")
    posts = [(url, status) for method, url, status in requests if method == "POST"]
    bucket = [(url, status) for url, status in posts if url.startswith(settings.signing_endpoint)]
    assert bucket and bucket[0][1] == 204, posts
    assert any(url.endswith("/session") and "/api/v1/uploads/direct/" in url and status == 202
               for url, status in posts), posts
    assert not [url for url, _ in posts if url.endswith("/api/v1/upload")], posts
    session_id = page.locator("#download").get_attribute("data-session")
    status = httpx.get(f"{web_url}api/v1/sessions/{session_id}", headers={"Authorization": f"Bearer {web_key}"}).json()
    assert status["filename"] == "large-paper.pdf" and status["question_count"] == 11


def test_a_large_non_paper_sent_directly_is_refused_in_words(page, web_url, web_key, settings, tmp_path, storage):
    tool = tmp_path / "tool.pdf"  # named like a paper; judged by content
    tool.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(6 * 1024 * 1024))
    page.goto(web_url)
    save_key(page, web_key)
    page.get_by_label("Choose a paper").set_input_files(str(tool))
    requests = []
    page.on("requestfinished", lambda r: requests.append((r.method, r.url, r.response().status)))
    page.get_by_role("button", name="Answer this paper").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The paper was not uploaded.")
    expect(alert).to_contain_text("is not a PDF, a .docx")
    assert any(url.startswith(settings.signing_endpoint) and status == 204 for _, url, status in requests), requests
    session = next(url for _, url, status in requests if url.endswith("/session"))
    upload_id = session.rsplit("/", 2)[-2]
    assert storage.list_keys(f"sessions/web/{upload_id}/") == []  # refused, and removed from the bucket

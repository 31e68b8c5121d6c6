"""The teachers' page at `/`, in Debian's Chromium, against the real stack (issue 9).

A teacher enters a key, uploads a paper, watches the progress reach 100%, reads the
answers on the page and downloads the PDF; errors appear in words; the page works with
the keyboard and at phone widths.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pdfplumber
import pytest

from tests.conftest import EXAMPLE_PAPER
from tests.web.conftest import DESKTOP, corpus_paper, save_docs_screenshot

expect = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed").expect

NOTES = Path(__file__).resolve().parent / "science-notes.md"
JOB_TIMEOUT_MS = 120_000

# Every visible text's colour against its background, as WCAG computes it; returns the failures.
CONTRAST_CHECK = """
() => {
  const parse = (c) => { const m = /rgba?\\(([^)]+)\\)/.exec(c); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = ({r, g, b}) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => { for (let n = el; n; n = n.parentElement) {
    const c = parse(getComputedStyle(n).backgroundColor); if (c && c.a > 0.99) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const failures = []; const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode; const el = text.parentElement;
    if (!text.textContent.trim() || seen.has(el)) continue; seen.add(el);
    if (!el.getClientRects().length || el.closest('.visually-hidden, [hidden], :disabled, .skip-link, noscript')) continue;
    const fg = parse(getComputedStyle(el).color); const bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a); const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < 4.5) failures.push(`${el.tagName}.${el.className} "${text.textContent.trim().slice(0, 40)}": ${ratio.toFixed(2)}`);
  }
  return failures;
}
"""

# Controls without a label (a <label>, aria-label or aria-labelledby) or buttons without a name.
UNLABELLED = """
() => Array.from(document.querySelectorAll('input, select, textarea, button')).filter((c) => {
  if (c.type === 'hidden') return false;
  if (c.tagName === 'BUTTON') return !c.textContent.trim() && !c.getAttribute('aria-label');
  return !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby');
}).map((c) => c.id || c.outerHTML.slice(0, 60))
"""


def save_key(page, key: str) -> None:
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Save key").click()
    expect(page.get_by_role("button", name="Forget key")).to_be_visible()


def assert_no_horizontal_scroll(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width} px wide at a {width} px viewport"


def record_progress(page) -> None:
    """Keep every progress text the page shows, to prove it moved through the stages live."""
    page.evaluate("""() => {
      window.__progressSeen = [];
      const text = document.getElementById('progress-text');
      new MutationObserver(() => window.__progressSeen.push(text.textContent))
        .observe(text, {childList: true, characterData: true, subtree: true});
    }""")


# ------------------------------------------------------------------- the whole journey


def test_a_teacher_uploads_a_paper_watches_it_answered_previews_and_downloads_it(page, web_url, web_key, artifacts):
    paper = corpus_paper()
    page.goto(web_url)
    expect(page).to_have_title(re.compile("qagen"))
    assert page.evaluate(UNLABELLED) == []
    save_key(page, web_key)
    # The key is kept in the browser: a reload still has it.
    page.reload()
    expect(page.get_by_role("button", name="Forget key")).to_be_visible()

    page.get_by_label("Choose a paper").set_input_files(str(paper))
    expect(page.locator("#paper-chosen")).to_contain_text(paper.name)
    record_progress(page)
    responses = []
    page.on("response", lambda r: responses.append((r.url, r.status, r.headers.get("content-type", ""))))
    page.get_by_role("button", name="Answer this paper").click()

    progress = page.locator("progress#progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("value", "100", timeout=JOB_TIMEOUT_MS)
    status = page.get_by_role("status").filter(has_text="Status:")
    expect(status).to_contain_text("Status: complete")
    expect(page.locator("#progress-text")).to_contain_text("100%")
    seen = page.evaluate("window.__progressSeen")
    assert any(re.match(r"([1-9]|[1-9]\d)% ", text) for text in seen), f"no progress under 100% was shown: {seen}"
    # Fed by the SSE endpoint, opened with a short-lived token for this session: never the key.
    assert any("/events?access_token=qst_" in url and status == 200 and kind.startswith("text/event-stream")
               for url, status, kind in responses), responses

    # The preview lists every question of the paper.
    session_id = page.locator("#download").get_attribute("data-session")
    result = httpx.get(f"{web_url}api/v1/sessions/{session_id}/result.json",
                       headers={"Authorization": f"Bearer {web_key}"}).json()
    numbers = [q["number"] for q in result["questions"]]
    assert numbers
    preview = page.locator("#preview")
    expect(preview.locator("article.question")).to_have_count(len(numbers))
    headings = preview.locator(".question-title").all_inner_texts()
    for number in numbers:
        title = f"Question {number}" if number.isdigit() else number
        assert any(h.startswith(title) for h in headings), (number, headings)
    expect(preview.locator(".answer").first).to_be_visible()

    # The recent papers list has it, complete.
    recent = page.locator("#sessions li", has_text=paper.name).first
    expect(recent).to_contain_text("Complete")

    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(CONTRAST_CHECK) == []
    page.screenshot(path=str(artifacts / "desktop-complete.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("button", name="Download the answers (PDF)").click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == f"{paper.stem}-answers.pdf"
    target = artifacts / download.suggested_filename
    download.save_as(str(target))
    data = target.read_bytes()
    assert data.startswith(b"%PDF-")
    with pdfplumber.open(io.BytesIO(data)) as document:
        text = "\n".join(p.extract_text() or "" for p in document.pages)
    assert "Question 1" in text
    assert all(re.search(r"/(events|api/v1/download/[^/?]+)\?access_token=qst_", url)
               for url, _, _ in responses if "access_token" in url)
    assert any("/api/v1/download/" in url and status == 302 for url, status, _ in responses), responses
    assert not any(web_key in url for url, _, _ in responses)  # the key never travels in a URL

    # Phone widths: nothing wider than the screen.
    assert_no_horizontal_scroll(page, 360)
    assert_no_horizontal_scroll(page, 390)
    page.screenshot(path=str(artifacts / "phone-390-complete.png"), full_page=True)


def test_notes_dropped_with_a_paper_ground_the_answers_and_are_cited(page, web_url, web_key, artifacts):
    page.goto(web_url)
    save_key(page, web_key)

    # Drag and drop the paper onto the box.
    transfer = page.evaluate_handle(
        """([name, bytes]) => { const t = new DataTransfer();
             t.items.add(new File([new Uint8Array(bytes)], name, {type: 'application/pdf'})); return t; }""",
        [EXAMPLE_PAPER.name, list(EXAMPLE_PAPER.read_bytes())])
    page.locator("#dropzone").dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.locator("#paper-chosen")).to_contain_text(EXAMPLE_PAPER.name)
    page.get_by_label("Course notes").set_input_files(str(NOTES))
    page.get_by_role("button", name="Answer this paper").click()

    expect(page.locator("progress#progress")).to_have_attribute("value", "100", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_role("status").filter(has_text="Status:")).to_contain_text("Status: complete")
    first = page.locator("#preview article.question").first
    expect(first.locator(".citations")).to_contain_text(NOTES.name)
    # Worked maths (Question 3: solve 2x + 3 = 11) arrives as light Markdown with $...$ maths:
    # shown as a list, bold and readable maths, never as raw asterisks or dollars.
    third = page.locator("#preview article.question").nth(2)
    expect(third.locator(".answer-text li").first).to_be_visible()
    expect(third.locator(".answer-text strong").first).to_be_visible()
    expect(third.locator(".answer-text .math").first).to_be_visible()
    assert "**" not in third.inner_text() and "$" not in third.inner_text()

    assert page.evaluate(CONTRAST_CHECK) == []
    page.screenshot(path=str(artifacts / "desktop-answers-full.png"), full_page=True)
    # The README's picture: the whole flow, from the key to the first answers, with the recent papers beside it.
    page.set_viewport_size({"width": DESKTOP["width"], "height": 1700})
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#download").blur()
    page.mouse.move(0, 0)
    shot = artifacts / "desktop-answers.png"
    page.screenshot(path=str(shot))
    save_docs_screenshot(shot)
    assert_no_horizontal_scroll(page, 360)


def test_progress_falls_back_to_polling_when_the_event_stream_fails(page, web_url, web_key):
    page.route(re.compile(r".*/events\?.*"), lambda route: route.abort())
    polls = []
    page.on("request", lambda r: polls.append(r.url) if re.search(r"/api/v1/sessions/[^/?]+$", r.url) else None)
    page.goto(web_url)
    save_key(page, web_key)
    page.get_by_label("Choose a paper").set_input_files(
        files=[{"name": "quiz.txt", "mimeType": "text/plain", "buffer": b"Quiz\n1. Solve for x: 3x = 12. [1]\n"}])
    page.get_by_role("button", name="Answer this paper").click()

    expect(page.locator("progress#progress")).to_have_attribute("value", "100", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_role("status").filter(has_text="Status:")).to_contain_text("Status: complete")
    expect(page.locator("#preview .question-title")).to_have_text([re.compile(r"^Question 1\b")])
    assert polls, "the page never polled the session"
    expect(page.get_by_role("alert")).to_be_empty()


def test_hostile_text_from_the_api_is_shown_as_text_never_run(page, web_url):
    """Whatever a paper contains (it is user input) is shown as text: no element, no script."""
    hostile = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    session = {"session_id": "s-1", "status": "complete", "stage": "complete", "progress": 100,
               "message": "Answered PDF ready.", "error": None, "filename": hostile + ".pdf", "question_count": 1,
               "knowledge_base_id": None, "created_at": "2026-01-01T10:00:00.000Z", "started_at": None,
               "finished_at": None, "updated_at": "2026-01-01T10:00:00.000Z"}
    answer = {"text": f"**{hostile}** and $\\frac{{<b>x</b>}}{{2}} + x^{{2}}$\n1. step {hostile}\n- item `{hostile}`",
              "citations": [{"document": hostile, "page": 3, "excerpt": '<a href="javascript:alert(1)">x</a>'}],
              "chart": None, "notes": [hostile]}
    paper = {"title": hostile, "instructions": hostile, "total_marks": 5, "sections": [],
             "questions": [{"number": hostile, "text": hostile, "marks": 5, "section": None,
                            "options": [{"label": "A", "text": hostile}], "alternatives": [], "answer": answer,
                            "parts": [{"label": hostile, "text": hostile, "marks": None, "parts": [], "options": [],
                                       "answer": answer}]}]}
    page.route(re.compile(r".*/api/v1/sessions\?.*"),
               lambda route: route.fulfill(json={"sessions": [session], "next_cursor": None}))
    page.route(re.compile(r".*/result\.json$"), lambda route: route.fulfill(json=paper))
    page.goto(web_url)
    save_key(page, "qk_test")
    page.get_by_role("button", name=re.compile("Show answers")).click()

    preview = page.locator("#preview")
    expect(preview.locator("article.question")).to_have_count(1)
    expect(preview).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(preview.locator(".math").first).to_contain_text("/2")
    for scope in ("#preview", "#sessions"):
        assert page.locator(f"{scope} img, {scope} script, {scope} a, {scope} b").count() == 0
    assert page.evaluate("window.__xss") is None


def test_the_preview_shows_what_the_parse_found_papers_and_the_papers_answer_key(page, web_url):
    session = {"session_id": "s-2", "status": "complete", "stage": "complete", "progress": 100,
               "message": "Answered PDF ready.", "error": None, "filename": "tests.txt", "question_count": 3,
               "knowledge_base_id": None, "warnings": ["The numbering jumps from 2 to 4."], "confidence": "low",
               "created_at": "2026-01-01T10:00:00.000Z", "started_at": None, "finished_at": None,
               "updated_at": "2026-01-01T10:00:00.000Z"}
    answer = {"text": "Generated.", "citations": [{"document": "the paper's answer key", "page": None,
                                                   "excerpt": "A token is a unit."}], "chart": None, "notes": []}

    def question(number, text, key=None):
        return {"number": number, "text": text, "marks": 5, "section": None, "parts": [], "options": [],
                "alternatives": [], "answer": answer, "translations": [], "given_answer": key}

    paper = {"title": "Internal Tests", "instructions": "", "total_marks": 15, "sections": [],
             "questions": [question("1", "Define a token.", "A token is a unit.\nSuch as a keyword."),
                           question("2", "Define a lexeme."), question("1", "What is virtualisation?")],
             "papers": [{"title": "Compiler Design", "first": 0, "count": 2, "total_marks": 10},
                        {"title": "Cloud Computing", "first": 2, "count": 1, "total_marks": 5}],
             "warnings": ["The numbering jumps from 2 to 4: check whether question 3 is on the paper.",
                          "The file holds 2 papers; their questions are listed one paper after another."],
             "confidence": "low"}
    page.route(re.compile(r".*/api/v1/sessions\?.*"),
               lambda route: route.fulfill(json={"sessions": [session], "next_cursor": None}))
    page.route(re.compile(r".*/result\.json$"), lambda route: route.fulfill(json=paper))
    page.goto(web_url)
    save_key(page, "qk_test")
    page.get_by_role("button", name=re.compile("Show answers")).click()

    preview = page.locator("#preview")
    expect(preview.locator(".paper-facts").first).to_contain_text("parse confidence: low")
    expect(preview.locator(".check li")).to_have_text(paper["warnings"])
    expect(preview.locator("h3.paper-name")).to_have_text(["Paper 1: Compiler Design", "Paper 2: Cloud Computing"])
    expect(preview.locator("article.question").first.locator(".answer-key")).to_have_text(
        "The paper's answer key" + "A token is a unit.Such as a keyword.")
    expect(preview.locator(".answer-key")).to_have_count(1)
    expect(preview.locator(".citations cite").first).to_have_text("the paper's answer key")
    assert page.evaluate(CONTRAST_CHECK) == []


# ------------------------------------------------------------------- errors in words


def test_api_errors_appear_in_words_in_the_alert_region(page, web_url, web_key, anonymous, client, artifacts):
    wrong = "qk_not-a-real-key"
    refusal = anonymous.get("/api/v1/sessions", params={"limit": 1}, headers={"Authorization": f"Bearer {wrong}"})
    assert refusal.status_code == 401
    junk = b"\x00\x01\x02\x03 not a paper \xff\xfe" * 64
    unsupported = client.post("/api/v1/upload", files={"file": ("paper.bin", junk)})
    assert unsupported.status_code == 415

    # A wrong key: the API's own message, and the key is not kept.
    page.goto(web_url)
    page.get_by_label("API key", exact=True).fill(wrong)
    page.get_by_role("button", name="Save key").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("This key was not accepted.")
    expect(alert).to_contain_text(refusal.json()["error"]["message"])
    expect(page.get_by_label("API key", exact=True)).to_be_focused()
    assert page.evaluate("localStorage.getItem('qagen.apiKey')") is None
    page.screenshot(path=str(artifacts / "desktop-wrong-key.png"))

    # A file that is not a paper: the API's 415 message.
    save_key(page, web_key)
    expect(page.locator("#alert")).to_be_empty()
    page.get_by_label("Choose a paper").set_input_files(
        files=[{"name": "paper.bin", "mimeType": "application/octet-stream", "buffer": junk}])
    page.get_by_role("button", name="Answer this paper").click()
    expect(alert).to_contain_text("The paper was not uploaded.")
    expect(alert).to_contain_text(unsupported.json()["error"]["message"])
    page.screenshot(path=str(artifacts / "desktop-unsupported-file.png"))

    page.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#alert")).to_be_empty()
    page.get_by_role("button", name="Forget key").click()
    expect(page.get_by_label("API key", exact=True)).to_be_focused()
    assert page.evaluate("localStorage.getItem('qagen.apiKey')") is None


def test_uploading_without_a_key_or_a_paper_says_what_to_do(page, web_url):
    page.goto(web_url)
    page.get_by_role("button", name="Answer this paper").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter your API key first.")
    expect(page.get_by_label("API key", exact=True)).to_be_focused()


# ------------------------------------------------------------------- keyboard and phones


def test_the_paper_picker_works_from_the_keyboard(page, web_url, web_key):
    # Listen before any key is pressed, so Playwright intercepts the very first chooser.
    page.on("filechooser", lambda chooser: None)
    page.goto(web_url)
    save_key(page, web_key)
    page.locator("body").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "paper":
            break
    else:
        pytest.fail("the paper's file input is not reachable with Tab")
    # The drop zone shows where the focus is.
    outline = page.locator("#dropzone").evaluate("(z) => getComputedStyle(z).outlineStyle")
    assert outline != "none"

    for key in ("Enter", " "):
        with page.expect_file_chooser() as chooser:
            page.keyboard.press(key)
        chooser.value.set_files(str(EXAMPLE_PAPER))
        expect(page.locator("#paper-chosen")).to_contain_text(EXAMPLE_PAPER.name)


def test_no_horizontal_scrolling_at_360_pixels(page, web_url, artifacts):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(web_url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.evaluate(CONTRAST_CHECK) == []
    page.screenshot(path=str(artifacts / "phone-360-start.png"), full_page=True)

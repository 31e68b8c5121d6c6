"""The review step on the teachers' page (issue 18), in Debian's Chromium, against the real stack.

With "Let me check the questions first" ticked, the parsed questions appear as an editable
list once parsing ends; a teacher merges, splits, edits, deletes and reorders them, then
"Answer these questions" saves them and the answers follow the edit. Refusals (422) appear
next to the fields; every operation works from the keyboard.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.web.conftest import DESKTOP
from tests.web.test_page import CONTRAST_CHECK, JOB_TIMEOUT_MS, UNLABELLED, assert_no_horizontal_scroll, save_key

expect = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed").expect

# Question 3 is the end of question 2 (a line the reader took for a question), question 5 holds two
# questions, and the numbering jumps from 3 to 5 (a warning).
QUIZ = (b"Science Quiz\n"
        b"1. Solve for x: 3x = 12. [1]\n"
        b"2. Name the gas that plants take in [1]\n"
        b"3. during photosynthesis. [1]\n"
        b"5. Define evaporation. Define condensation. [2]\n")
QUIZ_FILE = {"name": "quiz.txt", "mimeType": "text/plain", "buffer": QUIZ}
REVIEW_TIMEOUT_MS = 60_000


def upload_for_review(page, web_url: str, web_key: str) -> str:
    """Upload the quiz with the box ticked; the session id once its questions are shown."""
    page.goto(web_url)
    save_key(page, web_key)
    box = page.get_by_label("Let me check the questions first")
    expect(box).not_to_be_checked()  # off by default
    box.check()
    page.get_by_label("Choose a paper").set_input_files(files=[QUIZ_FILE])
    with page.expect_response(lambda r: r.url.endswith("/api/v1/upload") and r.request.method == "POST") as info:
        page.get_by_role("button", name="Answer this paper").click()
    upload = info.value
    assert upload.status == 202, upload.text()
    expect(page.locator("#review-list > li")).to_have_count(4, timeout=REVIEW_TIMEOUT_MS)
    return upload.json()["session_id"]


def question(page, number: str):
    return page.locator("#review-list > li").filter(has=page.get_by_label(f"Text of question {number}", exact=True))


def put_caret(page, label: str, offset: int) -> None:
    area = page.get_by_label(label, exact=True)
    area.focus()
    area.evaluate("(a, at) => a.setSelectionRange(at, at)", offset)


def api_get(web_url: str, web_key: str, path: str) -> httpx.Response:
    return httpx.get(f"{web_url}api/v1/sessions/{path}", headers={"Authorization": f"Bearer {web_key}"})


# ------------------------------------------------------------------- the whole journey


def test_a_merge_and_a_split_on_the_page_change_what_is_answered(page, web_url, web_key, artifacts):
    session_id = upload_for_review(page, web_url, web_key)
    review = page.locator("#review-card")
    expect(page.get_by_role("status").filter(has_text="Status:")).to_contain_text("Status: awaiting your check")
    expect(review.locator(".check li")).to_contain_text(["The numbering jumps from 3 to 5"])
    expect(page.get_by_label("Text of question 2", exact=True)).to_have_value("Name the gas that plants take in")
    expect(page.get_by_label("Marks of question 5", exact=True)).to_have_value("2")
    assert api_get(web_url, web_key, session_id).json()["status"] == "awaiting_review"
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(CONTRAST_CHECK) == []
    page.screenshot(path=str(artifacts / "desktop-review.png"), full_page=True)
    assert_no_horizontal_scroll(page, 360)
    page.screenshot(path=str(artifacts / "phone-360-review.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    # Merge question 3 into question 2: one question, the focus in its text where they joined.
    question(page, "3").get_by_role("button", name="Merge into previous").click()
    expect(page.locator("#review-list > li")).to_have_count(3)
    merged = page.get_by_label("Text of question 2", exact=True)
    expect(merged).to_have_value("Name the gas that plants take in during photosynthesis.")
    expect(merged).to_be_focused()
    expect(page.get_by_label("Marks of question 2", exact=True)).to_have_value("2")
    expect(review.locator("#review-live")).to_contain_text("Question 3 merged into question 2")

    # Split question 5 where its second question begins: the rest becomes question 6.
    text = "Define evaporation. Define condensation."
    put_caret(page, "Text of question 5", text.index("Define condensation"))
    question(page, "5").get_by_role("button", name="Split at cursor").click()
    expect(page.locator("#review-list > li")).to_have_count(4)
    expect(page.get_by_label("Text of question 5", exact=True)).to_have_value("Define evaporation.")
    expect(page.get_by_label("Text of question 6", exact=True)).to_have_value("Define condensation.")
    expect(page.get_by_label("Text of question 6", exact=True)).to_be_focused()
    expect(review.locator("#review-live")).to_contain_text("now question 6")
    page.get_by_label("Marks of question 5", exact=True).fill("1")
    page.get_by_label("Marks of question 6", exact=True).fill("1")

    responses = []
    page.on("response", lambda r: responses.append((r.request.method, r.url, r.status)))
    page.get_by_role("button", name="Answer these questions").click()
    expect(review).to_be_hidden()
    expect(page.locator("#job-heading")).to_be_focused()
    expect(page.locator("progress#progress")).to_have_attribute("value", "100", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_role("status").filter(has_text="Status:")).to_contain_text("Status: complete")
    assert ("PUT", f"{web_url}api/v1/sessions/{session_id}/paper", 200) in responses, responses
    assert ("POST", f"{web_url}api/v1/sessions/{session_id}/answer", 202) in responses, responses
    expect(page.locator("#download")).to_be_visible()

    # The answers follow the edit: question 2 is one question, question 5 two.
    result = api_get(web_url, web_key, f"{session_id}/result.json").json()
    got = [(q["number"], q["text"], q["marks"]) for q in result["questions"]]
    assert got == [("1", "Solve for x: 3x = 12.", 1), ("2", "Name the gas that plants take in during photosynthesis.", 2),
                   ("5", "Define evaporation.", 1), ("6", "Define condensation.", 1)], got
    assert all(q["answer"] and q["answer"]["text"] for q in result["questions"]), result["questions"]
    expect(page.locator("#preview article.question")).to_have_count(4)
    expect(page.locator("#preview .question-title")).to_have_text(
        [re.compile(f"^Question {n}\\b") for n in ("1", "2", "5", "6")])
    assert_no_horizontal_scroll(page, 360)


# ------------------------------------------------------------------- the keyboard


def tab_to(page, label: str, limit: int = 60) -> None:
    """Press Tab until the control named `label` has the focus."""
    target = page.get_by_label(label, exact=True)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("(t) => t === document.activeElement"):
            return
    pytest.fail(f"{label!r} is not reachable with Tab")


def tab_to_button(page, name: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName === 'BUTTON' && document.activeElement.textContent") == name:
            return
    pytest.fail(f"the button {name!r} is not reachable with Tab")


def test_the_editor_works_from_the_keyboard(page, web_url, web_key, artifacts):
    session_id = upload_for_review(page, web_url, web_key)
    items = page.locator("#review-list > li")
    focused_label = "document.activeElement.labels && document.activeElement.labels[0].textContent"

    # Split question 5 with the keyboard only: Tab to its text, put the caret before the
    # second sentence with the arrow keys, Tab to "Split at cursor", Enter.
    page.locator("#review-heading").focus()
    tab_to(page, "Text of question 5")
    page.keyboard.press("End")
    for _ in range(len("Define condensation.")):
        page.keyboard.press("ArrowLeft")
    tab_to_button(page, "Split at cursor (question 5)")
    page.keyboard.press("Enter")
    expect(items).to_have_count(5)
    expect(page.get_by_label("Text of question 6", exact=True)).to_be_focused()
    expect(page.get_by_label("Text of question 6", exact=True)).to_have_value("Define condensation.")

    # Merge it back: Tab from its text to "Merge into previous", Enter; the caret is where they join.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Merge into previous (question 6 into question 5)"
    page.keyboard.press("Enter")
    expect(items).to_have_count(4)
    back = page.get_by_label("Text of question 5", exact=True)
    expect(back).to_be_focused()
    expect(back).to_have_value("Define evaporation. Define condensation.")
    assert back.evaluate("(a) => a.selectionStart") == len("Define evaporation.")

    # Move question 1 down twice: the focus stays on the button, so Enter moves it again.
    page.locator("#review-heading").focus()
    tab_to_button(page, "Move down (question 1)")
    page.keyboard.press("Enter")
    expect(page.locator("#review-list > li:nth-child(2) .rq-title")).to_have_text("Question 1")
    page.keyboard.press("Enter")
    expect(page.locator("#review-list .rq-title")).to_have_text(["Question 2", "Question 3", "Question 1", "Question 5"])
    assert page.evaluate("document.activeElement.textContent") == "Move down (question 1)"
    expect(page.locator("#review-live")).to_contain_text("Question 1 moved down: now 3 of 4")

    # The first question cannot move up: the button stays in the tab order and says why.
    page.locator("#review-heading").focus()
    tab_to_button(page, "Move up (question 2)")
    assert page.evaluate("document.activeElement.getAttribute('aria-disabled')") == "true"
    page.keyboard.press("Enter")
    expect(page.locator("#review-live")).to_contain_text("Move up is not possible: this is the first question.")

    # Delete question 3 with Space: the focus goes to the question that took its place.
    page.locator("#review-heading").focus()
    tab_to_button(page, "Delete question 3")
    page.keyboard.press(" ")
    expect(items).to_have_count(3)
    assert page.evaluate(focused_label) == "Text of question 1"
    expect(page.locator("#review-live")).to_contain_text("Question 3 deleted. 3 questions left.")

    # Add a question, type it; its number follows the last one.
    page.locator("#review-heading").focus()
    tab_to_button(page, "Add question")
    page.keyboard.press("Enter")
    expect(items).to_have_count(4)
    assert page.evaluate(focused_label) == "Text of question 6"
    page.keyboard.type("What is 2 + 2?")
    page.screenshot(path=str(artifacts / "desktop-review-keyboard.png"), full_page=True)
    assert page.evaluate(UNLABELLED) == []

    # Saved and sent on from the keyboard too; the paper stored is the edited one.
    tab_to_button(page, "Answer these questions")
    with page.expect_response(lambda r: r.url.endswith("/answer")) as info:
        page.keyboard.press("Enter")
    assert info.value.status == 202
    stored = api_get(web_url, web_key, f"{session_id}/paper").json()
    assert [(q["number"], q["text"]) for q in stored["questions"]] == [
        ("2", "Name the gas that plants take in"), ("1", "Solve for x: 3x = 12."),
        ("5", "Define evaporation. Define condensation."), ("6", "What is 2 + 2?")]
    expect(page.locator("progress#progress")).to_have_attribute("value", "100", timeout=JOB_TIMEOUT_MS)


# ------------------------------------------------------------------- refusals in words


def test_refused_edits_are_shown_next_to_the_fields_and_nothing_is_answered(page, web_url, web_key, artifacts):
    # With no event stream, polling finds the session awaiting review and opens the editor too.
    page.route(re.compile(r".*/events\?.*"), lambda route: route.abort())
    session_id = upload_for_review(page, web_url, web_key)
    alert = page.get_by_role("alert")

    # Marks that are not a number: caught on the page, before anything is sent.
    page.get_by_label("Marks of question 1", exact=True).fill("two")
    page.get_by_role("button", name="Answer these questions").click()
    marks = page.get_by_label("Marks of question 1", exact=True)
    expect(marks).to_be_focused()
    expect(marks).to_have_attribute("aria-invalid", "true")
    expect(question(page, "1").locator(".field-error")).to_have_text(
        "Marks must be a number, such as 2 or 1.5, or left empty.")
    expect(alert).to_contain_text("Question 1, marks: not a number.")
    marks.fill("1")
    expect(marks).not_to_have_attribute("aria-invalid", "true")

    # A control character in a text: the API's 422, shown next to the text and in the alert.
    page.get_by_label("Text of question 2", exact=True).fill("Name the gas\x07 that plants take in")
    with page.expect_response(lambda r: r.url.endswith("/paper") and r.request.method == "PUT") as info:
        page.get_by_role("button", name="Answer these questions").click()
    refusal = info.value
    assert refusal.status == 422
    why = refusal.json()["error"]["detail"]["questions.1.text"]
    text = page.get_by_label("Text of question 2", exact=True)
    expect(text).to_be_focused()
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(question(page, "2").locator(".field-error")).to_have_text(why)
    expect(alert).to_contain_text("The questions were not saved")
    expect(alert).to_contain_text(f"Question 2, text: {why}")
    assert page.evaluate(CONTRAST_CHECK) == []
    page.screenshot(path=str(artifacts / "desktop-review-refused.png"), full_page=True)

    # No questions at all: refused too, in words.
    for _ in range(4):
        page.locator("#review-list > li").first.get_by_role("button", name="Delete").click()
    expect(page.locator("#review-list > li")).to_have_count(0)
    expect(page.get_by_role("button", name="Add question")).to_be_focused()
    with page.expect_response(lambda r: r.url.endswith("/paper") and r.request.method == "PUT") as info:
        page.get_by_role("button", name="Answer these questions").click()
    assert info.value.status == 422
    expect(alert).to_contain_text("The questions: must hold at least one question")

    # Nothing was sent on: the session still waits for its check, with the parsed questions.
    session = api_get(web_url, web_key, session_id).json()
    assert session["status"] == "awaiting_review"
    assert len(api_get(web_url, web_key, f"{session_id}/paper").json()["questions"]) == 4
    # Picked from the recent papers list, it opens the editor again with the stored questions.
    page.reload()
    entry = page.locator("#sessions li", has_text="quiz.txt").first
    expect(entry).to_contain_text("Awaiting your check")
    entry.get_by_role("button", name="Check the questions").click()
    expect(page.locator("#review-list > li")).to_have_count(4)
    expect(page.get_by_label("Text of question 2", exact=True)).to_have_value("Name the gas that plants take in")
    # A number typed renames the question's heading, labels and buttons (and the next one's merge button).
    page.get_by_label("Number of question 5", exact=True).fill("4")
    expect(page.locator("#review-list .rq-title")).to_have_text(["Question 1", "Question 2", "Question 3", "Question 4"])
    expect(page.get_by_label("Text of question 4", exact=True)).to_have_value("Define evaporation. Define condensation.")
    expect(page.get_by_role("button", name="Delete question 4")).to_be_visible()
    page.get_by_label("Number of question 2", exact=True).fill("2a")
    expect(page.get_by_role("button", name="Merge into previous (question 3 into question 2a)")).to_be_visible()


# ------------------------------------------------------------------- what the editor keeps


def test_fields_the_editor_does_not_show_are_kept_and_api_text_stays_text(page, web_url):
    """A paper with parts, options, alternatives, translations, an answer key and two papers
    in one file (mocked API): all of it goes back in the PUT, the papers re-counted."""
    hostile = '<img src=x onerror="window.__xss=1">'
    session = {"session_id": "s-9", "status": "awaiting_review", "stage": "review", "progress": 15,
               "message": "Check the questions.", "error": None, "filename": "two.pdf", "question_count": 3,
               "knowledge_base_id": None, "warnings": [hostile], "confidence": "low", "review": True,
               "created_at": "2026-01-01T10:00:00.000Z", "started_at": None, "finished_at": None,
               "updated_at": "2026-01-01T10:00:00.000Z"}

    def q(number, text, **extra):
        base = {"number": number, "text": text, "marks": 2, "section": "A", "parts": [], "options": [],
                "alternatives": [], "answer": None, "translations": [], "given_answer": None}
        return {**base, **extra}

    part = {"label": "a", "text": "State Ohm's law.", "marks": 1, "parts": [], "options": [], "answer": None}
    paper = {"title": hostile, "instructions": "Answer all.", "total_marks": 6,
             "sections": [{"name": "A", "instructions": "", "marks": None}],
             "questions": [q("1", "Define current.", parts=[part], given_answer="Flow of charge."),
                           q("2", hostile, options=[{"label": "A", "text": "4"}, {"label": "B", "text": "5"}],
                             translations=[{"language": "Hindi", "text": "धारा"}]),
                           q("1", "Name a noble gas.", alternatives=[q("1", "Name a metal.")])],
             "papers": [{"title": "P1", "first": 0, "count": 2, "total_marks": 4},
                        {"title": "P2", "first": 2, "count": 1, "total_marks": 2}],
             "warnings": [hostile, "The file holds 2 papers."], "confidence": "low"}
    puts = []

    def on_paper(route):
        if route.request.method == "PUT":
            puts.append(json.loads(route.request.post_data))
            route.fulfill(json=puts[-1])
        else:
            route.fulfill(json=paper)

    page.route(re.compile(r".*/api/v1/sessions\?.*"), lambda route: route.fulfill(json={"sessions": [session], "next_cursor": None}))
    page.route(re.compile(r".*/api/v1/sessions/s-9/paper$"), on_paper)
    page.route(re.compile(r".*/api/v1/sessions/s-9/answer$"), lambda route: route.fulfill(
        status=202, json={"session_id": "s-9", "status": "queued"}))
    page.route(re.compile(r".*/api/v1/sessions/s-9/token$"), lambda route: route.fulfill(status=503, json={}))
    page.route(re.compile(r".*/api/v1/sessions/s-9$"), lambda route: route.fulfill(json={**session, "status": "queued"}))
    page.goto(web_url)
    save_key(page, "qk_test")
    page.get_by_role("button", name=re.compile("Check the questions")).click()

    review = page.locator("#review-card")
    expect(page.locator("#review-list > li")).to_have_count(3)
    expect(review.locator(".check li").first).to_have_text(hostile)
    expect(page.get_by_label("Text of question 2", exact=True)).to_have_value(hostile)
    first = page.locator("#review-list > li").first
    expect(first.locator(".rq-extras")).to_contain_text("(a) State Ohm's law. (1 mark)")
    expect(first.locator(".rq-extras")).to_contain_text("the paper's answer key")
    assert review.locator("img, script").count() == 0
    assert page.evaluate("window.__xss") is None

    # Question 2 merged into question 1: its options and translation join question 1's parts and key.
    page.locator("#review-list > li").nth(1).get_by_role("button", name="Merge into previous").click()
    page.get_by_role("button", name="Answer these questions").click()
    expect(review).to_be_hidden()
    assert len(puts) == 1
    sent = puts[0]
    assert {k: sent[k] for k in ("title", "instructions", "total_marks", "sections", "warnings", "confidence")} == \
        {k: paper[k] for k in ("title", "instructions", "total_marks", "sections", "warnings", "confidence")}
    one, two = sent["questions"]
    assert one == {**paper["questions"][0], "text": f"Define current. {hostile}", "marks": 4,
                   "options": paper["questions"][1]["options"], "translations": paper["questions"][1]["translations"]}
    assert two == paper["questions"][2]  # its alternative kept whole
    assert sent["papers"] == [{"title": "P1", "first": 0, "count": 1, "total_marks": 4},
                              {"title": "P2", "first": 1, "count": 1, "total_marks": 2}]
    expect(page.get_by_role("status").filter(has_text="Status:")).to_contain_text("Status: queued")


# ------------------------------------------------------------------- the editor's model


MODEL_CHECK = """
async () => {
  const m = await import(new URL('assets/review.js', location.href).href);
  const q = (number, text, marks, extra) => Object.assign({number, text, marks, section: null, parts: [], options: [],
    alternatives: [], answer: null, translations: [], given_answer: null}, extra || {});
  const {base, items} = m.fromPaper({title: 'T', questions: [q('1', 'One', 1), q('2', 'Two a', null, {given_answer: 'k'}),
    q('3', 'two b', 2, {given_answer: 'k2'}), q('Q4', 'Four. Five.', 3)], papers: [], warnings: [], confidence: 'high'});
  const numbers = (list) => list.map((i) => i.question.number);
  const texts = (list) => list.map((i) => i.question.text);
  const merged = m.merge(items, 2);
  const split = m.split(items, 3, 'Four. '.length);
  return {
    merged: [texts(merged), merged[1].marks, merged[1].question.given_answer],
    mergeFirst: m.merge(items, 0) === items,
    split: [texts(split), numbers(split), split[4].marks],
    splitAtEnd: m.split(items, 3, 'Four. Five.'.length) === items,
    moved: numbers(m.move(items, 3, -1)), stuck: m.move(items, 0, -1) === items,
    removed: numbers(m.remove(items, 1)),
    added: [numbers(m.add(items)), m.add([]).map((i) => i.question.number)],
    next: ['9', 'Q.9', 'IV', ''].map(m.nextNumber),
    marks: ['', ' 2 ', '1.5', 'x', '-1'].map((t) => m.parseMarks(t)),
    paper: m.toPaper(base, m.edit(merged, 0, {text: 'Uno', marks: '4'})),
    original: texts(items),
  };
}
"""


def test_the_editor_model_is_pure_functions(page, web_url):
    page.goto(web_url)
    got = page.evaluate(MODEL_CHECK)
    assert got["merged"] == [["One", "Two a two b", "Four. Five."], "2", "k\nk2"]
    assert got["mergeFirst"] is True
    assert got["split"] == [["One", "Two a", "two b", "Four.", "Five."], ["1", "2", "3", "Q4", "Q5"], ""]
    assert got["splitAtEnd"] is True
    assert got["moved"] == ["1", "2", "Q4", "3"] and got["stuck"] is True
    assert got["removed"] == ["1", "3", "Q4"]
    assert got["added"] == [["1", "2", "3", "Q4", "Q5"], ["1"]]
    assert got["next"] == ["10", "Q.10", "IVb", ""]
    assert got["marks"] == [{"ok": True, "value": None}, {"ok": True, "value": 2}, {"ok": True, "value": 1.5},
                            {"ok": False}, {"ok": False}]
    paper = got["paper"]
    assert set(paper) == {"title", "questions", "papers", "warnings", "confidence"}
    assert [(q["number"], q["text"], q["marks"]) for q in paper["questions"]] == [
        ("1", "Uno", 4), ("2", "Two a two b", 2), ("Q4", "Four. Five.", 3)]
    assert all(q["answer"] is None for q in paper["questions"])
    assert got["original"] == ["One", "Two a", "two b", "Four. Five."]  # the edits made new lists

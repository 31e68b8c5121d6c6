"""A person's view: a real browser (Debian's Chromium, Playwright) opens a course page of the
platform, whose frame goes through the OIDC login and the launch, and the teacher answers a
paper on qagen's page inside that frame (docs/lti.md). Skipped, saying why, without Chromium."""

from __future__ import annotations

import html
import uuid
from urllib.parse import urlencode

import pytest

from tests.conftest import EXAMPLE_PAPER
from tests.lti.conftest import qagen
from tests.lti.platform import INSTRUCTOR, Platform
from tests.web.conftest import ARTIFACTS, CHROMIUM, LAUNCH_ARGS

JOB_TIMEOUT_MS = 120_000


@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's Chromium with `apt-get install -y chromium`")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def course(stack, key_server, platform_keys, tenant):
    """A platform whose issuer is its own web server (so its pages may frame qagen by default),
    with a course page framing qagen and the OIDC authorization endpoint that launches it."""
    private_pem, public_pem = platform_keys
    platform = Platform(issuer=key_server.url, client_id=f"browser-{uuid.uuid4().hex[:8]}", deployment_id="1",
                        tool_url=stack.layout.api_url, keys=key_server, private_pem=private_pem,
                        public_pem=public_pem)
    platform.publish_keys()
    qagen(stack, *platform.add_platform_args(tenant))
    def framed_launch(title: str, hint: str) -> str:
        login = platform.tool_url + "/lti/login?" + urlencode({
            "iss": platform.issuer, "login_hint": "teacher-1", "lti_message_hint": hint,
            "target_link_uri": platform.tool_url + "/lti/launch", "client_id": platform.client_id,
            "lti_deployment_id": platform.deployment_id})
        return (f'<!doctype html><title>{title}</title><h1>{title}</h1>'
                f'<iframe title="qagen" src="{html.escape(login)}" width="1100" height="1400"></iframe>')

    def authorize(query: dict) -> str:
        # The platform's answer to the tool's authentication request: a form that posts itself.
        deep_link = query.get("lti_message_hint") == "deep-link"
        data = platform.launch_data(query, "teacher-1", INSTRUCTOR,
                                    deep_link_return_url=key_server.url + "/return" if deep_link else None)
        fields = "".join(f'<input type="hidden" name="{name}" value="{html.escape(data[name])}">'
                         for name in ("id_token", "state"))
        return (f'<!doctype html><form method="post" action="{html.escape(data["launch_url"])}">{fields}</form>'
                f'<script>document.forms[0].submit()</script>')

    def deep_linking_return(form: dict) -> str:
        # The platform checks the tool's signed answer (the tool's JWKS over HTTP) and adds the items.
        items = platform.check_deep_linking_response(form["JWT"])
        added.extend(items)
        return "<!doctype html><title>Added</title>" + "".join(
            f"<p>Added: {html.escape(item['title'])}</p>" for item in items)

    added: list[dict] = []
    platform.added = added
    key_server.pages.update({"/course": lambda query: framed_launch("Physics 101", "resource-link-1"),
                             "/add-content": lambda query: framed_launch("Add content", "deep-link"),
                             "/auth": authorize, "/return": deep_linking_return})
    yield platform
    key_server.pages.clear()


def test_a_teacher_answers_a_paper_inside_the_course_frame(chromium, course, key_server):
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1200, "height": 1500})
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Refused" in message.text else None)
    page.goto(key_server.url + "/course")
    frame = page.frame_locator("iframe")

    expect(frame.get_by_label("Choose a paper")).to_be_attached(timeout=20_000)
    expect(frame.get_by_role("heading", name="Your API key")).to_be_hidden()
    expect(frame.locator("#upload-heading .step")).to_have_text("1")  # the steps count from the paper
    # The skip link stays on the page (its <base> would send "#main" to the plain page at /).
    frame.locator(".skip-link").focus()
    page.keyboard.press("Enter")
    expect(frame.locator("#main")).to_be_focused()
    assert page.frames[1].url.endswith("/lti/launch")
    frame.get_by_label("Choose a paper").set_input_files(str(EXAMPLE_PAPER))
    frame.get_by_role("button", name="Answer this paper").click()
    expect(frame.locator("progress#progress")).to_have_attribute("value", "100", timeout=JOB_TIMEOUT_MS)
    expect(frame.get_by_role("status").filter(has_text="Status:")).to_contain_text("Status: complete")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lti-course-frame.png"), full_page=True)
    with page.expect_download() as downloading:  # the PDF, from inside the frame
        frame.get_by_role("button", name="Download the answers (PDF)").click()
    saved = ARTIFACTS / "lti-frame-answers.pdf"
    downloading.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    # Then the teacher adds the answered paper to the course: the picker in the frame, one click,
    # and the signed answer posts itself back to the platform (api/static/lti-autopost.js).
    page.goto(key_server.url + "/add-content")
    choice = frame.get_by_role("button", name="Add “sample-paper.pdf” answered")
    expect(choice).to_be_visible(timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "lti-deep-link-picker.png"))
    choice.click()
    expect(frame.get_by_text("Added: sample-paper (answers)")).to_be_visible(timeout=20_000)
    assert [item["type"] for item in course.added] == ["ltiResourceLink"]
    assert refused == []  # nothing the pages needed was blocked by their policy (frame-ancestors included)

"""Deep linking, round trip: a teacher adds an answered paper to the course from inside the LMS.

The platform (lti1p3platform) sends an LtiDeepLinkingRequest; qagen shows the teacher's
finished sessions; the choice comes back to the platform as an LtiDeepLinkingResponse signed
with the tool's key, which the platform checks against the tool's JWKS fetched over HTTP; the
content item it adds, launched later by a student, opens the answered PDF."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.lti.conftest import as_teacher, launch_token, upload
from tests.lti.platform import LEARNER
from tests.waiting import wait_for_session

RETURN_URL = "https://lms.example.edu/deep-linking/return?course=1"


def hidden(page: str, name: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)]


@pytest.fixture
def answered(stack, platform, browser) -> str:
    """A session of teacher-1's, answered."""
    with as_teacher(stack, launch_token(platform.launch(browser, "teacher-1"))) as teacher:
        session_id = upload(teacher)
        assert wait_for_session(teacher, session_id)["status"] == "complete"
    return session_id


def test_a_deep_linking_round_trip_puts_the_answered_pdf_in_the_course(stack, platform, browser, answered):
    picker = platform.launch(browser, "teacher-1", deep_link_return_url=RETURN_URL)

    assert picker.status_code == 200, picker.text
    assert hidden(picker.text, "session_id") == [answered]
    assert "quiz.txt" in picker.text
    chosen = browser.post("/lti/deep-link", data={"launch_token": hidden(picker.text, "launch_token")[0],
                                                  "session_id": answered})

    assert chosen.status_code == 200, chosen.text
    assert f'action="{html.escape(RETURN_URL)}"' in chosen.text
    assert '<script src="assets/lti-autopost.js"></script>' in chosen.text
    assert "form-action 'self' https://lms.example.edu" in chosen.headers["Content-Security-Policy"]
    # The platform's side: the answer's signature checks out against the tool's JWKS (over HTTP).
    items = platform.check_deep_linking_response(hidden(chosen.text, "JWT")[0])
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "ltiResourceLink" and item["title"] == "quiz (answers)"
    assert item["url"] == stack.layout.api_url + "/lti/launch"
    assert item["custom"]["qagen_session_id"] == answered and item["custom"]["qagen_link"]

    # A student opens the link in the course: the PDF, through a signed short-lived URL.
    opened = platform.launch(browser, "student-1", roles=LEARNER, custom=item["custom"])
    assert opened.status_code == 303
    pdf = httpx.get(opened.headers["location"], timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_link_whose_parameters_were_edited_in_the_lms_opens_nothing(stack, platform, browser, answered,
                                                                        other_tenant):
    """A teacher may edit a link's custom parameters in the LMS: another session's id, without
    the signature qagen gave the link, is refused like a missing paper."""
    picker = platform.launch(browser, "teacher-1", deep_link_return_url=RETURN_URL)
    chosen = browser.post("/lti/deep-link", data={"launch_token": hidden(picker.text, "launch_token")[0],
                                                  "session_id": answered})
    custom = platform.check_deep_linking_response(hidden(chosen.text, "JWT")[0])[0]["custom"]
    with as_teacher(stack, launch_token(platform.launch(browser, "teacher-2"))) as bob:
        bobs = upload(bob)
        assert wait_for_session(bob, bobs)["status"] == "complete"

    for edited in ({**custom, "qagen_session_id": bobs}, {"qagen_session_id": bobs}):
        refused = platform.launch(browser, "student-1", roles=LEARNER, custom=edited)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert platform.launch(browser, "student-1", roles=LEARNER, custom=custom).status_code == 303


def test_the_picker_shows_only_the_teachers_finished_sessions(stack, platform, browser, answered):
    picker = platform.launch(browser, "teacher-2", deep_link_return_url=RETURN_URL)

    assert picker.status_code == 200
    assert hidden(picker.text, "session_id") == []
    assert "no answered paper yet" in picker.text


def test_another_teachers_session_cannot_be_chosen(stack, platform, browser, answered):
    with as_teacher(stack, launch_token(platform.launch(browser, "teacher-2"))) as bob:
        bobs = upload(bob)
        assert wait_for_session(bob, bobs)["status"] == "complete"
    picker = platform.launch(browser, "teacher-2", deep_link_return_url=RETURN_URL)
    assert hidden(picker.text, "session_id") == [bobs]

    refused = browser.post("/lti/deep-link", data={"launch_token": hidden(picker.text, "launch_token")[0],
                                                   "session_id": answered})

    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"


def test_an_ordinary_launch_token_cannot_answer_a_deep_link(stack, platform, browser, answered):
    token = launch_token(platform.launch(browser, "teacher-1"))

    refused = browser.post("/lti/deep-link", data={"launch_token": token, "session_id": answered})

    assert refused.status_code == 400 and refused.json()["error"]["code"] == "lti_not_deep_linking"


def test_the_tools_jwks_holds_its_public_key_alone(browser):
    keys = browser.get("/lti/jwks.json").json()["keys"]

    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig" and keys[0]["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0])

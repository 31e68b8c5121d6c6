"""Inside the LMS's frame: the login's state cookie crosses from the platform's page to the tool's
frame only as `SameSite=None; Secure`, which needs HTTPS. Behind a TLS-terminating proxy the
API sees plain HTTP, so it must believe the proxy's X-Forwarded-Proto (QAGEN_TRUSTED_PROXIES),
and no one else's."""

from __future__ import annotations

import pytest

from api import create_app


@pytest.fixture
def app_behind_proxy(settings):
    """An app of this test's own behind one trusted proxy, on the stack's Redis and bucket."""
    return create_app(settings.model_copy(update={"trusted_proxies": 1}))


def login(client, platform, **headers):
    return client.get("/lti/login", query_string={"iss": platform.issuer, "login_hint": "teacher-1",
                                                  "client_id": platform.client_id}, headers=headers)


def state_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("lti1p3-state-")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


def test_over_https_the_state_cookie_is_samesite_none_and_secure(app_behind_proxy, platform):
    response = login(app_behind_proxy.test_client(), platform, **{"X-Forwarded-Proto": "https"})

    assert response.status_code == 302
    cookie = state_cookie(response)
    assert "; Secure" in cookie and "; SameSite=None" in cookie and "; HttpOnly" in cookie
    assert "Max-Age=300" in cookie  # five minutes, from the login to the platform's POST
    assert response.headers["Location"].split("?")[0] == platform.auth_login_url
    assert "redirect_uri=https%3A%2F%2F" in response.headers["Location"]  # the launch URL the platform knows


def test_over_plain_http_the_cookie_is_not_marked_secure(app_behind_proxy, platform):
    # A browser drops a Secure cookie set over http, and SameSite=None needs Secure.
    cookie = state_cookie(login(app_behind_proxy.test_client(), platform))

    assert "Secure" not in cookie and "SameSite=None" not in cookie


def test_a_forwarded_proto_is_ignored_without_a_trusted_proxy(settings, platform):
    app = create_app(settings.model_copy(update={"trusted_proxies": 0}))

    cookie = state_cookie(login(app.test_client(), platform, **{"X-Forwarded-Proto": "https"}))

    assert "Secure" not in cookie


def test_a_launch_and_a_deep_link_work_over_https_with_the_frames_cookies(app_behind_proxy, platform, stack):
    """Over HTTPS the library keeps launch data under a session cookie of its own as well: the
    whole round trip, with the cookies a browser would send back from a frame."""
    from urllib.parse import parse_qsl, urlsplit

    from tests.lti.conftest import as_teacher, upload
    from tests.lti.platform import INSTRUCTOR
    from tests.waiting import wait_for_session

    client = app_behind_proxy.test_client()
    https = {"base_url": "https://qagen.example.edu"}

    def launch(**options):
        login = client.get("/lti/login", query_string={"iss": platform.issuer, "login_hint": "teacher-1",
                                                       "client_id": platform.client_id}, **https)
        auth_request = dict(parse_qsl(urlsplit(login.headers["Location"]).query))
        assert auth_request["redirect_uri"] == "https://qagen.example.edu/lti/launch"
        data = platform.launch_data(auth_request, "teacher-1", INSTRUCTOR, **options)
        return client.post("/lti/launch", data={"id_token": data["id_token"], "state": data["state"]}, **https)

    page = launch()
    assert page.status_code == 200, page.text
    token = page.text.split('name="qagen-launch-token" content="')[1].split('"')[0]
    with as_teacher(stack, token) as teacher:  # the same Redis: the live API takes the token too
        session_id = upload(teacher)
        assert wait_for_session(teacher, session_id)["status"] == "complete"

    picker = launch(deep_link_return_url="https://lms.example.edu/return")
    assert picker.status_code == 200 and session_id in picker.text
    launch_token = picker.text.split('name="launch_token" value="')[1].split('"')[0]
    chosen = client.post("/lti/deep-link", data={"launch_token": launch_token, "session_id": session_id}, **https)

    assert chosen.status_code == 200, chosen.text
    jwt = chosen.text.split('name="JWT" value="')[1].split('"')[0]
    assert platform.check_deep_linking_response(jwt)[0]["custom"]["qagen_session_id"] == session_id

"""An LTI 1.3 launch from a real platform implementation (lti1p3platform) into the live API:
the OIDC login, the id_token's checks, and what the launch gives the teacher (docs/lti.md)."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from tests.lti.conftest import as_teacher, launch_token, new_platform, qagen, upload
from tests.lti.platform import LEARNER, key_pair


def error_of(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    return response.json()["error"]


def test_the_login_sends_the_browser_to_the_platform_with_a_state_cookie_and_a_nonce(platform, browser):
    auth_request = platform.login(browser, "teacher-1")

    assert auth_request["client_id"] == platform.client_id
    assert auth_request["response_type"] == "id_token" and auth_request["response_mode"] == "form_post"
    assert auth_request["scope"] == "openid" and auth_request["prompt"] == "none"
    assert auth_request["redirect_uri"] == browser.base_url.join("/lti/launch")
    assert auth_request["login_hint"] == "teacher-1"
    assert auth_request["nonce"]
    # The state comes back in the platform's POST and must match the cookie set here.
    assert browser.cookies.get(f"lti1p3-{auth_request['state']}") == auth_request["state"]


def test_a_teachers_launch_opens_the_upload_page_with_a_launch_token_never_an_api_key(stack, platform, browser):
    page = platform.launch(browser, "teacher-1")

    token = launch_token(page)
    assert token.startswith("qlt_")
    assert "qk_" not in page.text.replace("<code>qk_</code>", "")  # the key card's hint names the prefix only
    assert '<script type="module" src="assets/app.js"></script>' in page.text
    assert '<base href="/">' in page.text  # the page's relative links resolve from / as on the plain page
    assert page.headers["Cache-Control"] == "no-store"
    with as_teacher(stack, token) as teacher:
        assert teacher.get("/api/v1/sessions").status_code == 200


def test_the_launch_page_may_be_framed_by_the_platform_alone(platform, browser):
    page = platform.launch(browser, "teacher-1")

    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    # By default the issuer's origin and the authorization URL's (a registration may name others).
    assert set(policy["frame-ancestors"].split()) == {platform.issuer, platform.keys.url}
    assert "X-Frame-Options" not in page.headers  # it cannot name an origin; CSP does
    assert policy["script-src"] == "'self'" and "unsafe-inline" not in page.headers["Content-Security-Policy"]
    # The plain page (an API key in the browser) stays unframeable.
    assert browser.get("/").headers["X-Frame-Options"] == "DENY"


def test_a_frame_origin_given_at_registration_replaces_the_default(stack, key_server, platform_keys, tenant, browser):
    platform = new_platform(stack, key_server, platform_keys)
    qagen(stack, *platform.add_platform_args(tenant), "--frame-origin", "https://school.instructure.com/courses/1")

    page = platform.launch(browser, "teacher-1")

    assert "frame-ancestors https://school.instructure.com" in page.headers["Content-Security-Policy"]


def test_a_launch_token_lists_and_reads_only_the_teachers_own_sessions(stack, platform, browser, tenant,
                                                                       redis_client):
    from qagen.apikeys import ApiKeyStore

    with as_teacher(stack, launch_token(platform.launch(browser, "teacher-1"))) as ada, \
            as_teacher(stack, launch_token(platform.launch(browser, "teacher-2"))) as bob:
        adas = upload(ada)
        bobs = upload(bob)

        assert [s["session_id"] for s in ada.get("/api/v1/sessions").json()["sessions"]] == [adas]
        assert [s["session_id"] for s in bob.get("/api/v1/sessions").json()["sessions"]] == [bobs]
        assert ada.get(f"/api/v1/sessions/{adas}").status_code == 200
        for path in (f"/api/v1/sessions/{adas}", f"/api/v1/sessions/{adas}/result.json",
                     f"/api/v1/sessions/{adas}/paper"):
            assert error_of(bob.get(path))["code"] == "not_found", path
        assert error_of(bob.post(f"/api/v1/sessions/{adas}/token"))["code"] == "not_found"
        assert error_of(bob.delete(f"/api/v1/sessions/{adas}"))["code"] == "not_found"

    # The tenant's API key is unchanged: it sees every session of the tenant, the teachers' too.
    key = ApiKeyStore(redis_client).create(tenant)
    with as_teacher(stack, key) as operator:
        listed = {s["session_id"] for s in operator.get("/api/v1/sessions").json()["sessions"]}
    assert {adas, bobs} <= listed


def test_a_launch_for_one_tenant_cannot_read_another_tenants_sessions(stack, key_server, platform_keys, browser,
                                                                      other_tenant):
    theirs = upload(other_tenant)
    platform = new_platform(stack, key_server, platform_keys)
    qagen(stack, *platform.add_platform_args("school-elsewhere"))

    with as_teacher(stack, launch_token(platform.launch(browser, "teacher-1"))) as teacher:
        assert error_of(teacher.get(f"/api/v1/sessions/{theirs}"))["code"] == "not_found"
        assert theirs not in {s["session_id"] for s in teacher.get("/api/v1/sessions").json()["sessions"]}


def test_a_launch_token_does_not_open_the_tenants_administration(stack, platform, browser):
    with as_teacher(stack, launch_token(platform.launch(browser, "teacher-1"))) as teacher:
        for method, path in (("POST", "/api/v1/keys/rotate"), ("GET", "/api/v1/webhook-secret")):
            assert teacher.request(method, path).status_code == 401, path


def test_a_student_may_not_open_the_upload_page(platform, browser):
    refused = platform.launch(browser, "student-1", roles=LEARNER)

    assert refused.status_code == 403 and error_of(refused)["code"] == "lti_not_instructor"


# --- refusals ---------------------------------------------------------------------------------


def _signed_by_another_key(id_token: str) -> str:
    """The same claims and `kid`, signed with a key the platform never published."""
    header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
    claims = jwt.decode(id_token, options={"verify_signature": False})
    return jwt.encode(claims, key_pair()[0], algorithm="RS256", headers={"kid": header["kid"]})


def test_an_id_token_with_a_wrong_signature_is_refused(platform, browser):
    data = platform.launch_data(platform.login(browser, "teacher-1"), "teacher-1", [])
    forged = _signed_by_another_key(data["id_token"])

    refused = browser.post("/lti/launch", data={"id_token": forged, "state": data["state"]})

    assert refused.status_code == 401
    assert error_of(refused)["code"] == "lti_launch_refused"
    assert "Signature verification failed" in error_of(refused)["message"]


def test_an_id_token_with_altered_claims_is_refused(platform, browser):
    data = platform.launch_data(platform.login(browser, "teacher-1"), "teacher-1", [])
    head, body, signature = data["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["sub"] = "someone-else"
    altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    refused = browser.post("/lti/launch", data={"id_token": f"{head}.{altered}.{signature}", "state": data["state"]})

    assert refused.status_code == 401 and error_of(refused)["code"] == "lti_launch_refused"


def test_a_replayed_launch_is_refused(platform, browser):
    data = platform.launch_data(platform.login(browser, "teacher-1"), "teacher-1",
                                ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"])
    form = {"id_token": data["id_token"], "state": data["state"]}

    assert browser.post("/lti/launch", data=form).status_code == 200
    replayed = browser.post("/lti/launch", data=form)

    assert replayed.status_code == 401 and error_of(replayed)["code"] == "lti_replayed"


def test_an_expired_id_token_is_refused(platform, browser):
    refused = platform.launch(browser, "teacher-1", expires_in=-60)

    assert refused.status_code == 401 and error_of(refused)["code"] == "lti_launch_refused"
    assert "expired" in error_of(refused)["message"]


def test_a_launch_from_an_unregistered_deployment_is_refused(stack, key_server, platform_keys, tenant, browser):
    registered = new_platform(stack, key_server, platform_keys, deployment_id="1")
    qagen(stack, *registered.add_platform_args(tenant))
    registered.deployment_id = "2"  # the same platform and client, another deployment

    refused = registered.launch(browser, "teacher-1")

    assert refused.status_code == 403 and error_of(refused)["code"] == "lti_unknown_deployment"


def test_a_login_from_an_unregistered_platform_is_refused(stack, key_server, platform_keys, browser):
    stranger = new_platform(stack, key_server, platform_keys)

    refused = browser.get("/lti/login", params={"iss": stranger.issuer, "login_hint": "teacher-1",
                                                "target_link_uri": stranger.tool_url + "/lti/launch",
                                                "client_id": stranger.client_id})

    assert refused.status_code == 403 and error_of(refused)["code"] == "lti_unknown_platform"


def test_a_login_without_its_parameters_is_refused(browser):
    refused = browser.get("/lti/login")

    assert refused.status_code == 400 and error_of(refused)["code"] == "lti_bad_request"


def test_a_launch_whose_state_cookie_did_not_come_back_is_refused(stack, platform, browser):
    import httpx

    data = platform.launch_data(platform.login(browser, "teacher-1"), "teacher-1", [])
    with httpx.Client(base_url=stack.layout.api_url, timeout=30) as cookieless:  # a frame whose cookies were blocked
        refused = cookieless.post("/lti/launch", data={"id_token": data["id_token"], "state": data["state"]})

    assert refused.status_code == 401 and error_of(refused)["code"] == "lti_launch_refused"
    assert "cookie" in error_of(refused)["message"]


@pytest.mark.parametrize("command", [["list-platforms"]])
def test_the_operator_sees_the_registration(stack, platform, tenant, command):
    listed = qagen(stack, "lti", *command).stdout

    assert f"{platform.issuer}  client {platform.client_id}  deployments: 1 -> {tenant}" in listed


def test_a_removed_registration_launches_no_more(stack, platform, browser):
    qagen(stack, "lti", "remove-platform", "--issuer", platform.issuer, "--client-id", platform.client_id)

    refused = browser.get("/lti/login", params={"iss": platform.issuer, "login_hint": "teacher-1",
                                                "client_id": platform.client_id})

    assert refused.status_code == 403 and error_of(refused)["code"] == "lti_unknown_platform"


def test_a_registration_with_a_bad_url_is_refused_in_words(stack, tenant):
    done = qagen(stack, "lti", "add-platform", "--issuer", "moodle.example.edu", "--client-id", "c",
                 "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
                 "--auth-token-url", "https://moodle.example.edu/mod/lti/token.php",
                 "--key-set-url", "https://moodle.example.edu/mod/lti/certs.php", "--deployment-id", "1",
                 "--tenant", tenant, check=False)

    assert done.returncode == 2
    assert "--issuer must be an absolute http(s) URL" in done.stderr


# --- the platform's keyset ----------------------------------------------------------------------


@pytest.fixture
def own_key_server():
    from tests.lti.platform import KeySetServer

    server = KeySetServer()
    yield server
    server.close()


def test_the_platforms_keyset_is_fetched_once_for_many_launches_and_again_when_it_rotates(
        stack, own_key_server, tenant, browser):
    """A platform of its own keyset server, whose fetches are counted."""
    platform = new_platform(stack, own_key_server, key_pair())
    qagen(stack, *platform.add_platform_args(tenant))

    for _ in range(3):
        assert platform.launch(browser, "teacher-1").status_code == 200
    assert own_key_server.key_fetches == 1  # kept in Redis (api/lti/tool.py KEY_SET_SECONDS)

    platform.private_pem, platform.public_pem = key_pair()  # the platform rotates its key: a new kid
    platform.publish_keys()
    assert platform.launch(browser, "teacher-1").status_code == 200
    assert own_key_server.key_fetches == 2


def test_a_platform_that_does_not_answer_for_its_keyset_fails_the_launch_in_seconds(
        stack, key_server, platform_keys, tenant, browser):
    import socket
    import time

    from api.lti.tool import KEY_SET_TIMEOUT_SECONDS

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are queued and never answered
    try:
        platform = new_platform(stack, key_server, platform_keys)
        args = platform.add_platform_args(tenant)
        args[args.index("--key-set-url") + 1] = f"http://127.0.0.1:{silent.getsockname()[1]}/jwks.json"
        qagen(stack, *args)

        started = time.monotonic()
        refused = platform.launch(browser, "teacher-1")
        waited = time.monotonic() - started
    finally:
        silent.close()

    assert refused.status_code == 401 and error_of(refused)["code"] == "lti_launch_refused"
    assert "Error during fetch URL" in error_of(refused)["message"]
    assert KEY_SET_TIMEOUT_SECONDS <= waited < KEY_SET_TIMEOUT_SECONDS + 5


def test_deleting_the_tenant_ends_its_launch_tokens_and_its_deployments(stack, platform, browser, tenant):
    token = launch_token(platform.launch(browser, "teacher-1"))

    qagen(stack, "tenants", "delete", tenant, "--yes")

    with as_teacher(stack, token) as teacher:
        assert error_of(teacher.get("/api/v1/sessions"))["code"] == "invalid_token"
    refused = browser.get("/lti/login", params={"iss": platform.issuer, "login_hint": "teacher-1",
                                                "client_id": platform.client_id})
    assert refused.status_code == 403 and error_of(refused)["code"] == "lti_unknown_platform"
    assert platform.issuer not in qagen(stack, "lti", "list-platforms").stdout


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def test_a_browser_in_the_lms_frame_sees_a_refusal_as_a_page_with_its_code(platform, browser):
    browser.headers["Accept"] = BROWSER_ACCEPT

    refused = platform.launch(browser, "student-1", roles=LEARNER)

    assert refused.status_code == 403 and refused.headers["Content-Type"].startswith("text/html")
    assert "Only the course&#x27;s instructors may upload papers" in refused.text
    assert "<code>lti_not_instructor</code>" in refused.text
    assert "frame-ancestors *" in refused.headers["Content-Security-Policy"]
    assert "<script" not in refused.text


def test_a_teachers_direct_upload_is_theirs_too(stack, platform, browser):
    """The page sends a large paper straight to the bucket (docs/direct-uploads.md): with a launch
    token, the session it makes is the teacher's, as an ordinary upload's is."""
    import httpx

    from tests.conftest import EXAMPLE_PAPER

    with as_teacher(stack, launch_token(platform.launch(browser, "teacher-1"))) as ada, \
            as_teacher(stack, launch_token(platform.launch(browser, "teacher-2"))) as bob:
        direct = ada.post("/api/v1/uploads/direct")
        assert direct.status_code == 201, direct.text
        form = direct.json()
        sent = httpx.post(form["url"], data=form["fields"], files={"file": ("paper.pdf", EXAMPLE_PAPER.read_bytes())},
                          timeout=60)
        assert sent.status_code == 204
        made = ada.post(f"/api/v1/uploads/direct/{form['upload_id']}/session", json={"filename": "paper.pdf"})
        assert made.status_code == 202, made.text

        assert [s["session_id"] for s in ada.get("/api/v1/sessions").json()["sessions"]] == [form["upload_id"]]
        assert error_of(bob.get(f"/api/v1/sessions/{form['upload_id']}"))["code"] == "not_found"

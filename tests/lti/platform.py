"""The LMS of the LTI tests: the PyPI package lti1p3platform (an LTI 1.3 platform library),
driven in-process, with its public keys served over HTTP on a loopback port.

lti1p3platform ships only Django and FastAPI adapters, so its abstract classes are subclassed
here (../shared/docs/field-notes-next.md §4): the platform's configuration and registration,
its OIDC login (which starts a launch by sending the browser to the tool's login URL) and its
message launch (which signs the id_token and posts it to the tool's redirect URL). The
"browser" is an httpx client against the live API that keeps its cookies, so the tool's state
cookie goes from the login to the launch as it would in a browser.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request

INSTRUCTOR = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]
LEARNER = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]


def key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a new RSA key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode(),
            private.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode())


class KeySetServer:
    """The platform's web server on a loopback port: its JWKS at /jwks.json, and the pages a
    test adds to `pages` (path -> a function of the query, or of a POST's form, that returns
    HTML), for a browser."""

    def __init__(self):
        self.keys: dict = {"keys": []}
        self.pages: dict = {}
        self.key_fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path in owner.pages:
                    status, kind = 200, "text/html; charset=utf-8"
                    body = owner.pages[parts.path](dict(parse_qsl(parts.query))).encode()
                else:
                    status, kind = (200 if parts.path == "/jwks.json" else 404), "application/json"
                    owner.key_fetches += parts.path == "/jwks.json"
                    body = json.dumps(owner.keys).encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # a page given a form: what an auto-posting form sends
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                page = owner.pages.get(parts.path)
                body = (page(form) if page else "").encode()
                self.send_response(200 if page else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, registration: Registration) -> None:
        self._registration = registration

    def get_registration_by_params(self, **kwargs) -> Registration:
        return self._registration


class PlatformRequest(Request):
    def build_metadata(self, request: dict) -> dict:
        return {"method": "GET", "form_data": {}, "get_data": request, "headers": {}, "content_type": None,
                "path": "/auth", "json": None}


class PlatformLogin(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url  # the URL the browser is sent to


class PlatformLaunch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict, **kwargs) -> dict:
        return launch_data  # {id_token, state, launch_url}: what the auto-posting form would send


@dataclass
class Platform:
    """One LMS registration of the tool: issuer, client id, deployment, and its signing keys."""

    issuer: str
    client_id: str
    deployment_id: str
    tool_url: str
    keys: KeySetServer
    private_pem: str
    public_pem: str

    @property
    def auth_login_url(self) -> str:
        return self.keys.url + "/auth"

    @property
    def key_set_url(self) -> str:
        return self.keys.url + "/jwks.json"

    def conf(self) -> PlatformConf:
        registration = (Registration().set_iss(self.issuer).set_client_id(self.client_id)
                        .set_deployment_id(self.deployment_id)
                        .set_oidc_login_url(self.tool_url + "/lti/login")
                        .set_launch_url(self.tool_url + "/lti/launch")
                        .set_deeplink_launch_url(self.tool_url + "/lti/launch")
                        .set_tool_key_set_url(self.tool_url + "/lti/jwks.json")
                        .set_platform_private_key(self.private_pem).set_platform_public_key(self.public_pem))
        return PlatformConf(registration=registration)

    def publish_keys(self) -> None:
        self.keys.keys = {"keys": self.conf().get_registration().get_jwks()}

    def add_platform_args(self, tenant: str) -> list[str]:
        """`qagen lti add-platform` for this registration, as an operator would type it."""
        return ["lti", "add-platform", "--issuer", self.issuer, "--client-id", self.client_id,
                "--auth-login-url", self.auth_login_url, "--auth-token-url", self.keys.url + "/token",
                "--key-set-url", self.key_set_url, "--deployment-id", self.deployment_id, "--tenant", tenant]

    def login(self, browser: httpx.Client, user_id: str) -> dict[str, str]:
        """The OIDC login: the tool's redirect back to the platform, as its query parameters."""
        login = PlatformLogin(None, self.conf())
        login.set_lti_message_hint(hint="resource-link-1")
        response = browser.get(login.initiate_login(user_id))
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(self.auth_login_url + "?"), location
        return dict(parse_qsl(urlsplit(location).query))

    def launch_data(self, auth_request: dict[str, str], user_id: str, roles: list[str], *,
                    deep_link_return_url: str | None = None, custom: dict | None = None,
                    expires_in: int = 300) -> dict:
        """The platform's answer to the tool's authentication request: {id_token, state, launch_url}."""
        launch = PlatformLaunch(PlatformRequest(auth_request), self.conf())
        launch.set_user_data(user_id, roles, full_name="Ada Teacher")
        launch.set_resource_link_claim("resource-link-1", title="qagen")
        launch.set_launch_context_claim("course-1", context_title="Physics 101")
        if deep_link_return_url:
            launch.set_dl(deep_link_return_url, title="Add an answered paper", accept_types={"ltiResourceLink"})
        if custom:
            launch.set_custom_parameters_claim(custom)
        launch.set_id_token_expiration(expires_in)
        return launch.lti_launch()

    def launch(self, browser: httpx.Client, user_id: str, roles: list[str] = INSTRUCTOR, **options) -> httpx.Response:
        """A whole launch: login, authentication answer, the id_token posted to the tool."""
        data = self.launch_data(self.login(browser, user_id), user_id, roles, **options)
        return browser.post(data["launch_url"], data={"id_token": data["id_token"], "state": data["state"]})

    def check_deep_linking_response(self, jwt: str) -> list[dict]:
        """The platform's own check of the tool's answer: signature (the tool's JWKS over HTTP),
        message type and content item types; the content items."""
        conf = self.conf()
        conf.get_registration()
        conf.set_accepted_deeplinking_types(["ltiResourceLink"])
        return conf.validate_deeplinking_resp({"JWT": jwt})

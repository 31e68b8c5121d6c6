"""Input errors are the client's: a 4xx in the one JSON error shape, never a 5xx (issue 19).

Over real HTTP against the stack's gunicorn: a malformed Idempotency-Key (empty included) is a
400 `bad_idempotency_key`; a cursor that is not one the API returned is a 400 `bad_cursor`
on every listing route (those whose OpenAPI operation takes `cursor`); and the requests gunicorn
refuses before Flask sees them (a control character in a header, an over-long request line or
header) get the same JSON shape from api/gunicorn_worker.py, sent here over raw sockets.
"""

from __future__ import annotations

import json
import socket
import uuid
from urllib.parse import urlparse

import httpx
import pytest

from api.gunicorn_worker import JsonErrorWorker, error_response
from tests.api.test_auth_and_errors import assert_error
from tests.conftest import EXAMPLE_PAPER

IDEMPOTENT_POSTS = ["/api/v1/upload", "/api/v1/knowledge"]


# --- Idempotency-Key ------------------------------------------------------------------------


def _raw(api_url: str, request: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as it is; (status, headers with lower-case names, body) of the answer."""
    address = urlparse(api_url)
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            if _ and (length := _content_length(head)) is not None and len(body) >= length:
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return None


def _multipart_upload(api_key: str, extra_headers: bytes) -> bytes:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + EXAMPLE_PAPER.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return (b"POST /api/v1/upload HTTP/1.1\r\nHost: qagen\r\nConnection: close\r\n"
            + f"Authorization: Bearer {api_key}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
              f"Content-Length: {len(body)}\r\n".encode() + extra_headers + b"\r\n" + body)


@pytest.mark.parametrize("value", ["", "k" * 256, "caf\u00e9-1", "tab\there"], ids=["empty", "256 chars", "non-ascii",
                                                                                    "tab"])
def test_a_malformed_idempotency_key_is_refused_not_ignored(client, value):
    response = client.post("/api/v1/upload", headers={"Idempotency-Key": value.encode("latin-1")},
                           files={"file": ("p.pdf", EXAMPLE_PAPER.read_bytes(), "application/pdf")})

    error = assert_error(response, 400, "bad_idempotency_key")
    assert "255" in error["message"]


def test_an_empty_idempotency_key_on_the_wire_is_refused(stack, api_key):
    """As curl sends it (`-H "Idempotency-Key;"`): the header is there, with nothing in it."""
    status, headers, body = _raw(stack.layout.api_url, _multipart_upload(api_key, b"Idempotency-Key:\r\n"))

    assert (status, headers["content-type"]) == (400, "application/json")
    assert json.loads(body)["error"]["code"] == "bad_idempotency_key"


@pytest.mark.parametrize("path", IDEMPOTENT_POSTS)
def test_a_malformed_key_is_named_before_the_body_is_validated(client, path):
    """The key is checked first: a client learns what is wrong with it, not only that a field is missing."""
    assert_error(client.post(path, headers={"Idempotency-Key": ""}, data={"name": "x"}), 400, "bad_idempotency_key")


def test_a_good_key_is_still_honoured(client):
    headers = {"Idempotency-Key": f"walk {uuid.uuid4()}"}  # printable ASCII, spaces included
    files = {"file": ("p.pdf", EXAMPLE_PAPER.read_bytes(), "application/pdf")}

    first, again = (client.post("/api/v1/upload", headers=headers, files=files) for _ in range(2))

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["session_id"] == first.json()["session_id"]
    assert again.headers["Idempotent-Replayed"] == "true"


# --- cursors --------------------------------------------------------------------------------


def listing_routes(api_url: str) -> list[str]:
    """The GET paths whose OpenAPI operation takes a `cursor` query parameter."""
    spec = httpx.get(f"{api_url}/openapi.json", timeout=10).json()
    return sorted(path for path, item in spec["paths"].items() if "get" in item
                  and any(p.get("name") == "cursor" and p.get("in") == "query" for p in item["get"].get("parameters", [])))


BAD_CURSORS = ["nan", "NaN", "inf", "-inf", "1e999", "junk", "1.5x", "0x10", "", " "]


def test_every_listing_route_refuses_a_cursor_it_did_not_return(stack, client):
    routes = listing_routes(stack.layout.api_url)
    assert "/api/v1/sessions" in routes

    for path in routes:
        for cursor in BAD_CURSORS[:-2]:
            response = client.get(path, params={"cursor": cursor})
            assert_error(response, 400, "bad_cursor")  # not 503 "storage unavailable", which a client retries
        for cursor in BAD_CURSORS[-2:] + ["9" * 400]:  # empty: no cursor; over-long: the query's validation
            response = client.get(path, params={"cursor": cursor})
            assert response.status_code < 500 and (response.status_code == 200 or response.json()["error"]["code"])


def test_the_cursor_a_listing_returns_still_pages(client):
    for _ in range(3):
        client.post("/api/v1/upload", files={"file": ("p.pdf", EXAMPLE_PAPER.read_bytes(), "application/pdf")})

    first = client.get("/api/v1/sessions", params={"limit": 2}).json()
    second = client.get("/api/v1/sessions", params={"limit": 2, "cursor": first["next_cursor"]})

    assert second.status_code == 200
    assert not {s["session_id"] for s in first["sessions"]} & {s["session_id"] for s in second.json()["sessions"]}


# --- what gunicorn refuses before Flask -----------------------------------------------------


GUNICORN_REFUSALS = {
    "control character in a header": (b"GET /api/v1/sessions HTTP/1.1\r\nHost: q\r\nX-Note: a\x01b\r\n\r\n", 400, "bad_request"),
    "DEL in the key": (b"POST /api/v1/upload HTTP/1.1\r\nHost: q\r\nIdempotency-Key: a\x7fb\r\n\r\n", 400, "bad_request"),
    "NUL in a header": (b"GET /healthz HTTP/1.1\r\nHost: q\r\nX-Note: a\x00b\r\n\r\n", 400, "bad_request"),
    "invalid header name": (b"GET /healthz HTTP/1.1\r\nHost: q\r\nX No(te): 1\r\n\r\n", 400, "bad_request"),
    "over-long request line": (b"GET /api/v1/sessions?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: q\r\n\r\n", 414,
                               "uri_too_long"),
    "over-long header": (b"GET /healthz HTTP/1.1\r\nHost: q\r\nX-Note: " + b"a" * 9000 + b"\r\n\r\n", 431,
                         "headers_too_large"),
    "too many headers": (b"GET /healthz HTTP/1.1\r\nHost: q\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(120))
                         + b"\r\n", 431, "headers_too_large"),
    "malformed method": (b"G@T / HTTP/1.1\r\nHost: q\r\n\r\n", 400, "bad_request"),
    "unknown HTTP version": (b"GET / HTTP/9.9\r\nHost: q\r\n\r\n", 400, "bad_request"),
    "TLS to the plain port": (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400, "bad_request"),
}


@pytest.mark.parametrize("name", GUNICORN_REFUSALS)
def test_what_gunicorn_refuses_is_answered_in_the_json_error_shape(stack, name):
    request, status, code = GUNICORN_REFUSALS[name]

    answer_status, headers, body = _raw(stack.layout.api_url, request)

    assert answer_status == status, body
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"] and set(error) == {"code", "message"}
    assert b"<html" not in body


def test_the_server_still_answers_after_refusals(stack):
    _raw(stack.layout.api_url, GUNICORN_REFUSALS["control character in a header"][0])
    assert httpx.get(f"{stack.layout.api_url}/healthz", timeout=5).status_code == 200


def test_gunicorn_errors_of_its_own_keep_the_shape_and_say_nothing_of_the_cause():
    head, _, body = error_response(500, "Internal Server Error", "Traceback: secret detail").partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 500 Internal Server Error\r\n") and b"Content-Type: application/json" in head
    assert json.loads(body) == {"error": {"code": "internal_error",
                                          "message": "Something went wrong on our side; it has been logged."}}


def test_the_api_runs_this_worker():
    import importlib

    from gunicorn.util import load_class
    from gunicorn.workers.gthread import ThreadWorker

    conf = importlib.import_module("api.gunicorn_conf")
    assert load_class(conf.worker_class) is JsonErrorWorker and issubclass(JsonErrorWorker, ThreadWorker)


def test_without_a_valid_api_key_a_bad_idempotency_key_still_gets_the_401(anonymous):
    response = anonymous.post("/api/v1/upload", headers={"Idempotency-Key": "a\tb"},
                              files={"file": ("q.txt", b"1. Why?\n")})

    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"

"""gunicorn's threaded worker, answering the requests gunicorn itself refuses as JSON (issue 19).

Some requests never reach Flask: a control character or an invalid byte in a header, a
request line or header over gunicorn's limits, an unknown transfer coding, a malformed
request line. gunicorn answers them in `Worker.handle_error`, which writes a small HTML page
through `gunicorn.util.write_error`; every other error of the API is
`{"error": {"code", "message"}}` with `Content-Type: application/json` (api/errors.py), and
a client parses that one shape. This worker (api/gunicorn_conf.py `worker_class`) keeps
gunicorn's decisions (status, reason, logging) and writes the same answer as JSON.

`util.write_error` is replaced in the worker process only (`init_process` runs after the
fork), where `handle_error` is its one caller; the master process never answers a request.
"""

from __future__ import annotations

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

# Stable codes a client can branch on, as api/errors.py's DEFAULT_CODES for the app's own errors.
CODES = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "expectation_failed",
         431: "headers_too_large", 500: "internal_error", 501: "not_implemented"}
MESSAGES = {
    400: "The request could not be read",
    403: "The request is forbidden",
    414: "The request line is too long",
    417: "The expectation in the Expect header cannot be met",
    431: "The request's headers are too large",
    501: "The request's transfer coding is not supported",
}
INTERNAL = "Something went wrong on our side; it has been logged."
MAX_DETAIL = 200  # gunicorn's text may quote the request line


def error_response(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 response in the API's error shape; the connection is closed after it."""
    if status >= 500 and status != 501:
        message = INTERNAL
    else:
        message = MESSAGES.get(status, "The request was refused")
        detail = detail.strip()
        message = f"{message}: {detail[:MAX_DETAIL]}" if detail else f"{message}."
    code = CODES.get(status, "bad_request" if status < 500 else "internal_error")
    body = json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":")).encode()
    reason = "".join(c for c in reason if " " <= c <= "~") or "Error"
    head = (f"HTTP/1.1 {int(status)} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n\r\n")
    return head.encode("latin-1") + body


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """`gunicorn.util.write_error`'s signature, writing JSON instead of HTML."""
    util.write_nonblock(sock, error_response(status_int, reason, mesg))


class JsonErrorWorker(ThreadWorker):
    """gunicorn's `gthread` worker whose own error answers are the API's JSON errors."""

    def init_process(self) -> None:
        util.write_error = write_json_error
        super().init_process()

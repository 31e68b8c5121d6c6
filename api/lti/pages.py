"""The pages qagen shows inside an LMS's frame, and the rules that let them be framed there.

- The launch page is the teachers' page (api/static/index.html) with two additions in its
  head: the launch token in `<meta name="qagen-launch-token">`, which the page's script uses
  in place of an API key and never stores, and a `<base>` so that its relative links resolve
  from /lti/launch as they do from /.
- The deep-linking page lists the teacher's finished sessions, one button each.
- The deep-linking answer posts itself to the platform (api/static/lti-autopost.js: no inline
  script, as the policy below forbids it), with a button for a browser without scripts.

Each is served under the page's Content-Security-Policy, except that `frame-ancestors` names
the platform's origins instead of 'none' (and no X-Frame-Options, which cannot name them).
Whatever the platform or a session says is escaped.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape
from pathlib import Path

from flask import Response, request

from qagen.jobs.records import Session

STATIC = Path(__file__).resolve().parents[1] / "static"


def policy(frame_origins: Sequence[str], form_targets: Sequence[str] = ()) -> str:
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
        "object-src 'none'", "base-uri 'self'", " ".join(["form-action 'self'", *form_targets]),
        " ".join(["frame-ancestors", *(frame_origins or ["'none'"])]),
    ])


def framed(html: str, frame_origins: Sequence[str], form_targets: Sequence[str] = ()) -> Response:
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = policy(frame_origins, form_targets)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"  # it carries a launch token
    return response


def _base() -> str:
    return escape((request.script_root or "") + "/")


def launch_page(token: str, frame_origins: list[str]) -> Response:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    head = (f'<head>\n  <base href="{_base()}">\n'
            f'  <meta name="qagen-launch-token" content="{escape(token)}">')
    return framed(page.replace("<head>", head, 1), frame_origins)


def _document(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n  <base href="{_base()}">\n'
            f'  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'  <title>{escape(title)}</title>\n  <link rel="stylesheet" href="assets/app.css">\n</head>\n'
            f'<body>\n<main id="main" class="wrap">\n<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n')


def _when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp or 0))


def deep_link_picker(token: str, sessions: list[Session], frame_origins: list[str]) -> Response:
    if not sessions:
        body = ("<p>You have no answered paper yet. Open qagen from the course (not from “add content”), upload a "
                "paper, and come back here once it is answered.</p>")
    else:
        rows = "\n".join(
            f'<li><form method="post" action="lti/deep-link">'
            f'<input type="hidden" name="launch_token" value="{escape(token)}">'
            f'<input type="hidden" name="session_id" value="{escape(s.id)}">'
            f'<button type="submit" class="button">Add “{escape(s.filename)}” answered</button> '
            f'<span class="hint">{s.question_count or 0} questions · answered {_when(s.finished_at)}</span>'
            f'</form></li>' for s in sessions)
        body = f"<p>Choose the answered paper to add to the course.</p>\n<ul class=\"sessions\">\n{rows}\n</ul>"
    return framed(_document("qagen: add an answered paper", body), frame_origins)


def auto_post(return_url: str, jwt: str, frame_origins: list[str], platform_origin: str) -> Response:
    body = (f'<form id="lti-deep-link-response" method="post" action="{escape(return_url)}">'
            f'<input type="hidden" name="JWT" value="{escape(jwt)}">'
            f'<button type="submit" class="button">Return to the course</button></form>\n'
            f'<script src="assets/lti-autopost.js"></script>')
    return framed(_document("qagen: returning to the course", body), frame_origins, [platform_origin])


def refusal(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    """A refusal (docs/errors.md) as a page, for a person looking at the LMS's frame. It holds no
    token and nothing to click, so any page may frame it."""
    body = (f'<p class="alert">{escape(message)}</p>\n<p class="hint">Error code: <code>{escape(code)}</code> '
            f"(HTTP {status}). Your LMS administrator can look it up in qagen's docs/errors.md.</p>")
    response = framed(_document("qagen could not open", body), ["*"])
    response.status_code = status
    response.headers.update(headers or {})
    return response

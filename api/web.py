"""The teachers' page: plain HTML, CSS and JavaScript at `/`, using the same REST API.

No build step and nothing from outside: `api/static/` holds index.html, app.css and the
script as ES modules (app.js, the entry point, loaded with `<script type="module">`, and
the modules it imports), served as they are. The page runs under a strict
Content-Security-Policy (no inline script or style, nothing from another origin; module
scripts from 'self' are allowed by `script-src 'self'`), so whatever the API returns can
only ever be shown as text.
"""

from __future__ import annotations

import mimetypes

from flask import Blueprint

# Browsers run a module script only when it is served with a JavaScript MIME type (and
# `nosniff` is set below): make sure of it, whatever the host's mime.types says.
mimetypes.add_type("text/javascript", ".js")

bp = Blueprint("web", __name__, static_folder="static", static_url_path="/assets")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


@bp.get("/")
def index():
    response = bp.send_static_file("index.html")
    # Revalidate each time, so a deployment's new page is picked up at once.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.after_request
def _security_headers(response):
    """On the page and its assets: the key lives in this page's storage, so lock it down."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    # The events and download links carry a session token as ?access_token=: never send it on as a referrer.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response

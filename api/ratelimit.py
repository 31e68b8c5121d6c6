"""Per-tenant rate limits (flask-limiter on Redis) with RateLimit headers and 429s.

Limits are counted per tenant wherever a request says who it is (a key or an LMS launch's
token in the header, or
the `access_token` the event stream and download links carry in the query), so all of a
tenant's keys share them and no tenant shares another's; only requests without a valid key
or token are counted per client address: the real client's behind the Ingress
(`QAGEN_TRUSTED_PROXIES`, werkzeug's ProxyFix in api/__init__.py), not the Ingress pod's.
Both the IETF draft headers (`RateLimit`, `RateLimit-Policy`) and the widespread
`X-RateLimit-*` ones are sent, with `Retry-After` on a 429. Probes, docs and the web page
are never limited.
"""

from __future__ import annotations

import math
import time

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from api.versions import endpoints
from api.auth import current_tenant, launch_grant
from api.services import services
from api.session_tokens import tenant_of_query_token


def _client_key() -> str:
    tenant = current_tenant() or _launch_tenant() or _query_tenant()
    return f"tenant:{tenant}" if tenant else f"addr:{get_remote_address()}"


def _launch_tenant() -> str | None:
    """The tenant of a teacher's LTI launch token in the header (qagen/lti/grants.py), for counting
    only: the page inside an LMS shares its tenant's limits."""
    grant = launch_grant()
    return grant.tenant if grant else None


def _query_tenant() -> str | None:
    """The tenant of the query's `access_token` (a session token, or an API key the views will
    refuse there), for counting only: it authenticates nothing (g.tenant stays the header's;
    the views that take a session token check it themselves)."""
    token = (request.args.get("access_token") or "").strip()
    if not token:
        return None
    tenant = tenant_of_query_token()
    if tenant is None:
        record = services().keys.lookup(token)
        tenant = record.tenant if record else None
    return tenant


def init_app(app: Flask, redis_url: str, default_limit: str, upload_limit: str) -> Limiter:
    """A limiter of this app's own (so each app honours its own settings)."""
    # Headers are written below rather than by flask-limiter, which puts Retry-After on every
    # response and overwrites the 503 handler's own.
    limiter = Limiter(key_func=_client_key, app=app, storage_uri=redis_url, default_limits=[default_limit],
                      headers_enabled=False, strategy="moving-window", key_prefix="qagen-api", swallow_errors=True)
    limiter.request_filter(lambda: not request.path.startswith("/api/"))
    # Uploads cost the most: their own limit, checked by the wrapper flask-limiter returns.
    upload = limiter.limit(upload_limit)(app.view_functions["uploads.upload"])
    for endpoint in endpoints("uploads.upload"):  # /api/v1 and its /api alias: one limit
        app.view_functions[endpoint] = upload

    @app.after_request
    def _headers(response):
        try:
            return _with_headers(response)
        except Exception:  # the counters live in Redis: while it is down, answer without the headers
            return response

    def _with_headers(response):
        current = limiter.current_limit
        if current is not None:
            amount, remaining = current.limit.amount, max(0, current.remaining)
            reset = max(1, math.ceil(current.reset_at - time.time()))
            response.headers["RateLimit-Policy"] = f'"default";q={amount};w={current.limit.get_expiry()}'
            response.headers["RateLimit"] = f'"default";r={remaining};t={reset}'
            response.headers["X-RateLimit-Limit"] = str(amount)
            response.headers["X-RateLimit-Remaining"] = str(remaining)
            response.headers["X-RateLimit-Reset"] = str(int(current.reset_at))
            if response.status_code == 429 and "Retry-After" not in response.headers:  # a refused stream's own stays
                response.headers["Retry-After"] = str(reset)
        return response

    return limiter

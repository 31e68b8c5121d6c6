"""The HTTP API: validate, store, enqueue, report. Run with `gunicorn "api:create_app()"`.

It must stay thin and light: no pipeline libraries (litellm, pdfplumber, seaborn) are
imported here; jobs are sent to the worker by task name. The OpenAPI document is
generated from the views' schemas (apiflask) and served at /openapi.json, with
interactive docs at /docs.
"""

from __future__ import annotations

from apiflask import APIFlask

from qagen import __version__
from qagen.logs import configure_logging
from qagen.settings import Settings, get_settings

DESCRIPTION = """qagen answers question papers. Upload a paper (optionally with a knowledge base
of course notes), follow its progress, then fetch the answered PDF through a signed URL or
the answers as JSON. Every /api route needs `Authorization: Bearer <key>` (the event stream and
the download also take a short-lived `?access_token=` from POST /api/v1/sessions/{id}/token, never
a key); errors are always `{"error": {"code", "message"}}`. See the README for an integrator's walkthrough."""


def create_app(settings: Settings | None = None) -> APIFlask:
    from api import (capacity, deliveries, direct_uploads, errors, health, idempotency, keys, knowledge,
                     knowledge_list, metrics, openapi, ratelimit, review, sessions, upload_slots, uploads, usage,
                     versions, web, webhook_secret)
    from api.files import UploadRequest
    from api.schemas import Error
    from api.services import Services

    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    # static_folder=None: the web page's files are served by api.web, with its security headers.
    app = APIFlask(__name__, title="qagen API", version=__version__, spec_path="/openapi.json", docs_path="/docs",
                   static_folder=None)
    app.request_class = UploadRequest
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        VALIDATION_ERROR_STATUS_CODE=400,
        INFO={"description": DESCRIPTION},
        HTTP_ERROR_SCHEMA=Error,
        VALIDATION_ERROR_SCHEMA=Error,
    )
    app.security_schemes = {"BearerAuth": {"type": "http", "scheme": "bearer"},
                            "SessionToken": {"type": "apiKey", "in": "query", "name": "access_token",
                                             "description": "A session's short-lived token (POST "
                                                            "/api/v1/sessions/{session_id}/token), never an API key"}}
    app.json.sort_keys = False
    app.extensions["qagen"] = Services.from_settings(settings)
    errors.init_app(app)
    metrics.init_app(app)  # served on its own port (api/metrics.py)
    app.register_blueprint(health.bp)
    versions.register(app, (uploads.bp, sessions.bp, review.bp, knowledge.bp, knowledge_list.bp, capacity.bp,
                            webhook_secret.bp, deliveries.bp, keys.bp, direct_uploads.bp, usage.bp))
    app.register_blueprint(web.bp)
    # LTI 1.3 (docs/lti.md): browser routes under /lti, outside the versioned JSON API.
    from api.lti.views import bp as lti_bp

    app.register_blueprint(lti_bp)
    openapi.init_app(app)
    ratelimit.init_app(app, settings.redis_url, settings.rate_limit, settings.upload_rate_limit)
    # After the rate limit; before the upload slots: a malformed Idempotency-Key takes none.
    idempotency.init_app(app)
    # After the rate limit: an upload refused by it takes no slot.
    app.extensions["qagen.upload_slots"] = upload_slots.init_app(app, settings.upload_concurrency)
    if settings.trusted_proxies:
        # Behind the Ingress: the client's address (rate limits by address) and scheme come
        # from the headers the trusted proxies set, the last `trusted_proxies` values only.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    return app

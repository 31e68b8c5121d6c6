"""The HTTP API: validate, store, enqueue, report. Run with `gunicorn "api:create_app()"`.

It must stay thin and light: no pipeline libraries (litellm, pdfplumber, seaborn) are
imported here; jobs are sent to the worker by task name.
"""

from __future__ import annotations

from flask import Flask

from qagen.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> Flask:
    from api import errors, health, knowledge, sessions, uploads
    from api.services import Services

    settings = settings or get_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.json.sort_keys = False
    app.extensions["qagen"] = Services.from_settings(settings)
    errors.init_app(app)
    for blueprint in (health.bp, uploads.bp, sessions.bp, knowledge.bp):
        app.register_blueprint(blueprint)
    return app

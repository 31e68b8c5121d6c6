"""Versioned routes: `/api/v1/...` is the API; `/api/...` is its deprecated alias.

Every API blueprint is registered twice: at `/api/v1` under its own name (the documented
routes; links the API writes, like `status_url`, point there), and at `/api` under
`<name>_unversioned`, the routes integrators used before versions existed. An answer on the
alias carries `Deprecation` (RFC 9745: since when) and a `Link` to the same route under
`/api/v1` (`rel="successor-version"`), and the alias is left out of the OpenAPI document.
A breaking change goes to `/api/v2`, with v1 kept beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from apiflask import APIBlueprint, APIFlask
from flask import request

CURRENT = "/api/v1"
UNVERSIONED = "/api"
ALIAS_SUFFIX = "_unversioned"
# When the unversioned paths were deprecated: the day /api/v1 was introduced.
DEPRECATED_SINCE = datetime(2026, 12, 5, tzinfo=timezone.utc)


def register(app: APIFlask, blueprints: Iterable[APIBlueprint]) -> None:
    for blueprint in blueprints:
        app.register_blueprint(blueprint, url_prefix=CURRENT)
        app.register_blueprint(blueprint, url_prefix=UNVERSIONED, name=blueprint.name + ALIAS_SUFFIX)

    @app.after_request
    def _deprecation(response):  # type: ignore[no-untyped-def]
        if is_alias(request.endpoint):
            response.headers["Deprecation"] = f"@{int(DEPRECATED_SINCE.timestamp())}"
            response.headers.add("Link", f'<{successor(request.full_path.rstrip("?"))}>; rel="successor-version"')
        return response


def is_alias(endpoint: str | None) -> bool:
    return bool(endpoint) and endpoint.split(".", 1)[0].endswith(ALIAS_SUFFIX)


def endpoints(name: str) -> tuple[str, str]:
    """An endpoint's two names: under /api/v1 and under the /api alias (e.g. for per-route settings)."""
    blueprint, view = name.split(".", 1)
    return name, f"{blueprint}{ALIAS_SUFFIX}.{view}"


def successor(path: str) -> str:
    """`/api/v1/sessions/x?y` -> `/api/v1/sessions/x?y`."""
    return CURRENT + path[len(UNVERSIONED):]


def documented_paths(spec: dict) -> dict:
    """The OpenAPI document without the alias's paths."""
    spec["paths"] = {path: item for path, item in spec.get("paths", {}).items()
                     if path.startswith(CURRENT + "/") or not path.startswith(UNVERSIONED + "/")}
    return spec

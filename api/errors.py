"""Every error leaves the API in one shape: {"error": {"code", "message"}} (+ "detail" for field errors)."""

from __future__ import annotations

import logging

from apiflask import APIFlask, HTTPError
from redis.exceptions import RedisError

from qagen.errors import TransientError

log = logging.getLogger(__name__)

DEFAULT_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
                 415: "unsupported_media_type", 422: "unprocessable", 429: "rate_limited",
                 500: "internal_error", 503: "unavailable"}


class ApiError(HTTPError):
    """Raised by a view to answer with a JSON error; `code` is stable for clients to branch on."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 detail: dict | None = None):
        super().__init__(status, message, detail=detail, headers=headers, extra_data={"code": code})


def _validation_summary(detail: dict) -> str:
    parts = []
    for location, fields in detail.items():
        for name, problems in (fields or {}).items():
            text = problems[0] if isinstance(problems, list) and problems else problems
            parts.append(f"{name} ({location}): {text}")
    return "Invalid request: " + "; ".join(parts) if parts else "Invalid request."


def init_app(app: APIFlask) -> None:
    @app.error_processor
    def _error_body(error: HTTPError):
        status = error.status_code
        code = (error.extra_data or {}).get("code") or DEFAULT_CODES.get(status, "error")
        message = error.message
        if status == 413 and not (error.extra_data or {}).get("code"):  # werkzeug's, for the upload limit
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            message = f"The upload is larger than the {limit} MB limit."
        body: dict = {"code": code, "message": message}
        if error.detail:
            body["detail"] = error.detail
            if not (error.extra_data or {}).get("code"):  # apiflask's own validation: {location: {field: [...]}}
                body["code"] = "validation_error"
                body["message"] = _validation_summary(error.detail)
        return {"error": body}, status, error.headers

    @app.errorhandler(TransientError)
    @app.errorhandler(RedisError)
    def _unavailable(exc: Exception):
        log.warning("dependency unavailable: %s", exc)
        return _error_body(ApiError(503, "unavailable", "A storage service is briefly unavailable; retry shortly.",
                                    {"Retry-After": "5"}))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPError):
            return _error_body(exc)
        log.exception("unhandled error")
        return _error_body(ApiError(500, "internal_error", "Something went wrong on our side; it has been logged."))

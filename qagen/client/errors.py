"""The errors the client raises, and the mapping of an API error response to one of them.

Every API error is raised as `QagenAPIError` (a subclass per common status) carrying the
server's `{"error": {"code", "message", "detail"}}`; all derive from `QagenClientError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from qagen.client.retries import RETRYABLE_CONFLICT, retry_after
from qagen.errors import QagenError

if TYPE_CHECKING:
    from qagen.client.models import SessionStatus


class QagenClientError(QagenError):
    """Base of every error the client raises."""


class QagenAPIError(QagenClientError):
    """The API answered with an error: its HTTP status and its `{"error": {"code", "message"}}`.

    `detail` is the error's `detail` object when the API sent one (None otherwise): for a
    422 `invalid_paper`, each bad field's path (`questions.3.text`) and what is wrong with it.
    """

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None,
                 detail: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.message!r})"


class AuthenticationError(QagenAPIError):
    """401: the API key is missing or not valid."""


class NotFoundError(QagenAPIError):
    """404: no such session or knowledge base (or it belongs to another key)."""


class NotReadyError(QagenAPIError):
    """409: the result was asked for before the job completed (the message says why, e.g. its failure)."""


class RateLimitedError(QagenAPIError):
    """429: too many requests; `retry_after` says how long to wait (still refused after the client's retries)."""


class ServiceUnavailableError(QagenAPIError):
    """503: a service behind the API is briefly down; `retry_after` says how long to wait."""


_ERROR_CLASSES: dict[int, type[QagenAPIError]] = {
    401: AuthenticationError, 404: NotFoundError, 409: NotReadyError, 429: RateLimitedError, 503: ServiceUnavailableError,
}


class QagenConnectionError(QagenClientError):
    """The API (or the storage behind a download link) could not be reached, even after retrying."""


class WaitTimeout(QagenClientError, TimeoutError):
    """`wait` gave up before the session finished; `last` is the last status seen."""

    def __init__(self, message: str, last: SessionStatus | None):
        super().__init__(message)
        self.last = last


def error_from(response: httpx.Response) -> QagenAPIError:
    """The `QagenAPIError` (or subclass) for an error response, with the API's code and message."""
    status = response.status_code
    code, message, detail = f"http_{status}", "", None
    try:
        body = json.loads(response.read() or b"null")
    except (ValueError, httpx.StreamError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = str(body["error"].get("code") or code)
        message = str(body["error"].get("message") or "")
        detail = body["error"].get("detail") if isinstance(body["error"].get("detail"), dict) else None
    if not message:
        message = f"{status} {response.reason_phrase or 'error'} from {response.request.url.copy_with(query=None)}"
    kind = _ERROR_CLASSES.get(status, QagenAPIError)
    if kind is NotReadyError and code != "not_ready":  # e.g. 409 request_in_progress of an Idempotency-Key
        kind = QagenAPIError
    # Retry-After means something only on these (the server's rate limiter adds it to every response).
    wait = retry_after(response) if status in (429, 503) or code == RETRYABLE_CONFLICT else None
    return kind(status, code, message, wait, detail)

"""A small typed client for the qagen REST API (docs/client.md).

    from qagen.client import QagenClient

    with QagenClient("http://127.0.0.1:8000", "qk_...") as qagen:
        job = qagen.upload("paper.pdf")
        final = qagen.wait(job.session_id, on_progress=lambda s: print(s.progress, s.message))
        qagen.download(job.session_id, "paper-answers.pdf")

It needs only httpx, and imports nothing of the pipeline. Every API error is raised as
`QagenAPIError` (a subclass per common status) carrying the server's code and message.
Refusals that say "try later" (429, 503) and failed connections are retried a bounded
number of times, honouring `Retry-After`. Uploads carry an `Idempotency-Key` (a fresh
UUID unless you pass one), so a retried upload never creates a second job. An upload with
`review=True` stops after parsing: `paper()`/`put_paper()` read and correct the questions,
`answer()` continues (docs/review.md).

The package, one job per module (import from `qagen.client` itself; the modules are its inside):

- `client`: `QagenClient`, the requests and their retry loop, the key kept to the API's origin;
- `models`: the results (`Submission`, `SessionStatus`, `KnowledgeBase`, `Capacity`, ...);
- `errors`: `QagenClientError`, `QagenAPIError` and its subclasses, and an error response's mapping to them;
- `retries`: which answers are retried, `Retry-After`, and the backoff without one;
- `sse`: the ~20-line Server-Sent Events parser (`_sse_events` here), rather than a library:
  the API sends only `event:` and `data:` lines, and it keeps the client's dependencies at
  httpx alone (the API image installs this package too).
"""

from __future__ import annotations

from qagen.client.client import QagenClient
from qagen.client.errors import (
    AuthenticationError,
    NotFoundError,
    NotReadyError,
    QagenAPIError,
    QagenClientError,
    QagenConnectionError,
    RateLimitedError,
    ServiceUnavailableError,
    WaitTimeout,
)
from qagen.client.models import Capacity, KnowledgeBase, KnowledgeDocument, SessionStatus, Submission
from qagen.client.sse import sse_events as _sse_events  # noqa: F401  (the name the tests and docs use)

__all__ = [
    "QagenClient", "Submission", "SessionStatus", "KnowledgeBase", "KnowledgeDocument", "Capacity",
    "QagenClientError", "QagenAPIError", "AuthenticationError", "NotFoundError", "NotReadyError",
    "RateLimitedError", "ServiceUnavailableError", "QagenConnectionError", "WaitTimeout",
]

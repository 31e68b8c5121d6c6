"""At most `QAGEN_UPLOAD_CONCURRENCY` uploads are read at once by one API process.

An upload is read whole before it is checked and stored: up to `QAGEN_MAX_UPLOAD_MB` in
memory, and the same again in /tmp while Werkzeug parses a body over 2 MiB. Unbounded, 32
threads (2 gunicorn processes x 16) reading 20 MB each need ~1.3 GB of memory and 640 MB of
/tmp, against the API pod's 512 Mi limit and 256 Mi /tmp (issue 16). So each process has a
few upload slots; a slot is taken before the body is read (the views read it; this hook runs
before them) and given back when the response is done. When every slot is busy, an upload
waits up to `WAIT_SECONDS` for one, then gets 503 with `Retry-After` (the client retries it,
and an `Idempotency-Key` makes that safe). Other routes never wait for a slot.
"""

from __future__ import annotations

import threading

from flask import Flask, g, request

from api.errors import ApiError
from api.versions import endpoints

# The routes whose body is a file (a paper, or notes for a knowledge base).
UPLOAD_ENDPOINTS = frozenset(name for view in ("uploads.upload", "knowledge.create", "knowledge.add_documents")
                             for name in endpoints(view))
WAIT_SECONDS = 2.0  # a typical upload is read and stored in well under a second
RETRY_AFTER_SECONDS = 2


def init_app(app: Flask, slots: int) -> threading.BoundedSemaphore:
    semaphore = threading.BoundedSemaphore(slots)

    @app.before_request
    def _take_a_slot():
        if request.endpoint not in UPLOAD_ENDPOINTS:
            return
        if not semaphore.acquire(timeout=WAIT_SECONDS):
            raise ApiError(503, "unavailable", "The server is reading as many uploads as it can hold; retry shortly.",
                           {"Retry-After": str(RETRY_AFTER_SECONDS)})
        g.upload_slot = True

    @app.teardown_request
    def _give_it_back(exc=None):
        if g.pop("upload_slot", False):
            semaphore.release()

    return semaphore

"""`QagenClient`: the qagen REST API over httpx (docs/client.md).

Uploads (and a reviewed session's `answer`) carry an `Idempotency-Key` (a fresh UUID unless
you pass one), so a retried upload never creates a second job. The key is sent only to the API's own origin (`_BearerAuth`),
never to the storage host of a signed download link. Errors come from `errors`, results
from `models`, the event stream parser from `sse` and the retry policy from `retries`.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote

import httpx

from qagen.client.direct import upload_direct
from qagen.client.errors import QagenAPIError, QagenConnectionError, WaitTimeout, error_from
from qagen.client.models import Capacity, KnowledgeBase, SessionStatus, Submission, changed
from qagen.client.retries import backoff, retry_after, retryable
from qagen.client.sse import sse_events
from qagen.model import Paper

USER_AGENT = "qagen-client/0.1"


# ---------------------------------------------------------------- plumbing


class _BearerAuth(httpx.Auth):
    """Adds the key only to requests for the API's own origin: never to S3 or anywhere else."""

    def __init__(self, api_key: str, origin: tuple[bytes, bytes, int | None]):
        self._header = f"Bearer {api_key}"
        self._origin = origin

    def auth_flow(self, request: httpx.Request):
        if _origin(request.url) == self._origin:
            request.headers["Authorization"] = self._header
        yield request


def _origin(url: httpx.URL) -> tuple[bytes, bytes, int | None]:
    return url.raw_scheme, url.raw_host, url.port


def _filename_from(response: httpx.Response) -> str | None:
    disposition = response.headers.get("Content-Disposition", "")
    for part in disposition.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "filename*" and "''" in value:
            return Path(unquote(value.split("''", 1)[1])).name or None
        if name.lower() == "filename":
            return Path(value.strip('"')).name or None
    return None


# ---------------------------------------------------------------- the client


class QagenClient:
    """The qagen REST API over httpx. Use as a context manager, or call `close()`.

    `transport` is handed to httpx (e.g. `httpx.HTTPTransport(retries=...)` or a test's
    wrapper). Transient failures (429, 503, a 409 `request_in_progress`, connection errors) are retried up to
    `max_retries` times, waiting `Retry-After` (or a short backoff) up to `max_retry_wait`
    seconds per wait; a longer `Retry-After` is raised at once for the caller to schedule.
    """

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 30, transport: httpx.BaseTransport | None = None,
                 max_retries: int = 3, max_retry_wait: float = 60.0, poll_interval: float = 1.0):
        if not api_key:
            raise ValueError("An API key is required.")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.poll_interval = poll_interval
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport,
                                  headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        self._auth = _BearerAuth(api_key, _origin(httpx.URL(self.base_url)))

    def __enter__(self) -> QagenClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"QagenClient({self.base_url!r})"

    # -- sessions

    def upload(self, path_or_bytes: str | os.PathLike[str] | bytes, filename: str | None = None, *,
               knowledge_base: str | None = None, callback_url: str | None = None,
               idempotency_key: str | None = None, review: bool = False, direct: bool = False) -> Submission:
        """Submit a paper (a path, or bytes with `filename`); returns where to follow the new session.

        With `review`, the job stops after parsing (status `awaiting_review`) until `answer()`
        continues it; `paper()`/`put_paper()` read and correct the questions meanwhile. With
        `direct`, the file goes straight to the bucket with a presigned form (docs/direct-uploads.md)."""
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            data, name = bytes(path_or_bytes), filename or "paper"
        else:
            path = Path(path_or_bytes)
            data, name = path.read_bytes(), filename or path.name
        key = idempotency_key or str(uuid.uuid4())
        if direct:
            return upload_direct(self, data, name, key=key, knowledge_base=knowledge_base, callback_url=callback_url,
                                 review=review)
        form = {k: v for k, v in {"knowledge_base": knowledge_base, "callback_url": callback_url,
                                  "review": "true" if review else None}.items() if v}
        response = self._request("POST", "/api/v1/upload", files={"file": (name, data)}, data=form,
                                 headers={"Idempotency-Key": key}, idempotent=True)
        return Submission.from_dict(response.json(), idempotency_key=key)

    def status(self, session_id: str) -> SessionStatus:
        return SessionStatus.from_dict(self._request("GET", f"/api/v1/sessions/{_q(session_id)}").json())

    def sessions(self, limit: int = 20, status: str | None = None) -> Iterator[SessionStatus]:
        """Your sessions, newest first, `limit` per page, following `next_cursor` lazily to the end."""
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        while True:
            body = self._request("GET", "/api/v1/sessions", params=params).json()
            for item in body.get("sessions") or []:
                yield SessionStatus.from_dict(item)
            cursor = body.get("next_cursor")
            if not cursor:
                return
            params["cursor"] = cursor

    def delete_session(self, session_id: str) -> None:
        """Delete the session and everything stored for it (upload, PDF, answers); a running job is stopped.

        `NotFoundError` for an unknown session, or one already deleted (so also when a retry
        follows a deletion whose answer was lost)."""
        self._request("DELETE", f"/api/v1/sessions/{_q(session_id)}", idempotent=True)

    def wait(self, session_id: str, on_progress: Callable[[SessionStatus], None] | None = None,
             timeout: float | None = None, *, stop_at_review: bool = True) -> SessionStatus:
        """Block until the session is complete, failed or awaiting review, and return that status.

        A failed session is returned, not raised. A session uploaded with review stops at
        `awaiting_review` after parsing: by default that status is returned too (check
        `.awaiting_review`), since nothing happens until someone calls `answer()`. With
        `stop_at_review=False` the wait goes on through the review (polling every
        `poll_interval` seconds meanwhile) until the session is complete or failed, for a
        caller whose review is done elsewhere (bound it with `timeout`).

        Follows the session's event stream; where the server has none (or it breaks) it polls
        `status` every `poll_interval` seconds. `on_progress` is called with each new status,
        including the final one. Raises `WaitTimeout` after `timeout` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: list[SessionStatus] = []  # the last status reported, if any

        def report(current: SessionStatus) -> SessionStatus:
            if not seen or changed(seen[0], current):
                seen[:] = [current]
                if on_progress:
                    on_progress(current)
            return current

        def settled(current: SessionStatus) -> bool:
            return current.done or (stop_at_review and current.awaiting_review)

        current = report(self.status(session_id))
        streaming = True  # False once the stream proved unusable: poll from then on
        while not settled(current):
            # The stream ends after a while (the server's limit) or may break: reconnect while it
            # works; poll instead where it never delivered anything (no endpoint, a proxy that
            # buffers), and while the session awaits review (its stream would end at once).
            if streaming and not current.awaiting_review:
                outcome = self._follow_events(session_id, report, deadline)
                if isinstance(outcome, SessionStatus):
                    current = outcome
                    continue
                streaming = outcome
                if streaming and (deadline is None or time.monotonic() < deadline):
                    continue
            current = report(self.status(session_id))
            if settled(current):
                break
            if deadline is not None and time.monotonic() + self.poll_interval > deadline:
                raise WaitTimeout(f"Session {session_id} did not finish within {timeout:g} s "
                                  f"(last: {current.status}, {current.progress}%).", current)
            if current.awaiting_review or not streaming:
                time.sleep(self.poll_interval)
        return current

    def _follow_events(self, session_id: str, report: Callable[[SessionStatus], SessionStatus],
                       deadline: float | None) -> SessionStatus | bool:
        """Read the event stream once: the status it ended on (done, or awaiting review); True if it
        ended early after events; False if unusable."""
        read_timeout = self.timeout if deadline is None else max(0.1, min(self.timeout, deadline - time.monotonic()))
        delivered = False
        try:
            with self._http.stream("GET", f"/api/v1/sessions/{_q(session_id)}/events", auth=self._auth,
                                   headers={"Accept": "text/event-stream", "Cache-Control": "no-cache"},
                                   timeout=httpx.Timeout(self.timeout, read=read_timeout)) as response:
                if response.status_code != 200 or not response.headers.get("content-type", "").startswith("text/event-stream"):
                    return False
                for event, data in sse_events(response.iter_lines()):
                    try:
                        current = SessionStatus.from_dict(json.loads(data))
                    except (ValueError, KeyError, TypeError):
                        return False  # e.g. `event: error` (the session expired): polling reports it properly
                    delivered = True
                    report(current)
                    # `review`: parsed and stopped for a person; the server ends the stream there.
                    if event in ("done", "review") or current.done or current.awaiting_review:
                        return current
                    if deadline is not None and time.monotonic() > deadline:
                        return True
        except httpx.HTTPError:
            pass
        return delivered

    # -- review (docs/review.md): an upload with review=True stops after parsing

    def paper_json(self, session_id: str) -> dict[str, Any]:
        """The parsed paper of a session, as the API's JSON (docs/schema.md), every field kept.

        A `QagenAPIError` 409 `not_parsed` while there is none (still parsing, or uploaded without review)."""
        return self._request("GET", f"/api/v1/sessions/{_q(session_id)}/paper").json()

    def paper(self, session_id: str) -> Paper:
        """The parsed paper of a session (`qagen.model.Paper`, no answers), to check before `answer()`."""
        return Paper.from_dict(self.paper_json(session_id))

    def put_paper(self, session_id: str, paper: Paper | Mapping[str, Any], *,
                  idempotency_key: str | None = None) -> Paper:
        """Replace the parsed paper of a session awaiting review with `paper` (a `Paper` or its JSON as a dict).

        Returns the paper as stored. A 422 `invalid_paper` has each bad field's path and
        problem in `error.detail`; a 409 `not_in_review` means the session is not awaiting
        review (nothing changed)."""
        body = paper.to_dict() if isinstance(paper, Paper) else dict(paper)
        key = idempotency_key or str(uuid.uuid4())
        response = self._request("PUT", f"/api/v1/sessions/{_q(session_id)}/paper", json=body,
                                 headers={"Idempotency-Key": key}, idempotent=True)
        return Paper.from_dict(response.json())

    def answer(self, session_id: str, *, idempotency_key: str | None = None) -> Submission:
        """Continue a session awaiting review: its stored (perhaps corrected) paper is answered.

        Carries an `Idempotency-Key` (a fresh UUID unless given), so a retry after a lost
        answer is safe; follow the job with `wait()`. 409 `not_in_review` if it is not awaiting review."""
        key = idempotency_key or str(uuid.uuid4())
        response = self._request("POST", f"/api/v1/sessions/{_q(session_id)}/answer",
                                 headers={"Idempotency-Key": key}, idempotent=True)
        return Submission.from_dict(response.json(), idempotency_key=key)

    def result(self, session_id: str) -> Paper:
        """The answered paper (questions with their answers); `NotReadyError` until complete."""
        return Paper.from_dict(self._request("GET", f"/api/v1/sessions/{_q(session_id)}/result.json").json())

    def download_url(self, session_id: str, expires_in: int | None = None) -> str:
        """A fresh signed URL of the answered PDF (valid `expires_in` seconds, or the server's default; needs no key)."""
        params = {"expires_in": expires_in} if expires_in else None
        response = self._request("GET", f"/api/v1/download/{_q(session_id)}", params=params, follow_redirects=False)
        location = response.headers.get("Location")
        if response.status_code not in (301, 302, 303, 307, 308) or not location:
            raise QagenAPIError(response.status_code, "unexpected_response",
                                f"Expected a redirect to the download, got {response.status_code}.")
        return str(response.url.join(location))

    def download(self, session_id: str, path: str | os.PathLike[str]) -> Path:
        """Save the answered PDF at `path` (or inside it, when it is a folder) and return where.

        The API answers with a redirect to a signed S3 URL; that URL is fetched without the
        API key (the signature is the credential), and the file appears only once complete.
        """
        url = self.download_url(session_id)
        target = Path(path)
        for attempt in range(self.max_retries + 1):
            try:
                # No auth: the key goes to the API only, never to the storage host.
                with self._http.stream("GET", url, auth=None, headers={"Accept": "*/*"}) as response:
                    if response.status_code >= 400:
                        raise error_from(response)
                    if target.is_dir():
                        target = target / (_filename_from(response) or f"{session_id}-answers.pdf")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
                    try:
                        with os.fdopen(fd, "wb") as out:
                            for chunk in response.iter_bytes():
                                out.write(chunk)
                        os.replace(partial, target)
                    finally:
                        if os.path.exists(partial):
                            os.unlink(partial)
                    return target
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise QagenConnectionError(f"Could not download the answers from the storage host: {exc}") from exc
                time.sleep(backoff(attempt))
                url = self.download_url(session_id)  # a fresh signature for the retry
        raise AssertionError("unreachable")

    # -- knowledge bases

    def create_knowledge_base(self, paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
                              name: str | None = None) -> KnowledgeBase:
        """Upload course notes (PDF, DOCX, text) as a new knowledge base; it is indexed in the background."""
        items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        if not items:
            raise ValueError("Give at least one document.")
        files = [("file", (Path(p).name, Path(p).read_bytes())) for p in items]
        form = {"name": name} if name else {}
        # Not idempotent on the server: retried only when the request was refused (429/503) or never sent.
        return KnowledgeBase.from_dict(self._request("POST", "/api/v1/knowledge", files=files, data=form).json())

    def knowledge_base(self, knowledge_base_id: str) -> KnowledgeBase:
        return KnowledgeBase.from_dict(self._request("GET", f"/api/v1/knowledge/{_q(knowledge_base_id)}").json())

    def delete_knowledge_base(self, knowledge_base_id: str) -> None:
        self._request("DELETE", f"/api/v1/knowledge/{_q(knowledge_base_id)}", idempotent=True)

    def capacity(self) -> Capacity:
        return Capacity.from_dict(self._request("GET", "/api/v1/capacity").json())

    def usage(self, start: date | str | None = None, end: date | str | None = None) -> dict[str, Any]:
        """The tenant's usage by UTC day from `start` to `end` (default: this month), the range's
        total and the monthly quotas: the body of `GET /api/v1/usage` (docs/usage.md)."""
        params = {name: value.isoformat() if isinstance(value, date) else value
                  for name, value in (("from", start), ("to", end)) if value is not None}
        return self._request("GET", "/api/v1/usage", params=params).json()

    # -- requests

    def _request(self, method: str, path: str, *, idempotent: bool | None = None, follow_redirects: bool = False,
                 **kwargs: Any) -> httpx.Response:
        """Send with the key; retry 429/503 and failed connections; raise `QagenAPIError` for error statuses.

        A request whose fate is unknown (the connection broke after sending) is retried only
        when `idempotent` (GET and DELETE are; an upload is, thanks to its Idempotency-Key).
        """
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "OPTIONS", "DELETE", "PUT")
        for attempt in range(self.max_retries + 1):
            last = attempt >= self.max_retries
            try:
                response = self._http.request(method, path, auth=self._auth, follow_redirects=follow_redirects, **kwargs)
            except httpx.TransportError as exc:
                never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                if last or not (never_sent or idempotent):
                    raise QagenConnectionError(f"Could not reach the qagen API at {self.base_url}: "
                                               f"{exc or type(exc).__name__}") from exc
                time.sleep(backoff(attempt))
                continue
            if retryable(response) and not last:
                wait = retry_after(response)
                wait = backoff(attempt) if wait is None else wait
                if wait <= self.max_retry_wait:
                    time.sleep(wait)
                    continue
            if response.status_code >= 400:
                raise error_from(response)
            return response
        raise AssertionError("unreachable")


def _q(identifier: str) -> str:
    """An id as one path segment, whatever it contains."""
    return quote(str(identifier), safe="")

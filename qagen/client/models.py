"""What the API returns, as frozen dataclasses: an accepted upload, a session's status,
a knowledge base of course notes, and the service's capacity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

TERMINAL_STATUSES = frozenset({"complete", "failed"})
# Parsed and stopped, for a person to check the questions (an upload with review, docs/review.md):
# nothing happens until `QagenClient.answer` continues it. Not terminal.
AWAITING_REVIEW = "awaiting_review"


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _strings(value: Any) -> tuple[str, ...] | None:
    return tuple(str(v) for v in value) if isinstance(value, list) else None


@dataclass(frozen=True)
class Submission:
    """An accepted upload: the session to follow, and where to follow it."""

    session_id: str
    status_url: str
    download_url: str
    events_url: str | None = None
    result_url: str | None = None
    idempotency_key: str | None = None
    paper_url: str | None = None  # GET/PUT the parsed paper (review, docs/review.md)
    answer_url: str | None = None  # POST: answer the reviewed paper

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], idempotency_key: str | None = None) -> Submission:
        return cls(session_id=data["session_id"], status_url=data.get("status_url", ""),
                   download_url=data.get("download_url", ""), events_url=data.get("events_url"),
                   result_url=data.get("result_url"), idempotency_key=idempotency_key,
                   paper_url=data.get("paper_url"), answer_url=data.get("answer_url"))


@dataclass(frozen=True)
class SessionStatus:
    """One session as the API reports it; `raw` is the JSON exactly as received."""

    session_id: str
    status: str
    stage: str = ""
    progress: int = 0
    message: str = ""
    error: str | None = None
    filename: str | None = None
    question_count: int | None = None
    knowledge_base_id: str | None = None
    # What the parse found for a person to check, and its confidence (high, medium, low);
    # None until the paper has been parsed.
    warnings: tuple[str, ...] | None = None
    confidence: str | None = None
    review: bool = False  # uploaded with review: it stops at `awaiting_review` after parsing
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def done(self) -> bool:
        """True once the session is complete or failed."""
        return self.status in TERMINAL_STATUSES

    @property
    def awaiting_review(self) -> bool:
        """True while the parsed questions wait for a person (`QagenClient.answer` continues)."""
        return self.status == AWAITING_REVIEW

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionStatus:
        return cls(
            session_id=data["session_id"], status=data.get("status", ""), stage=data.get("stage") or "",
            progress=int(data.get("progress") or 0), message=data.get("message") or "", error=data.get("error"),
            filename=data.get("filename"), question_count=data.get("question_count"),
            knowledge_base_id=data.get("knowledge_base_id"), warnings=_strings(data.get("warnings")),
            confidence=data.get("confidence") or None, review=bool(data.get("review")), created_at=_time(data.get("created_at")),
            started_at=_time(data.get("started_at")), finished_at=_time(data.get("finished_at")),
            updated_at=_time(data.get("updated_at")), raw=dict(data),
        )


def changed(before: SessionStatus, after: SessionStatus) -> bool:
    """Whether `after` is news next to `before`: another status, stage, progress, message or error."""
    keys = ("status", "stage", "progress", "message", "error")
    return any(getattr(before, k) != getattr(after, k) for k in keys)


@dataclass(frozen=True)
class KnowledgeDocument:
    document_id: str
    filename: str
    size: int | None = None
    chunks: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class KnowledgeBase:
    """A knowledge base of course notes; `skipped` lists uploads left out (e.g. duplicates)."""

    knowledge_base_id: str
    name: str = ""
    status: str = ""
    error: str | None = None
    version: int | None = None
    chunk_count: int | None = None
    documents: tuple[KnowledgeDocument, ...] = ()
    skipped: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KnowledgeBase:
        known = {"document_id", "filename", "size", "chunks", "error"}
        return cls(
            knowledge_base_id=data["knowledge_base_id"], name=data.get("name") or "", status=data.get("status") or "",
            error=data.get("error"), version=data.get("version"), chunk_count=data.get("chunk_count"),
            documents=tuple(KnowledgeDocument(**{k: v for k, v in d.items() if k in known})
                            for d in data.get("documents") or []),
            skipped=tuple(data.get("skipped") or ()), raw=dict(data),
        )


@dataclass(frozen=True)
class Capacity:
    """How busy the service is: jobs waiting and running, and the expected wait (None where unknown)."""

    queued: int
    running: int
    workers: int | None = None
    estimated_wait_seconds: float | None = None
    slots: int | None = None
    median_job_seconds: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Capacity:
        return cls(queued=int(data.get("queued") or 0), running=int(data.get("running") or 0),
                   workers=data.get("workers"), estimated_wait_seconds=data.get("estimated_wait_seconds"),
                   slots=data.get("slots"), median_job_seconds=data.get("median_job_seconds"))

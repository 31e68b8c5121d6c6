"""Review: a session that stops after parsing for a person to check the questions (docs/review.md).

    RUNNING --(parse done, review asked)--> AWAITING_REVIEW --(POST .../answer)--> QUEUED -> ...

Each move is one Lua script on the session record, so they never interleave with each
other or with a deletion: an edit lands only while the session awaits review, and of two
requests to continue only one queues a job.

- `stop_for_review` (the worker, under its run's lease): the parsed paper is stored; the
  session awaits review, holding no worker and no place in the queue.
- `replace_paper` (PUT): the edited paper, already stored under a new key, becomes the
  session's paper only while the session awaits review; the caller removes the key it gets
  back (the replaced paper, or the new one when the edit was refused).
- `begin_answering` (POST .../answer): awaiting review -> queued, once; `undo_answering`
  puts it back when the job could not be queued.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from qagen.jobs.records import JobState, SessionStore, key_for, object_prefix
from qagen.model import Paper
from qagen.pipeline.progress import within

REVIEW_STAGE = "review"
REVIEW_PROGRESS = within("parsing", 1)  # the parse is done; nothing else has started


def paper_key(tenant: str, session_id: str, version: int | float) -> str:
    """Where one version of the session's paper is stored (a new key per edit: a reader never sees half of one)."""
    return f"{object_prefix(tenant, session_id)}paper-{version}.json"


def review_message(question_count: int) -> str:
    plural = "s" if question_count != 1 else ""
    return (f"Found {question_count} question{plural}: check them, correct them if needed, then continue "
            "(PUT and GET .../paper, POST .../answer).")


def stop_for_review(sessions: SessionStore, session_id: str, key: str, paper: Paper) -> None:
    """The worker's last step for a session uploaded with review (the paper is stored at `key`)."""
    sessions.update(session_id, status=JobState.AWAITING_REVIEW, stage=REVIEW_STAGE, progress=REVIEW_PROGRESS,
                    message=review_message(len(paper.questions)), paper_key=key,
                    question_count=len(paper.questions), warnings=list(paper.warnings), confidence=paper.confidence)


# KEYS: the record. ARGV: new paper key, question count, warnings (JSON), confidence, message, now.
# -> {'ok', previous key} | {status, ''} (not awaiting review: nothing written) | {'gone', ''}
_REPLACE = """
if redis.call('exists', KEYS[1]) == 0 then return {'gone', ''} end
local status = redis.call('hget', KEYS[1], 'status')
if status ~= 'awaiting_review' then return {status, ''} end
local previous = redis.call('hget', KEYS[1], 'paper_key') or ''
redis.call('hset', KEYS[1], 'paper_key', ARGV[1], 'question_count', ARGV[2], 'warnings', ARGV[3],
           'confidence', ARGV[4], 'message', ARGV[5], 'updated_at', ARGV[6])
return {'ok', previous}
"""

# KEYS: the record. ARGV: now, message. -> 'ok' | the status it is in | 'gone'
_BEGIN = """
if redis.call('exists', KEYS[1]) == 0 then return 'gone' end
local status = redis.call('hget', KEYS[1], 'status')
if status ~= 'awaiting_review' then return status end
redis.call('hset', KEYS[1], 'status', 'queued', 'stage', 'queued', 'message', ARGV[2], 'reviewed_at', ARGV[1],
           'updated_at', ARGV[1])
return 'ok'
"""

# KEYS: the record. ARGV: the reviewed_at `_BEGIN` wrote, message. Only that continuation, still queued.
_UNDO = """
if redis.call('hget', KEYS[1], 'status') ~= 'queued' then return 0 end
if redis.call('hget', KEYS[1], 'reviewed_at') ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[1], 'status', 'awaiting_review', 'stage', 'review', 'reviewed_at', '', 'message', ARGV[2])
return 1
"""


@dataclass(frozen=True)
class Outcome:
    """What a review step did: `status` is "ok", "gone" or the state the session is in instead."""

    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def replace_paper(client: redis.Redis, session_id: str, key: str, paper: Paper) -> Outcome:
    """Make the paper stored at `key` the session's, if it awaits review; `detail`: the key to remove."""
    reply = client.eval(_REPLACE, 1, key_for(session_id), key, str(len(paper.questions)),
                        json.dumps([str(w) for w in paper.warnings], ensure_ascii=False), paper.confidence,
                        review_message(len(paper.questions)), repr(time.time()))
    status, previous = (part.decode() if isinstance(part, bytes) else str(part) for part in reply)
    return Outcome(status, previous if status == "ok" else key)


def begin_answering(client: redis.Redis, session_id: str) -> Outcome:
    """Awaiting review -> queued, once; `detail` is the continuation's stamp (for `undo_answering`)."""
    now = repr(time.time())
    reply = client.eval(_BEGIN, 1, key_for(session_id), now, "Queued to answer the checked questions.")
    status = reply.decode() if isinstance(reply, bytes) else str(reply)
    return Outcome(status, now if status == "ok" else "")


def undo_answering(client: redis.Redis, session_id: str, stamp: str, question_count: int | None) -> bool:
    """Back to awaiting review after the job could not be queued (True if it was put back)."""
    return bool(client.eval(_UNDO, 1, key_for(session_id), stamp, review_message(question_count or 0)))

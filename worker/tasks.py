"""Tasks stay thin: load the record, run the core function, record progress, store the result.

The paper task runs only while it holds its session's lease (worker/recovery.py,
qagen.jobs.leases): a duplicate message drops out, and a job lost with its worker is queued
again by a surviving worker's sweeper within seconds, resuming from its cached answers.
The index task runs under its knowledge base's lease (qagen.knowledge.indexing) the same
way; Celery itself redelivers it when its worker is lost, and every way it can stop (worker
losses past the cap, the soft or the hard time limit, an error) ends with the base failed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from functools import lru_cache

from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from qagen.errors import InputError, ModelError, SessionNotFound, TransientError
from qagen.jobs.accounting import meter_engine, result_document, stopped_message
from qagen.jobs.fairness import dispatch_quietly
from qagen.jobs.fencing import FIRST_TOKEN, RUNS_FOLDER, losing_objects, run_prefix
from qagen.jobs.leases import LeaseLost
from qagen.jobs.names import INDEX_KNOWLEDGE_BASE, PROCESS_QUESTION_PAPER
from qagen.jobs.records import (
    REDIS_UNAVAILABLE,
    JobState,
    SessionStore,
    object_prefix,
    patiently,
)
from qagen.jobs.review import REVIEW_PROGRESS, paper_key, stop_for_review
from qagen.jobs.stats import record_outcome, timing_stages
from qagen.model import Paper
from qagen.redis_client import redis_from_settings
from qagen.settings import get_settings
from qagen.storage import S3Storage
from worker.celery_app import app
from worker.recovery import REDIS_PATIENCE_SECONDS, Run, begin_run
from worker.webhook_tasks import notify_if_finished

log = logging.getLogger(__name__)
RETRY_DELAYS_SECONDS = (5, 20, 60)


_resources_lock = threading.Lock()


def _resources():
    """Clients made once per worker process (after the prefork, never shared across it); the
    pool process's warm-up thread makes them (worker/warmup.py), and a task that needs them
    meanwhile waits for those rather than making its own."""
    with _resources_lock:
        return _make_resources()


@lru_cache(maxsize=1)
def _make_resources():
    from qagen.knowledge.store import KnowledgeBaseStore

    settings = get_settings()
    redis = redis_from_settings(settings)
    return (redis, SessionStore(redis, settings.session_ttl_seconds, patience_seconds=REDIS_PATIENCE_SECONDS),
            KnowledgeBaseStore(redis), S3Storage.from_settings(settings))


class IndexTask(app.Task):
    """The index task's class: a build stopped at the hard time limit fails its base.

    Celery kills the pool process, acknowledges the message (it is not delivered again) and
    calls `on_failure` in the worker's main process; without this the base stayed `indexing`."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):  # type: ignore[no-untyped-def]
        if not isinstance(exc, TimeLimitExceeded):
            return
        from qagen.knowledge.indexing import fail_stopped_build, time_limit_message
        from qagen.knowledge.store import KnowledgeBaseStore

        kb_id = (kwargs or {}).get("kb_id") or (args[0] if args else None)
        if not kb_id:
            return
        settings = get_settings()
        client = redis_from_settings(settings)  # the main process: never the pool processes' clients
        try:
            error = time_limit_message(settings.task_hard_time_limit_seconds)
            failed = patiently(lambda: fail_stopped_build(client, KnowledgeBaseStore(client), kb_id, error),
                               REDIS_PATIENCE_SECONDS / 2)
            log.warning("knowledge base %s: indexing stopped at the hard time limit%s", kb_id,
                        "; the base is failed" if failed else " (a newer generation is indexing, or it was deleted)")
        except Exception:
            log.exception("knowledge base %s: could not record its build stopped at the hard time limit", kb_id)
        finally:
            client.close()


@app.task(name=INDEX_KNOWLEDGE_BASE, bind=True, base=IndexTask, max_retries=len(RETRY_DELAYS_SECONDS))
def index_knowledge_base(self, kb_id: str, seen_holder: str = "") -> None:
    """Index a knowledge base under its lease (qagen.knowledge.indexing); failures end on the base."""
    from qagen.knowledge.dense import Embedder
    from qagen.knowledge.indexing import begin_indexing, build_index, time_limit_message

    settings = get_settings()
    redis, _, knowledge, storage = _resources()
    start = patiently(lambda: begin_indexing(redis, knowledge, settings, kb_id, self.request.hostname),
                      REDIS_PATIENCE_SECONDS)
    if start.outcome == "busy":
        if start.holder == seen_holder:  # held across a whole lease ttl: that run is alive and finishes the build
            log.info("knowledge base %s: run %s is indexing it; this message drops out", kb_id, start.holder)
            return
        # A run that died leaves its lease for up to one ttl: look again once it has surely expired.
        # Each retry follows a new holder, so they are bounded by the worker-loss cap.
        raise self.retry(kwargs={"kb_id": kb_id, "seen_holder": start.holder},
                         countdown=settings.lease_ttl_seconds + settings.lease_renew_seconds,
                         max_retries=len(RETRY_DELAYS_SECONDS) + settings.max_worker_losses + 2)
    if start.outcome != "run":
        return
    # Leaving the block releases the lease: finished, retry, or abandon when the process is going
    # down (e.g. a warm shutdown's SystemExit), which the next run counts as a worker loss.
    with Run(start.lease, retry_grace_seconds=2 * settings.lease_ttl_seconds, what="knowledge base"):
        try:
            build_index(kb_id, knowledge, storage, note=start.lease.note, embedder=Embedder.from_settings(settings))
        except TransientError as exc:
            if self.request.retries < self.max_retries:
                raise self.retry(exc=exc, countdown=RETRY_DELAYS_SECONDS[min(self.request.retries, 2)])
            knowledge.fail_indexing(kb_id, start.generation, f"A service stayed unavailable while indexing "
                                    f"({exc}); upload the notes again later.")
        except SoftTimeLimitExceeded:
            knowledge.fail_indexing(kb_id, start.generation, time_limit_message(settings.task_soft_time_limit_seconds))
        except Exception:
            log.exception("knowledge base %s: indexing failed unexpectedly", kb_id)
            knowledge.fail_indexing(kb_id, start.generation, "An internal error stopped indexing; it has been "
                                    "logged. Upload the notes again, or try again later.")


@app.task(name=PROCESS_QUESTION_PAPER, bind=True, max_retries=len(RETRY_DELAYS_SECONDS))
def process_question_paper(self, session_id: str) -> None:
    settings = get_settings()
    redis, sessions, knowledge, storage = _resources()
    dispatch_quietly(redis, settings)  # a job taken from the queue: the dispatcher tops it up (docs/fairness.md)
    try:
        _process_question_paper(self, session_id, settings, redis, sessions, knowledge, storage)
    finally:
        dispatch_quietly(redis, settings)  # a job ended (or dropped out): its tenant's next may go


def _process_question_paper(self, session_id, settings, redis, sessions, knowledge, storage) -> None:  # type: ignore[no-untyped-def]
    try:
        session = sessions.fetch(session_id)
    except SessionNotFound:
        log.warning("session %s is gone (expired or deleted); dropping its job", session_id)
        return
    if session.status in (JobState.COMPLETE, JobState.FAILED, JobState.AWAITING_REVIEW):
        log.info("session %s already %s; nothing to do", session_id, session.status.value)
        # Repairs a crash between finishing the session and queueing its webhook.
        notify_if_finished(redis, sessions, session_id)
        return

    run = begin_run(redis, sessions, settings, session_id, self.request.hostname)
    if run is None:  # another run holds the lease, or the session just finished or failed
        notify_if_finished(redis, sessions, session_id)
        return
    try:
        with run:
            # The run's writes are fenced (qagen.jobs.fencing): refused once a newer run has the job.
            deleted = _process(self, run, session_id, session, settings, redis, sessions.for_run(run.fence), knowledge,
                               storage)
    except LeaseLost:
        return  # the run that holds the lease now finishes the job (and sends its webhook)
    if not deleted:
        notify_if_finished(redis, sessions, session_id)


def _process(self, run, session_id, session, settings, redis, sessions, knowledge, storage) -> bool:  # type: ignore[no-untyped-def]
    """Run the job; True if its session was deleted meanwhile (DELETE /api/sessions/<id>).

    A deleted session is fenced: its record and lease are gone, so the run stops at its next
    step (SessionNotFound, or LeaseLost from the heartbeat), and whatever it had stored is
    removed here. The record is checked after the objects were written, and the deletion
    removes the record before it lists the objects, so between the two nothing survives."""
    written: list[str] = []  # result objects stored so far, removed again if the job fails
    try:
        _run_job(self, run, session_id, session, settings, redis, sessions, knowledge, storage, written)
    except SessionNotFound:
        _discard(storage, written)
        log.info("session %s was deleted while its job ran; the job stopped and left nothing behind", session_id)
        return True
    except LeaseLost:
        # What it wrote is under its own run's keys and was never published: a newer run has the
        # job (or the session is gone). If S3 is away, the object sweep removes it later.
        _discard(storage, written)
        raise
    return False


def _run_job(self, run, session_id, session, settings, redis, sessions, knowledge, storage, written) -> None:  # type: ignore[no-untyped-def]
    from qagen.answering.engine import AnswerEngine
    from qagen.jobs.capacity import (
        record_job_duration,  # redis.asyncio with it: off the start-up path
    )
    from qagen.knowledge.indexing import load_ready_index
    from qagen.pipeline.run import finish_paper, parse_paper

    def record(stage: str, percent: int, message: str = "") -> None:
        run.check()  # a run that lost its lease stops at its next step
        sessions.update(session_id, stage=stage, progress=percent, message=message)

    def parsed(paper) -> None:  # type: ignore[no-untyped-def]
        run.check()
        sessions.record_parse(session_id, paper.warnings, paper.confidence)  # shown by the API from now on

    progress = timing_stages(redis, record)

    started = time.monotonic()
    try:
        sessions.mark_running(session_id, "parsing", 1, "starting")
        if session.reviewed_at and session.paper_key:  # checked by a person: answered as it is, no re-parse
            paper = Paper.from_dict(json.loads(storage.get(session.paper_key)))
            progress("parsing", REVIEW_PROGRESS, "answering the checked questions")
        else:
            paper = parse_paper(storage.get(session.input_key), session.filename, settings, progress)
            parsed(paper)
            if session.review:
                _stop_for_review(run, session_id, session, paper, sessions, storage, written)
                return
        index = None
        if session.knowledge_base_id:
            progress("answering", REVIEW_PROGRESS, "loading the knowledge base")
            index = load_ready_index(session.knowledge_base_id, knowledge, storage, settings.knowledge_wait_seconds)
        engine = AnswerEngine.from_settings(settings, redis_client=redis, knowledge=index, fence=run.fence)
        meter_engine(engine, redis, session.tenant)  # usage and the cost quota (qagen.jobs.accounting)
        result = finish_paper(paper, settings, progress, engine)
        progress("storing", 97, "saving the answered PDF")
        run.confirm()  # still ours: results are written by one run only
        prefix = object_prefix(session.tenant, session_id)
        outputs = run_prefix(prefix, run.fence.token)  # this run's own keys, published by mark_complete
        result_key, result_json_key = f"{outputs}answers.pdf", f"{outputs}result.json"
        written.append(result_json_key)
        storage.put(result_json_key, json.dumps(result_document(result.paper, engine), ensure_ascii=False).encode(), "application/json")
        written.append(result_key)
        storage.put(result_key, result.pdf, "application/pdf")
        progress("complete", 100, "")  # closes the timing of the storing stage
        # One write: a job stopped at the cost quota is complete with the message that says so.
        sessions.mark_complete(session_id, result_key, result_json_key, len(result.paper.questions),
                               message=stopped_message(result.paper, engine))
        _remove_losing_runs(storage, prefix, run.fence.token)
        record_job_duration(redis, time.monotonic() - started)
        record_outcome(redis, "complete")
    except (InputError, ModelError) as exc:
        sessions.mark_failed(session_id, str(exc))
        record_outcome(redis, "failed")
    except (TransientError, *REDIS_UNAVAILABLE) as exc:
        if self.request.retries < self.max_retries:
            delay = RETRY_DELAYS_SECONDS[self.request.retries]
            sessions.update(session_id, message=f"waiting to retry in {delay} s: {exc}")
            record_outcome(redis, "retried")
            raise self.retry(exc=exc, countdown=delay)
        _discard(storage, written)
        sessions.mark_failed(session_id, f"A service stayed unavailable after {self.max_retries} retries: {exc}")
        record_outcome(redis, "failed")
    except LeaseLost as exc:
        log.warning("session %s: run %s stopped (%s); the run that holds the lease carries on", session_id, run.token,
                    exc)
        raise
    except SoftTimeLimitExceeded:
        sessions.mark_failed(session_id, "The job took longer than the time limit; try a shorter paper.")
        record_outcome(redis, "failed")
    except SessionNotFound:
        raise  # deleted meanwhile: _process cleans up
    except Exception as exc:
        if not sessions.exists(session_id):  # deleted meanwhile, e.g. its upload removed under it
            raise SessionNotFound(f"No session {session_id!r}.") from exc
        log.exception("session %s failed unexpectedly", session_id)
        _discard(storage, written)
        sessions.mark_failed(session_id, "An internal error stopped this job; it has been logged. Please retry.")
        record_outcome(redis, "failed")


def _stop_for_review(run, session_id, session, paper, sessions, storage, written) -> None:  # type: ignore[no-untyped-def]
    """Store the parsed paper and leave the session awaiting review; the run ends, releasing its lease."""
    run.confirm()  # still ours: only the run that holds the lease stores the paper
    key = paper_key(session.tenant, session_id, time.time_ns())
    written.append(key)
    storage.put(key, json.dumps(paper.to_dict(), ensure_ascii=False).encode(), "application/json")
    stop_for_review(sessions, session_id, key, paper)
    record_outcome(sessions.client, "review")
    log.info("session %s: parsed %d questions; awaiting review", session_id, len(paper.questions))


def _remove_losing_runs(storage: S3Storage, prefix: str, winner: int) -> None:
    """After publishing: remove what earlier (stale) runs of the session wrote (best effort;
    the object sweep removes anything left, qagen.lifecycle)."""
    if winner <= FIRST_TOKEN:
        return  # tokens only grow: no other run of this session ever held one, so none wrote
    try:
        runs = prefix + RUNS_FOLDER  # only runs write there: no need to list the upload and the rest
        _discard(storage, losing_objects(storage.list_keys(runs), prefix, winner))
    except Exception as exc:
        log.warning("could not list the objects of the session's earlier runs under %s: %s", prefix, exc)


def _discard(storage: S3Storage, keys: list[str]) -> None:
    """Remove the result objects of a job that failed while storing them (best effort)."""
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            log.warning("could not remove the partial result %s", key)

"""A fresh worker with a model behind litellm: the pool process warms up in the background
(worker/warmup.py) and a job imports litellm while its paper is read (qagen.llm.loading);
neither may break a job, whether the job arrives before, during or after the warm-up."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from devtools.llm_stub import running_stub
from qagen.jobs.names import PROCESS_QUESTION_PAPER
from qagen.jobs.queue import make_celery
from qagen.jobs.records import Session, SessionStore, object_prefix


def paper() -> bytes:
    """Two questions, salted so that the answer cache never answers them."""
    salt = "".join("bcdfghjkmnpqrstv"[int(c, 16)] for c in uuid.uuid4().hex[:8])
    return (f"Physics\n\n1. ({salt}) State Newton's second law of motion. [2]\n"
            f"2. ({salt}) Explain why the sky appears blue. [3]\n").encode()


def submit(settings, redis_client, storage, queue: str) -> str:
    session_id = str(uuid.uuid4())
    key = f"{object_prefix('tests', session_id)}input/paper.txt"
    storage.put(key, paper(), "text/plain; charset=utf-8")
    SessionStore(redis_client, settings.session_ttl_seconds).create(
        Session(id=session_id, tenant="tests", filename="paper.txt", input_key=key))
    make_celery(settings.model_copy(update={"queue": queue})).send_task(
        PROCESS_QUESTION_PAPER, args=[session_id], task_id=session_id, queue=queue)
    return session_id


def wait_complete(redis_client, session_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = {k.decode(): v.decode() for k, v in redis_client.hgetall(f"qagen:session:{session_id}").items()}
        if record.get("status") in ("complete", "failed"):
            return record
        time.sleep(0.05)
    raise TimeoutError(f"session {session_id} did not finish")


@pytest.mark.parametrize("arrives", ["before the worker starts", "once it has warmed up"])
def test_a_fresh_worker_answers_with_a_remote_model_imported_in_the_background(stack, settings, redis_client,
                                                                               storage, arrives):
    queue = f"cold-{uuid.uuid4().hex[:8]}"
    name = f"cold-{uuid.uuid4().hex[:6]}"
    with running_stub() as base:
        env = {"QAGEN_MODEL": "openai/stub-model", "QAGEN_LLM_API_BASE": f"{base}/v1", "OPENAI_API_KEY": "sk-test",
               "QAGEN_QUEUE": queue}
        jobs = [submit(settings, redis_client, storage, queue)] if arrives.startswith("before") else []
        stack.start_service("worker", name=name, env=env, timeout=90)
        try:
            log = stack.log_path(name)
            if not jobs:
                deadline = time.monotonic() + 90
                while b"pool process warmed up in" not in log.read_bytes() and time.monotonic() < deadline:
                    time.sleep(0.1)
            jobs += [submit(settings, redis_client, storage, queue) for _ in range(2)]
            records = [wait_complete(redis_client, job) for job in jobs]
            calls = httpx.get(f"{base}/stats").json()["ok"]
        finally:
            stack.stop_service(name)
        text = log.read_text(errors="replace")

    assert [r["status"] for r in records] == ["complete"] * len(jobs), [r.get("error") for r in records]
    assert calls == 2 * len(jobs)  # every question went to the model
    assert "Traceback" not in text
    if arrives.startswith("before"):  # the job got there first: litellm came in while its paper was read
        assert "litellm imported in the background in" in text
    else:
        assert "(clients, pipeline, typesetting, litellm)" in text

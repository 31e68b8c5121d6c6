"""A job that crosses its tenant's monthly cost quota mid-run (qagen/quotas.py, qagen/jobs/accounting.py).

A worker of its own answers with a model priced in litellm's cost map (gpt-4o-mini) served by
the stub LLM (10 input and 20 output tokens a call), one call at a time. The tenant's quota is
below one call's cost: the first question is answered, the call crosses the quota, and the job
asks the model nothing more. It still completes: the answered question is kept in result.json
and the PDF, the others say why they are unanswered, and the session's message and result.json's
`usage` say the job stopped at the quota. The tenant's usage counts the call's tokens and cost.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx

from devtools.llm_stub import running_stub
from qagen import quotas, usage
from qagen.jobs import fairness
from qagen.jobs.queue import make_celery
from qagen.jobs.records import Session, SessionStore, key_for, object_prefix

PAPER = (b"Quiz\n1. Define velocity. [1]\n2. State Newton's first law. [2]\n3. What is inertia? [2]\n"
         b"4. Define momentum. [2]\n")


def wait_finished(redis_client, session_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = {k.decode(): v.decode() for k, v in redis_client.hgetall(key_for(session_id)).items()}
        if record.get("status") in ("complete", "failed"):
            return record
        time.sleep(0.05)
    raise TimeoutError(f"session {session_id} did not finish")


def test_a_job_over_the_cost_quota_keeps_what_it_answered_and_stops(stack, settings, redis_client, storage):
    tenant = f"costly-{uuid.uuid4().hex[:8]}"
    queue = f"cost-{uuid.uuid4().hex[:8]}"
    name = f"cost-{uuid.uuid4().hex[:6]}"
    quotas.set_limits(redis_client, tenant, monthly_cost=0.000001)
    ours = settings.model_copy(update={"queue": queue})
    with running_stub() as base:
        stack.start_service("worker", name=name, timeout=90,
                            env={"QAGEN_MODEL": "openai/gpt-4o-mini", "QAGEN_LLM_API_BASE": f"{base}/v1",
                                 "OPENAI_API_KEY": "sk-test", "QAGEN_QUEUE": queue, "QAGEN_LLM_CONCURRENCY": "1"})
        try:
            session_id = str(uuid.uuid4())
            key = f"{object_prefix(tenant, session_id)}input/quiz.txt"
            storage.put(key, PAPER, "text/plain; charset=utf-8")
            SessionStore(redis_client, settings.session_ttl_seconds).create(
                Session(id=session_id, tenant=tenant, filename="quiz.txt", input_key=key))
            fairness.enqueue(redis_client, make_celery(ours), ours, session_id, tenant)
            record = wait_finished(redis_client, session_id)
            calls = httpx.get(f"{base}/stats").json()["ok"]
        finally:
            stack.stop_service(name)

    assert record["status"] == "complete", record.get("error")
    assert record["message"].startswith("Stopped at the monthly model-cost quota: 3 question(s)")
    assert calls == 1
    result = json.loads(storage.get(record["result_json_key"]))
    answers = [q["answer"] for q in result["questions"]]
    assert answers[0]["status"] == "answered"
    assert all(a["text"].startswith("Not answered: this job stopped when the monthly model-cost quota")
               for a in answers[1:])
    assert result["usage"]["stopped"] is True and result["usage"]["stop_reason"] == "cost_quota"
    assert result["usage"]["model_calls"] == 1 and result["usage"]["input_tokens"] == 10
    assert result["usage"]["output_tokens"] == 20 and result["usage"]["cost_usd"] > 0.000001
    assert storage.get(record["result_key"]).startswith(b"%PDF")
    month = usage.this_month(redis_client, tenant)
    assert month["model_calls"] == 1 and month["cost_usd"] == result["usage"]["cost_usd"]

"""A paper job's usage and cost quota, as the worker's task applies them (qagen.usage, qagen.quotas).

- `meter_engine`: the answer engine counts its model calls, tokens and cost for the session
  (and, as each call returns, for its tenant's day in Redis), and stops calling the model
  once the tenant's monthly cost quota is reached.
- `result_document`: result.json is the answered paper plus `usage`: the job's figures, and
  whether it stopped at the quota (`stopped`, `stop_reason`).
- `stopped_message`: what the session's message says when it did.
"""

from __future__ import annotations

from typing import Any

import redis

from qagen.model import Paper
from qagen.quotas import cost_budget
from qagen.usage import Meter, tenant_meter


def meter_engine(engine: Any, client: redis.Redis, tenant: str) -> Meter:
    """Give `engine` (an AnswerEngine) the tenant's meter and cost budget; the meter."""
    engine.meter = tenant_meter(client, tenant)
    engine.budget = cost_budget(client, tenant)
    return engine.meter


def result_document(paper: Paper, engine: Any) -> dict:
    meter = engine.meter if isinstance(engine.meter, Meter) else Meter()
    return {**paper.to_dict(), "usage": {**meter.to_dict(), "stopped": bool(engine.stopped),
                                         "stop_reason": "cost_quota" if engine.stopped else None}}


def unanswered_for_quota(paper: Paper, reason: str) -> int:
    """How many items carry the quota's sentence (left unanswered when the job stopped)."""
    count = 0

    def walk(item) -> None:  # type: ignore[no-untyped-def]
        nonlocal count
        for part in item.parts:
            walk(part)
        if not item.parts and item.answer is not None and item.answer.text == reason:
            count += 1

    for question in paper.questions:
        for each in (question, *question.alternatives):
            walk(each)
    return count


def stopped_message(paper: Paper, engine: Any) -> str | None:
    """The session's message for a job stopped at the cost quota; None if it was not."""
    if not engine.stopped:
        return None
    left = unanswered_for_quota(paper, engine.stopped)
    return (f"Stopped at the monthly model-cost quota: {left} question(s) or part(s) left unanswered; the answers "
            "given before are in the PDF and result.json.")

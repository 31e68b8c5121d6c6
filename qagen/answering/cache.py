"""Answers cached by what determines them: model, prompt (question + retrieved sources).

A retried or redelivered job, or the same question asked again, reuses the answer instead
of paying for it twice. The retrieved sources are in the prompt, so a new knowledge-base
version changes the key by itself.
"""

from __future__ import annotations

import hashlib
import json

import redis

from qagen.model import Answer

KEY_PREFIX = "qagen:answer:"


def cache_key(model: str, messages: list[dict[str, str]]) -> str:
    digest = hashlib.sha256(json.dumps([model, messages], sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return KEY_PREFIX + digest


class AnswerCache:
    """Redis-backed when given a client; a plain dict otherwise (the CLI)."""

    def __init__(self, client: redis.Redis | None = None, ttl_seconds: int = 30 * 24 * 3600, fence=None):  # type: ignore[no-untyped-def]
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.local: dict[str, str] = {}
        # A job's run (qagen.jobs.fencing.Fence): its answers are cached only while it is the
        # current run; a stale run's put raises LeaseLost, which stops it.
        self.fence = fence

    def get(self, key: str) -> Answer | None:
        raw = self.client.get(key) if self.client is not None else self.local.get(key)
        return Answer.from_dict(json.loads(raw)) if raw else None

    def put(self, key: str, answer: Answer) -> None:
        from dataclasses import asdict

        raw = json.dumps(asdict(answer), ensure_ascii=False)
        if self.client is not None and self.fence is not None:
            from qagen.jobs.fencing import fenced_set

            fenced_set(self.client, self.fence, key, raw, self.ttl_seconds)
        elif self.client is not None:
            self.client.set(key, raw, ex=self.ttl_seconds)
        else:
            self.local[key] = raw

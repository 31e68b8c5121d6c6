"""Usage and cost per tenant: papers, model calls, input and output tokens, and model cost.

Every job counts its model calls, tokens and cost (`Meter`): cost from litellm's cost map
(the response's `response_cost`, else `litellm.completion_cost`), 0 for the offline engine
and for answers from the answer cache (no call). The job writes them into its result.json
(`usage`), and each call as it returns into Redis for its tenant (`record`), so a tenant's
month-to-date cost is current while its jobs run (the cost quota, qagen.quotas, reads it).
Papers are counted when an upload is accepted (qagen.quotas.reserve_paper).

Redis, per tenant (UTC days and months):
- `qagen:usage:<tenant>:day:<YYYY-MM-DD>` HASH, kept `DAY_TTL_SECONDS`;
- `qagen:usage:<tenant>:month:<YYYY-MM>` HASH, the same fields summed over the month;
- `qagen:usage:<tenant>:total` HASH, since the start (Prometheus counters read it);
- `qagen:usage:tenants` SET: tenants with any usage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import redis

log = logging.getLogger(__name__)

PREFIX = "qagen:usage:"
TENANTS_KEY = "qagen:usage:tenants"
FIELDS = ("papers", "model_calls", "input_tokens", "output_tokens", "cost_usd")
DAY_TTL_SECONDS = 400 * 24 * 3600
MONTH_TTL_SECONDS = 800 * 24 * 3600


def day_of(now: float) -> date:
    return datetime.fromtimestamp(now, timezone.utc).date()


def day_key(tenant: str, day: date) -> str:
    return f"{PREFIX}{tenant}:day:{day.isoformat()}"


def month_key(tenant: str, day: date) -> str:
    return f"{PREFIX}{tenant}:month:{day.strftime('%Y-%m')}"


def total_key(tenant: str) -> str:
    return f"{PREFIX}{tenant}:total"


def keys_for(tenant: str, now: float | None = None) -> tuple[str, str, str]:
    """The day's, the month's and the total's hash of `tenant` at `now`."""
    today = day_of(time.time() if now is None else now)
    return day_key(tenant, today), month_key(tenant, today), total_key(tenant)


def record(client: redis.Redis, tenant: str, now: float | None = None, **amounts: float) -> None:
    """Add `amounts` (of FIELDS) to the tenant's day, month and total."""
    unknown = set(amounts) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown usage fields {sorted(unknown)}")
    day, month, total = keys_for(tenant, now)
    pipe = client.pipeline(transaction=False)
    for name, value in amounts.items():
        if not value:
            continue
        for key in (day, month, total):
            if name == "cost_usd":
                pipe.hincrbyfloat(key, name, float(value))
            else:
                pipe.hincrby(key, name, int(value))
    pipe.expire(day, DAY_TTL_SECONDS)
    pipe.expire(month, MONTH_TTL_SECONDS)
    pipe.sadd(TENANTS_KEY, tenant)
    pipe.execute()


def _figures(raw: dict) -> dict:
    text = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in (raw or {}).items()}
    out: dict = {name: int(text.get(name) or 0) for name in FIELDS if name != "cost_usd"}
    out["cost_usd"] = round(float(text.get("cost_usd") or 0.0), 6)
    return out


def by_day(client: redis.Redis, tenant: str, first: date, last: date) -> list[dict]:
    """The tenant's usage on each day from `first` to `last` (inclusive), zeros included."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    pipe = client.pipeline(transaction=False)
    for day in days:
        pipe.hgetall(day_key(tenant, day))
    return [{"date": day.isoformat(), **_figures(raw)} for day, raw in zip(days, pipe.execute())]


def this_month(client: redis.Redis, tenant: str, now: float | None = None) -> dict:
    return _figures(client.hgetall(keys_for(tenant, now)[1]))


def totals(client: redis.Redis) -> dict[str, dict]:
    """Every tenant's usage since the start (for Prometheus)."""
    tenants = sorted(t.decode() if isinstance(t, bytes) else t for t in client.smembers(TENANTS_KEY))
    pipe = client.pipeline(transaction=False)
    for tenant in tenants:
        pipe.hgetall(total_key(tenant))
    return {tenant: _figures(raw) for tenant, raw in zip(tenants, pipe.execute())}


def response_figures(response, litellm=None) -> tuple[int, int, float]:  # type: ignore[no-untyped-def]
    """(input tokens, output tokens, cost in USD) of a litellm completion response; the cost
    from litellm's cost map, 0 when the model is not in it."""
    usage = getattr(response, "usage", None)
    tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
    tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
    cost = (getattr(response, "_hidden_params", None) or {}).get("response_cost")
    if cost is None and litellm is not None:
        try:
            cost = litellm.completion_cost(completion_response=response)
        except Exception:  # a model missing from the cost map: its calls are counted, at no cost
            cost = 0.0
    return tokens_in, tokens_out, float(cost or 0.0)


@dataclass
class Meter:
    """One job's model calls, tokens and cost; each call is also passed to `sink` (the
    tenant's figures in Redis) when there is one. Safe to add from several threads."""

    sink: Callable[..., None] | None = None
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, input_tokens: int = 0, output_tokens: int = 0, cost_usd: float = 0.0) -> None:
        """One model call."""
        with self._lock:
            self.model_calls += 1
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
            self.cost_usd += cost_usd
        if self.sink is not None:
            try:
                self.sink(model_calls=1, input_tokens=input_tokens, output_tokens=output_tokens, cost_usd=cost_usd)
            except redis.RedisError as exc:  # the job's own figures (result.json) still count it
                log.warning("could not record a model call's usage for the tenant: %s", exc)

    def to_dict(self) -> dict:
        return {"model_calls": self.model_calls, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": round(self.cost_usd, 6)}


def tenant_meter(client: redis.Redis, tenant: str) -> Meter:
    """A job's meter whose every call is added to `tenant`'s figures in Redis as it returns."""
    return Meter(sink=lambda **amounts: record(client, tenant, **amounts))

"""Per-tenant monthly quotas: papers uploaded, and model cost (UTC calendar months).

Set by an operator: `qagen tenants set TENANT --monthly-papers N --monthly-cost USD` (0
removes a limit), kept in `qagen:tenant-limits:<tenant>`. Both are checked when an upload
arrives (`reserve_paper`, one script that also counts the paper, so two uploads racing for
the last paper of a quota cannot both pass): over either, the upload is refused (the API's
429 `quota_exceeded`, naming the limit and when it resets). The cost limit is also checked
by a running job before each model call (`CostBudget`): a job that crosses it finishes the
calls in flight and answers nothing more; what it answered is kept, rendered and marked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

import redis

from qagen.usage import DAY_TTL_SECONDS, MONTH_TTL_SECONDS, TENANTS_KEY, keys_for, this_month

LIMITS_PREFIX = "qagen:tenant-limits:"
PAPERS, COST = "monthly_papers", "monthly_cost"


@dataclass(frozen=True)
class Limits:
    monthly_papers: int | None = None
    monthly_cost: float | None = None


@dataclass
class QuotaExceeded(Exception):
    limit: str  # PAPERS or COST
    value: float
    used: float
    resets_at: datetime

    def __str__(self) -> str:
        return message(self.limit, self.value, self.used, self.resets_at)


def message(limit: str, value: float, used: float, resets_at: datetime) -> str:
    when = resets_at.strftime("%Y-%m-%d %H:%M UTC")
    if limit == PAPERS:
        return (f"This month's paper quota is used up: {int(used)} of {int(value)} papers uploaded. "
                f"It resets on {when}; ask your administrator to raise it.")
    return (f"This month's model-cost quota is used up: ${used:.2f} of ${value:.2f} spent. "
            f"It resets on {when}; ask your administrator to raise it.")


def limits_key(tenant: str) -> str:
    return LIMITS_PREFIX + tenant


def get_limits(client: redis.Redis, tenant: str) -> Limits:
    papers, cost = client.hmget(limits_key(tenant), PAPERS, COST)
    return Limits(int(papers) if papers else None, float(cost) if cost else None)


def set_limits(client: redis.Redis, tenant: str, *, monthly_papers: int | None = None,
               monthly_cost: float | None = None) -> Limits:
    """Change the given limits (None: leave it; 0: remove it)."""
    for name, value in ((PAPERS, monthly_papers), (COST, monthly_cost)):
        if value is None:
            continue
        if value < 0:
            raise ValueError(f"{name} must be 0 (no limit) or more, not {value}.")
        if value == 0:
            client.hdel(limits_key(tenant), name)
        else:
            client.hset(limits_key(tenant), name, repr(value))
    return get_limits(client, tenant)


def resets_at(now: float | None = None) -> datetime:
    """The start of the next UTC month."""
    today = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc)
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return datetime(year, month, 1, tzinfo=timezone.utc)


# KEYS: limits, month, day, total, tenants set. ARGV: tenant, day ttl, month ttl.
# Over a limit: {limit, value, used}; else the paper is counted: {'ok'}.
_RESERVE = """
local papers_limit = tonumber(redis.call('hget', KEYS[1], 'monthly_papers') or '')
local cost_limit = tonumber(redis.call('hget', KEYS[1], 'monthly_cost') or '')
local papers = tonumber(redis.call('hget', KEYS[2], 'papers') or '0')
local cost = tonumber(redis.call('hget', KEYS[2], 'cost_usd') or '0')
if papers_limit and papers >= papers_limit then return {'monthly_papers', tostring(papers_limit), tostring(papers)} end
if cost_limit and cost >= cost_limit then return {'monthly_cost', tostring(cost_limit), tostring(cost)} end
for i = 2, 4 do redis.call('hincrby', KEYS[i], 'papers', 1) end
redis.call('expire', KEYS[3], ARGV[2])
redis.call('expire', KEYS[2], ARGV[3])
redis.call('sadd', KEYS[5], ARGV[1])
return {'ok'}
"""


def reserve_paper(client: redis.Redis, tenant: str, now: float | None = None) -> None:
    """Count one uploaded paper for `tenant`, or raise QuotaExceeded (nothing counted)."""
    day, month, total = keys_for(tenant, now)
    reply = client.eval(_RESERVE, 5, limits_key(tenant), month, day, total, TENANTS_KEY, tenant,
                        DAY_TTL_SECONDS, MONTH_TTL_SECONDS)
    parts = [p.decode() if isinstance(p, bytes) else p for p in reply]
    if parts[0] != "ok":
        raise QuotaExceeded(parts[0], float(parts[1]), float(parts[2]), resets_at(now))


def release_paper(client: redis.Redis, tenant: str, now: float | None = None) -> None:
    """Uncount a paper whose upload failed after `reserve_paper`."""
    pipe = client.pipeline(transaction=False)
    for key in keys_for(tenant, now):
        pipe.hincrby(key, "papers", -1)
    pipe.execute()


@dataclass
class CostBudget:
    """A running job's check before each model call: None while the tenant's month-to-date
    cost is under its limit (or it has none), else the sentence its unanswered items carry."""

    client: redis.Redis
    tenant: str
    limit: float

    def __call__(self) -> str | None:
        used = this_month(self.client, self.tenant)["cost_usd"]
        if used < self.limit:
            return None
        return (f"Not answered: this job stopped when the monthly model-cost quota (${self.limit:.2f}) was "
                f"reached (${used:.2f} spent); the questions answered before are kept. The quota resets on "
                f"{resets_at().strftime('%Y-%m-%d')} UTC.")


def cost_budget(client: redis.Redis, tenant: str) -> CostBudget | None:
    limit = get_limits(client, tenant).monthly_cost
    return CostBudget(client, tenant, limit) if limit else None

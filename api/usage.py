"""GET /api/v1/usage: the caller's tenant's usage and cost by day, and its monthly quotas;
the quota check of an upload (429 `quota_exceeded`). Figures: qagen/usage.py, qagen/quotas.py."""

from __future__ import annotations

import logging
import math
import time
from datetime import date, datetime, timezone

from apiflask import APIBlueprint, Schema
from apiflask.fields import Date, DateTime, Float, Integer, List, Nested, String
from flask import g

from api.auth import require_key
from api.errors import ApiError
from api.services import services
from qagen import quotas, usage

log = logging.getLogger(__name__)
bp = APIBlueprint("usage", __name__, tag="Service")
MAX_DAYS = 366


class UsageQuery(Schema):
    first = Date(data_key="from", load_default=None,
                 metadata={"description": "First day (UTC), inclusive; default: the first of this month."})
    last = Date(data_key="to", load_default=None, metadata={"description": "Last day (UTC), inclusive; default: today."})


class UsageFigures(Schema):
    papers = Integer(required=True, metadata={"description": "Papers uploaded (accepted uploads)."})
    model_calls = Integer(required=True, metadata={"description": "Calls to the model (cached answers make none)."})
    input_tokens = Integer(required=True)
    output_tokens = Integer(required=True)
    cost_usd = Float(required=True, metadata={"description": "Model cost in US dollars, from litellm's cost map "
                                                             "(0 for the offline engine)."})


class UsageDay(UsageFigures):
    date = Date(required=True)


class QuotasOut(Schema):
    monthly_papers = Integer(required=True, allow_none=True, metadata={"description": "Papers a month; null: none."})
    monthly_cost_usd = Float(required=True, allow_none=True, metadata={"description": "Model cost a month; null: "
                                                                                       "none."})
    this_month = Nested(UsageFigures, required=True, metadata={"description": "Used so far this UTC month."})
    resets_at = DateTime(required=True, metadata={"description": "When this month's figures start again from 0."})


class UsageOut(Schema):
    tenant = String(required=True)
    first = Date(required=True, data_key="from")
    last = Date(required=True, data_key="to")
    days = List(Nested(UsageDay), required=True, metadata={"description": "One entry per day, oldest first."})
    total = Nested(UsageFigures, required=True, metadata={"description": "The days' sum."})
    quotas = Nested(QuotasOut, required=True)


@bp.get("/usage")
@require_key
@bp.input(UsageQuery, location="query", arg_name="query")
@bp.output(UsageOut, description="Usage by day, the range's total, and the monthly quotas")
@bp.doc(security="BearerAuth", responses={400: "`from` after `to`, or more than 366 days",
                                          401: "Missing or invalid API key", 429: "Rate limited"},
        operation_id="get_usage")
def get_usage(query: dict):
    """The tenant's papers, model calls, tokens and cost by day (UTC)"""
    today = datetime.now(timezone.utc).date()
    last = query.get("last") or today
    first = query.get("first") or last.replace(day=1)
    if first > last:
        raise ApiError(400, "bad_range", f"`from` ({first}) is after `to` ({last}).")
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiError(400, "bad_range", f"Ask for at most {MAX_DAYS} days at a time ({first} to {last} is "
                                         f"{(last - first).days + 1}).")
    client = services().redis
    days = usage.by_day(client, g.tenant, first, last)
    total = {name: sum(day[name] for day in days) for name in usage.FIELDS}
    total["cost_usd"] = round(total["cost_usd"], 6)
    limits = quotas.get_limits(client, g.tenant)
    return {"tenant": g.tenant, "first": first, "last": last, "days": [{**d, "date": date.fromisoformat(d["date"])}
                                                                        for d in days],
            "total": total, "quotas": {"monthly_papers": limits.monthly_papers,
                                       "monthly_cost_usd": limits.monthly_cost,
                                       "this_month": usage.this_month(client, g.tenant),
                                       "resets_at": quotas.resets_at()}}


def reserve(tenant: str, input_key: str) -> None:
    """Count an upload's paper against the tenant's monthly quotas, or answer 429 `quota_exceeded`
    (the stored upload is removed)."""
    s = services()
    try:
        quotas.reserve_paper(s.redis, tenant)
    except quotas.QuotaExceeded as exc:
        try:
            s.storage.delete(input_key)
        except Exception:
            log.warning("could not remove the refused upload %s", input_key)
        wait = max(1, math.ceil(exc.resets_at.timestamp() - time.time()))
        raise ApiError(429, "quota_exceeded", str(exc), {"Retry-After": str(wait)},
                       detail={"limit": exc.limit, "value": exc.value, "used": exc.used,
                               "resets_at": exc.resets_at.isoformat().replace("+00:00", "Z")}) from exc


def unreserve(tenant: str) -> None:
    """An upload that failed after `reserve`: its paper is not counted (best effort)."""
    try:
        quotas.release_paper(services().redis, tenant)
    except Exception:
        log.warning("could not uncount a failed upload of tenant %s", tenant)


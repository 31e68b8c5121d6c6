"""Operators' commands for tenants' scheduling, quotas and usage (docs/fairness.md, docs/usage.md):
`qagen tenants set`, `qagen tenants show` and `qagen usage`. They talk to Redis directly."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import click


def _redis():
    from qagen.redis_client import redis_from_settings
    from qagen.settings import get_settings

    return redis_from_settings(get_settings())


def _tenant(name: str) -> str:
    from qagen.apikeys import validate_tenant

    try:
        return validate_tenant(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _describe(client, tenant: str) -> dict:  # type: ignore[no-untyped-def]
    from qagen import quotas, usage
    from qagen.jobs import fairness
    from qagen.settings import get_settings

    limits = quotas.get_limits(client, tenant)
    own = fairness.max_running(client, tenant)
    return {"tenant": tenant,
            "max_running": own if own is not None else get_settings().tenant_max_running,
            "max_running_source": "tenant" if own is not None else "QAGEN_TENANT_MAX_RUNNING",
            "monthly_papers": limits.monthly_papers, "monthly_cost_usd": limits.monthly_cost,
            "this_month": usage.this_month(client, tenant),
            "resets_at": quotas.resets_at().isoformat().replace("+00:00", "Z")}


def register(main: click.Group, tenants: click.Group) -> None:
    @tenants.command("set")
    @click.argument("tenant")
    @click.option("--max-running", type=click.IntRange(min=0), default=None, metavar="N",
                  help="Jobs of TENANT queued or running at once; 0: back to QAGEN_TENANT_MAX_RUNNING.")
    @click.option("--monthly-papers", type=click.IntRange(min=0), default=None, metavar="N",
                  help="Papers TENANT may upload per UTC month; 0: no limit.")
    @click.option("--monthly-cost", type=click.FloatRange(min=0), default=None, metavar="USD",
                  help="Model cost TENANT may spend per UTC month, in US dollars; 0: no limit.")
    def tenants_set(tenant: str, max_running: int | None, monthly_papers: int | None,
                    monthly_cost: float | None) -> None:
        """Set TENANT's scheduling cap and monthly quotas (only the options given change)."""
        from qagen import quotas
        from qagen.jobs import fairness

        tenant = _tenant(tenant)
        if max_running is None and monthly_papers is None and monthly_cost is None:
            raise click.UsageError("Give at least one of --max-running, --monthly-papers, --monthly-cost.")
        client = _redis()
        if max_running is not None:
            fairness.set_max_running(client, tenant, max_running or None)
        quotas.set_limits(client, tenant, monthly_papers=monthly_papers, monthly_cost=monthly_cost)
        click.echo(json.dumps(_describe(client, tenant), indent=2))

    @tenants.command("show")
    @click.argument("tenant")
    def tenants_show(tenant: str) -> None:
        """Print TENANT's scheduling cap, monthly quotas and this month's usage as JSON."""
        click.echo(json.dumps(_describe(_redis(), _tenant(tenant)), indent=2))

    @main.command("usage")
    @click.argument("tenant")
    @click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="First day (UTC); default: the first of this month.")
    @click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (UTC); default: today.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def usage_command(tenant: str, first: datetime | None, last: datetime | None, as_json: bool) -> None:
        """Print TENANT's papers, model calls, tokens and cost by day (UTC)."""
        from qagen import usage

        tenant = _tenant(tenant)
        end: date = last.date() if last else datetime.now(timezone.utc).date()
        start: date = first.date() if first else end.replace(day=1)
        if start > end:
            raise click.BadParameter(f"--from ({start}) is after --to ({end}).")
        days = usage.by_day(_redis(), tenant, start, end)
        total = {name: sum(d[name] for d in days) for name in usage.FIELDS}
        if as_json:
            click.echo(json.dumps({"tenant": tenant, "from": start.isoformat(), "to": end.isoformat(), "days": days,
                                   "total": total}, indent=2))
            return
        click.echo(f"{'date':<10}  {'papers':>6}  {'calls':>7}  {'tokens in':>10}  {'tokens out':>10}  {'cost USD':>10}")
        for row in [*days, {"date": "total", **total}]:
            click.echo(f"{row['date']:<10}  {row['papers']:>6}  {row['model_calls']:>7}  {row['input_tokens']:>10}  "
                       f"{row['output_tokens']:>10}  {row['cost_usd']:>10.4f}")

"""Usage and quotas per tenant (qagen/usage.py, qagen/quotas.py, api/usage.py), on the real stack:
an upload counts a paper and its model calls (GET /api/v1/usage, result.json, `qagen usage`, the
metrics); `qagen tenants set` sets the quotas; an upload over the paper quota is 429
`quota_exceeded`, naming the limit and when it resets; a bad range is 400 `bad_range`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from qagen.apikeys import ApiKeyStore
from tests.conftest import REPO
from tests.waiting import wait_for_session


def paper(tag: str) -> bytes:
    return (f"Quiz {tag}\n1. Define velocity ({tag}). [1]\n2. Solve 2x + 3 = 11 ({tag}). [2]\n"
            f"3. State Newton's first law ({tag}). [2]\n").encode()


@pytest.fixture
def tenant(stack, redis_client):
    name = f"usage-{uuid.uuid4().hex[:8]}"
    key = ApiKeyStore(redis_client).create(name)
    with httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        yield c, name


def qagen(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qagen.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **stack.layout.settings_overrides()})


def upload(c: httpx.Client) -> httpx.Response:
    return c.post("/api/v1/upload", files={"file": ("quiz.txt", paper(uuid.uuid4().hex[:8]), "text/plain")})


def today() -> date:
    return datetime.now(timezone.utc).date()


def test_a_paper_s_model_calls_are_counted_for_its_session_and_its_tenant_s_day(tenant, stack):
    c, name = tenant
    response = upload(c)
    assert response.status_code == 202
    session_id = response.json()["session_id"]
    wait_for_session(c, session_id)

    result = c.get(f"/api/v1/sessions/{session_id}/result.json").json()
    # The offline engine: one call per question (none cached: the paper is salted), no tokens, no cost.
    assert result["usage"] == {"model_calls": 3, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0,
                               "stopped": False, "stop_reason": None}

    usage = c.get("/api/v1/usage").json()
    assert usage["tenant"] == name and usage["to"] == today().isoformat()
    assert usage["from"] == today().replace(day=1).isoformat()
    assert usage["days"][-1] == {"date": today().isoformat(), "papers": 1, "model_calls": 3, "input_tokens": 0,
                                 "output_tokens": 0, "cost_usd": 0.0}
    assert usage["total"]["papers"] == 1 and usage["total"]["model_calls"] == 3
    assert usage["quotas"]["monthly_papers"] is None and usage["quotas"]["this_month"]["papers"] == 1

    cli = qagen(stack, "usage", name, "--json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["total"] == usage["total"]

    text = httpx.get(stack.layout.metrics_url, timeout=10).text
    samples = {(s.name, s.labels.get("tenant")): s.value for f in text_string_to_metric_families(text)
               for s in f.samples}
    assert samples[("qagen_tenant_papers_total", name)] == 1
    assert samples[("qagen_tenant_model_calls_total", name)] == 3
    assert samples[("qagen_tenant_cost_usd_total", name)] == 0


def test_an_upload_over_the_monthly_paper_quota_is_refused_with_the_limit_and_when_it_resets(tenant, stack):
    c, name = tenant
    configured = qagen(stack, "tenants", "set", name, "--monthly-papers", "1")
    assert configured.returncode == 0, configured.stderr
    assert json.loads(configured.stdout)["monthly_papers"] == 1

    assert upload(c).status_code == 202
    refused = upload(c)

    assert refused.status_code == 429
    error = refused.json()["error"]
    first_of_next_month = (today().replace(day=28) + timedelta(days=4)).replace(day=1)
    assert error["code"] == "quota_exceeded"
    assert error["detail"] == {"limit": "monthly_papers", "value": 1, "used": 1,
                               "resets_at": f"{first_of_next_month.isoformat()}T00:00:00Z"}
    assert "1 of 1 papers" in error["message"] and first_of_next_month.isoformat() in error["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 31 * 24 * 3600
    # The refused upload is not counted; raising the quota lets the next one in.
    assert c.get("/api/v1/usage").json()["quotas"]["this_month"]["papers"] == 1
    assert qagen(stack, "tenants", "set", name, "--monthly-papers", "0").returncode == 0
    assert upload(c).status_code == 202


def test_usage_ranges_are_checked(tenant):
    c, _ = tenant
    week = c.get("/api/v1/usage", params={"from": "2026-01-01", "to": "2026-01-07"}).json()
    assert [d["date"] for d in week["days"]] == [f"2026-01-0{n}" for n in range(1, 8)]
    assert week["total"]["papers"] == 0

    backwards = c.get("/api/v1/usage", params={"from": "2026-02-01", "to": "2026-01-01"})
    too_long = c.get("/api/v1/usage", params={"from": "2024-01-01", "to": "2026-01-01"})
    not_a_date = c.get("/api/v1/usage", params={"from": "yesterday"})

    assert (backwards.status_code, backwards.json()["error"]["code"]) == (400, "bad_range")
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (400, "bad_range")
    assert (not_a_date.status_code, not_a_date.json()["error"]["code"]) == (400, "validation_error")

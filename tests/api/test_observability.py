"""Prometheus metrics and JSON logs, read from the running stack."""

from __future__ import annotations

import json

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import EXAMPLE_PAPER
from tests.waiting import wait_for_session


def scrape(stack) -> dict[str, list]:
    text = httpx.get(stack.layout.metrics_url, timeout=10).text
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_metrics_report_api_latency_and_the_worker_fleet(client, stack):
    session_id = client.post("/api/v1/upload", files={"file": ("p.pdf", EXAMPLE_PAPER.read_bytes())}).json()["session_id"]
    wait_for_session(client, session_id)

    families = scrape(stack)

    latency = [s for s in families["qagen_api_request_duration_seconds"] if s.name.endswith("_count")]
    assert any(s.labels["route"] == "/api/v1/upload" and s.labels["status"] == "202" for s in latency)
    stages = {s.labels["stage"] for s in families["qagen_stage_duration_seconds"] if s.name.endswith("_count")}
    assert {"parsing", "answering", "rendering", "storing"} <= stages
    assert any(s.labels == {"outcome": "complete"} and s.value >= 1 for s in families["qagen_jobs"])
    assert "qagen_queue_depth" in families and "qagen_jobs_in_flight" in families


def test_metrics_are_served_on_their_own_port_only_pooling_every_api_process(client, anonymous, stack):
    """The public port (the one the Ingress routes to) has no /metrics (issue 16); the metrics
    port is served by gunicorn's master, which serves no request itself: what it counts is
    read from the worker processes' files."""
    assert anonymous.get("/metrics").status_code == 404
    before = _count(scrape(stack), "/api/v1/capacity")
    with httpx.Client(base_url=stack.layout.api_url, headers=client.headers, timeout=30) as c:
        for _ in range(12):  # new connections: gunicorn hands them to either process
            assert c.get("/api/v1/capacity", headers={"Connection": "close"}).status_code == 200

    assert _count(scrape(stack), "/api/v1/capacity") - before == 12


def _count(families: dict[str, list], route: str) -> float:
    return sum(s.value for s in families["qagen_api_request_duration_seconds"]
               if s.name.endswith("_count") and s.labels["route"] == route)


def test_api_logs_are_json_lines_carrying_the_session_id(client, stack):
    session_id = client.post("/api/v1/upload", files={"file": ("p.txt", b"1. Define force. [1]\n")}).json()["session_id"]
    wait_for_session(client, session_id)
    client.get(f"/api/v1/sessions/{session_id}/result.json")
    client.get("/api/v1/sessions/not-a-session")  # logs nothing special, but must not break logging

    lines = [line for line in stack.log_path("web").read_text().splitlines() if line.startswith("{")]

    records = [json.loads(line) for line in lines]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    mine = [r for r in records if r.get("session_id") == session_id]
    assert {r["path"] for r in mine} >= {f"/api/v1/sessions/{session_id}", f"/api/v1/sessions/{session_id}/result.json"}
    assert all(r["status"] == 200 and r["ms"] >= 0 for r in mine)


def test_a_key_sent_as_access_token_never_reaches_the_logs(client, api_key, stack, anonymous):
    session_id = client.post("/api/v1/upload", files={"file": ("p.txt", b"1. Define force. [1]\n")}).json()["session_id"]
    wait_for_session(client, session_id)

    anonymous.get(f"/api/v1/download/{session_id}", params={"access_token": api_key})

    assert api_key not in stack.log_path("web").read_text()


def test_worker_logs_are_json_lines_and_a_jobs_lines_carry_its_session_id(client, stack):
    session_id = client.post("/api/v1/upload", files={"file": ("p.txt", b"1. Define force. [1]\n")}).json()["session_id"]
    wait_for_session(client, session_id)

    records = [json.loads(line) for line in stack.log_path("worker").read_text().splitlines() if line.startswith("{")]

    assert any(r.get("session_id") == session_id for r in records)

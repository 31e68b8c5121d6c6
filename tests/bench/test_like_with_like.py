"""The benchmarks compare like with like (issue 20): pass checks, order, the peer's S3 client, provenance."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.bench_api import (
    failure_note,
    interleaved_order,
    peer_s3_client,
    runs_passed,
    wrk_failures,
)
from bench.common import Row, metric_key, metrics, production_default, provenance

CLEAN = {"requests": 100, "accepted": 100, "not_accepted": 0, "connect_errors": 0, "read_errors": 0,
         "write_errors": 0, "timeouts": 0}


@pytest.mark.parametrize("key", ["not_accepted", "connect_errors", "read_errors", "write_errors", "timeouts"])
def test_every_kind_of_wrk_error_fails_the_run(key):
    run = dict(CLEAN, **{key: 2})
    assert wrk_failures(run) == 2
    assert not runs_passed([run])
    assert key.replace("_", " ") + " 2" in failure_note([run])


def test_one_failing_run_fails_the_level_whatever_the_median():
    assert runs_passed([CLEAN, CLEAN, CLEAN])
    assert not runs_passed([CLEAN, dict(CLEAN, timeouts=1), CLEAN])
    assert not runs_passed([])
    assert failure_note([CLEAN]) == ""
    assert failure_note([CLEAN], peer_errors=3) == "3 peer request(s) failed"


def test_api_and_peer_take_turns_going_first():
    orders = [interleaved_order(repeat, level) for repeat in range(3) for level in range(3)]
    assert all(set(order) == {"api", "peer"} for order in orders)
    assert [interleaved_order(0, level)[0] for level in range(3)] == ["api", "peer", "api"]
    assert [interleaved_order(repeat, 0)[0] for repeat in range(3)] == ["api", "peer", "api"]


class _Sent(Exception):
    pass


def _put_headers(client) -> dict:  # type: ignore[no-untyped-def]
    """The headers `client` would send with a 1 MB PutObject (stopped just before it is sent)."""
    seen = {}

    def before_send(request, **_):  # type: ignore[no-untyped-def]
        seen.update({key.lower(): value for key, value in request.headers.items()})
        raise _Sent

    client.meta.events.register("before-send.s3", before_send)
    with pytest.raises(_Sent):
        client.put_object(Bucket="b", Key="k", Body=b"x" * 1_000_000, ContentType="application/pdf")
    client.meta.events.unregister("before-send.s3", before_send)
    return seen


def test_the_peer_puts_without_expect_100_continue_like_qagen_storage():
    import boto3.session

    from qagen.settings import Settings
    from qagen.storage import S3Storage

    settings = Settings(s3_endpoint="http://127.0.0.1:1")
    plain = boto3.session.Session().client("s3", endpoint_url=settings.s3_endpoint, region_name="us-east-1",
                                           aws_access_key_id="a", aws_secret_access_key="b")
    assert _put_headers(plain).get("expect") in (b"100-continue", "100-continue")  # what the peer sent before
    assert "expect" not in _put_headers(peer_s3_client(settings))
    assert "expect" not in _put_headers(S3Storage.from_settings(settings).client)


def test_production_settings_come_from_the_defaults():
    assert production_default("worker_max_tasks_per_child") == 50
    assert production_default("parse_memory_mb") > 0


def test_metrics_are_keyed_stably_and_uniquely():
    rows = [Row("API uploads/s, 1 MiB PDF, 4 connection(s)", 10.0, "/s", 20.0, "peer", 0.5, ">= 0.67x", False),
            Row("  p99 latency, 4 connection(s)", 5.0, "ms"), Row("  p99 latency, 4 connection(s)", 6.0, "ms")]
    out = metrics(rows, {0: "api", 1: "api", 2: "api"})
    assert list(out) == ["api-uploads-s-1-mib-pdf-4-connection-s", "p99-latency-4-connection-s",
                         "p99-latency-4-connection-s-2"]
    first = out["api-uploads-s-1-mib-pdf-4-connection-s"]
    assert (first["value"], first["peer"], first["ratio"], first["met"], first["module"]) == (10.0, 20.0, 0.5, False,
                                                                                            "api")
    assert metric_key("  parse ms/page (12 text PDFs)") == "parse-ms-page-12-text-pdfs"


def test_provenance_names_the_commit_measured():
    repo = Path(__file__).resolve().parents[2]
    head = subprocess.run(["git", "rev-parse", "HEAD"], check=False, cwd=repo, capture_output=True, text=True).stdout.strip()
    measured = provenance()
    assert measured["commit"] == head
    assert isinstance(measured["dirty"], bool) and measured["time"].endswith("+00:00")


def test_memory_figures_are_medians_over_the_runs_at_every_depth():
    from bench.bench_memory import median_figures

    runs = [{"job_seconds": s, "idle": {"main": {"rss": r, "pss": r / 2}}, "label": "x"}
            for s, r in [(3.0, 100.0), (1.0, 300.0), (2.0, 200.0)]]
    assert median_figures(runs) == {"job_seconds": 2.0, "idle": {"main": {"rss": 200.0, "pss": 100.0}}, "label": "x"}

"""End-to-end overhead: upload to signed URL, minus the pipeline's own time.

    .venv/bin/python bench/bench_e2e.py [--jobs 20]

One gunicorn API (2 gthread workers, as `make up`) and one qagen worker (concurrency 1,
offline engine) on the shared Redis and SeaweedFS. Small jobs (a one-question PDF, salted
so the answer cache never hits) are submitted one at a time, as a client would:

    POST /api/v1/upload -> GET /api/v1/sessions/ID every 10 ms until complete -> GET /api/v1/download/ID (302)

end to end = from sending the upload to holding the signed URL (the 302's Location).
pipeline   = the worker's own measured time for parse + answer + diagrams + render
             (qagen.jobs.stats stage sums in Redis, read before and after each job).
overhead   = end to end - pipeline: HTTP, storing the upload, the session record, the queue,
             the worker fetching the paper, progress records, storing the PDF and JSON,
             marking the session complete, the status polls and signing the URL.

Beside it, on the same stack: a bare Celery round trip (a no-op task on a bare worker,
send -> result observed through Celery's Redis result backend) and a bare boto3
put_object of the same PDF, through the S3 client qagen's API and worker use
(qagen.storage: no `Expect: 100-continue`, as theirs). Target: overhead <= 50 ms (median).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.common import Row, percentile, print_table  # noqa: E402
from bench.papers import pdf_paper  # noqa: E402
from bench.stack import PIPELINE_STAGES, BenchStack, run_standalone  # noqa: E402

POLL_SECONDS = 0.010


def one_job(client: httpx.Client, stack: BenchStack) -> dict:
    data = pdf_paper(1, uuid.uuid4().hex[:8])
    before = stack.stage_seconds()
    sent, sent_wall = time.perf_counter(), time.time()
    response = client.post("/api/v1/upload", files={"file": ("one.pdf", data, "application/pdf")})
    response.raise_for_status()
    accepted = time.perf_counter()
    session_id = response.json()["session_id"]
    polls = 0
    while True:
        status = client.get(f"/api/v1/sessions/{session_id}").json()
        polls += 1
        if status["status"] in ("complete", "failed"):
            break
        time.sleep(POLL_SECONDS)
    if status["status"] != "complete":
        raise RuntimeError(f"job failed: {status.get('error')}")
    seen_complete = time.perf_counter()
    download = client.get(f"/api/v1/download/{session_id}")
    if download.status_code != 302 or "X-Amz-Signature" not in download.headers.get("location", ""):
        raise RuntimeError(f"no signed URL: {download.status_code} {download.text[:200]}")
    got_url = time.perf_counter()
    after = stack.stage_seconds()
    record_ = {k.decode(): v.decode() for k, v in stack.redis.hgetall(f"qagen:session:{session_id}").items()}
    pipeline = sum(after[s] - before[s] for s in PIPELINE_STAGES)
    e2e = got_url - sent
    started_at, finished_at = float(record_["started_at"]), float(record_["finished_at"])
    return {
        "bytes": len(data),
        "e2e_ms": e2e * 1000,
        "pipeline_ms": pipeline * 1000,
        "overhead_ms": (e2e - pipeline) * 1000,
        # Where the overhead goes (wall clocks of one machine):
        "upload_request_ms": (accepted - sent) * 1000,
        "queued_ms": (started_at - sent_wall) * 1000 - (accepted - sent) * 1000,
        "in_task_not_pipeline_ms": ((finished_at - started_at) - pipeline) * 1000,
        "storing_stage_ms": (after["storing"] - before["storing"]) * 1000,
        "finish_to_seen_ms": (sent_wall + (seen_complete - sent) - finished_at) * 1000,
        "download_request_ms": (got_url - seen_complete) * 1000,
        "polls": polls,
    }


def bare_round_trips(stack: BenchStack, count: int) -> list[float]:
    from celery import Celery

    worker = stack.start_worker("bench.bare_app", concurrency=1)
    try:
        worker.wait_ready()
        producer = Celery("bare-producer", broker=stack.settings.redis_url, backend=stack.settings.redis_url)
        times = []
        for n in range(count + 3):
            started = time.perf_counter()
            producer.send_task("bare.noop", queue=worker.queue).get(timeout=10)
            if n >= 3:  # connections and the result subscription warm
                times.append((time.perf_counter() - started) * 1000)
        return times
    finally:
        worker.stop()


def bare_puts(stack: BenchStack, size: int, count: int) -> list[float]:
    """boto3 put_object with the client qagen stores uploads with (qagen/storage.py: its botocore
    Config and no `Expect: 100-continue`), so the floor is what our own puts cost, not more."""
    import os

    from qagen.storage import S3Storage

    s = stack.settings
    client = S3Storage.from_settings(s).client
    body = os.urandom(size)
    times = []
    for n in range(count + 3):
        started = time.perf_counter()
        client.put_object(Bucket=s.s3_bucket, Key=f"bench/bare-put/{uuid.uuid4().hex}.pdf", Body=body,
                          ContentType="application/pdf")
        if n >= 3:
            times.append((time.perf_counter() - started) * 1000)
    return times


def run(stack: BenchStack, jobs: int = 20, bare_count: int = 50) -> tuple[list[Row], dict]:
    queue = f"bench-e2e-{uuid.uuid4().hex[:6]}"
    worker = stack.start_worker("worker", queue=queue, concurrency=1)
    with stack.api(QAGEN_QUEUE=queue) as api:
        worker.wait_ready()
        headers = {"Authorization": f"Bearer {stack.api_key}"}
        with httpx.Client(base_url=api.layout.api_url, headers=headers, timeout=120) as client:
            for _ in range(2):  # the first job imports the pipeline in the worker; not what this measures
                one_job(client, stack)
            results = [one_job(client, stack) for _ in range(jobs)]
    worker.stop()
    size = results[0]["bytes"]
    round_trips = bare_round_trips(stack, bare_count)
    puts = bare_puts(stack, size, bare_count)

    med = {key: statistics.median(r[key] for r in results) for key in results[0] if key != "bytes"}
    overheads = [r["overhead_ms"] for r in results]
    rt, put = statistics.median(round_trips), statistics.median(puts)
    print_table(f"End to end, one job at a time ({jobs} jobs, {size} B PDF, status polled every "
                f"{POLL_SECONDS * 1000:.0f} ms; medians, ms)",
                ["figure", "median", "p90"],
                [[key, round(med[key], 1), round(percentile([r[key] for r in results], 90), 1)] for key in med]
                + [["bare Celery round trip (no-op, result backend)", round(rt, 2), round(percentile(round_trips, 90), 2)],
                   [f"bare S3 put_object ({size} B)", round(put, 2), round(percentile(puts, 90), 2)]])
    overhead = med["overhead_ms"]
    rows = [
        Row("end-to-end overhead: upload to signed URL minus pipeline", overhead, "ms", rt + put,
            "bare Celery round trip + bare S3 put", overhead / (rt + put), "<= 50 ms median", overhead <= 50,
            note=f"p90 {percentile(overheads, 90):.1f} ms; pipeline {med['pipeline_ms']:.0f} ms"),
        Row("  bare Celery round trip (same Redis)", rt, "ms"),
        Row(f"  bare S3 put ({size / 1024:.1f} KB, same SeaweedFS, qagen's S3 client)", put, "ms"),
        Row("  of the overhead: status polling (finish seen) + download", med["finish_to_seen_ms"]
            + med["download_request_ms"], "ms"),
    ]
    details = {"jobs": results, "medians_ms": med, "bare_round_trip_ms": round_trips, "bare_put_ms": puts,
               "poll_seconds": POLL_SECONDS}
    return rows, details


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args(argv)
    return run_standalone("e2e", lambda stack: run(stack, args.jobs))


if __name__ == "__main__":
    raise SystemExit(main())

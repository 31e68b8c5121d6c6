"""Direct-to-bucket uploads (docs/direct-uploads.md) beside the multipart upload and the peer.

    .venv/bin/python bench/bench_direct_upload.py [--quick]

Three ways to get a paper into a queued session, each by N client threads (1 and 4) for a fixed
number of uploads, small (64 KiB) and large (8 MiB) PDFs:

- multipart: POST /api/v1/upload through the API (gunicorn as `make up` runs it, limits out of
  reach, jobs sent to a queue nobody consumes);
- direct: POST /api/v1/uploads/direct, the file POSTed to SeaweedFS with the form, then POST
  .../session (the API HEADs, reads 64 KiB, copies server-side, deletes, creates, enqueues);
- peer: what the API must do at the least, without HTTP or Flask: boto3 put_object of the file
  with qagen's S3 client (no `Expect: 100-continue`), the session record, Celery send_task
  (`BenchStack.submit`).

Figures: uploads/s (median over repeats), each upload's latency (median and p90 over all), and
the API's CPU per upload (its gunicorn processes' CPU time over the run / uploads): the bytes a
direct upload does not carry through the API. The modes alternate in every repeat, the order
rotating, so a change in the machine's load falls on all three.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, percentile, print_table  # noqa: E402
from bench.papers import pdf_paper  # noqa: E402

SIZES = {"64 KiB": 64 << 10, "8 MiB": 8 << 20}
MODES = ("multipart", "direct", "peer")
PEER_NAME = "boto3 put + session + Celery send"


def _multipart(http, data: bytes) -> None:
    http.post("/api/v1/upload", files={"file": ("paper.pdf", data, "application/pdf")}).raise_for_status()


def _direct(http, bucket, data: bytes) -> None:
    form = http.post("/api/v1/uploads/direct")
    form.raise_for_status()
    form = form.json()
    sent = bucket.post(form["url"], data=form["fields"], files={"file": ("paper.pdf", data)})
    sent.raise_for_status()
    http.post(f"/api/v1/uploads/direct/{form['upload_id']}/session", json={"filename": "paper.pdf"}
              ).raise_for_status()


def _one_run(mode: str, stack, url: str, celery, queue: str, data: bytes, threads: int, count: int) -> dict:
    """`count` uploads by `threads` threads: wall time and each upload's latency (s)."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_thread = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]

    def work(n: int) -> None:
        headers = {"Authorization": f"Bearer {stack.api_key}"}
        # One connection pool to the API and one (without the key) to the bucket per thread, as a client keeps.
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http, httpx.Client(timeout=60) as bucket:
            for _ in range(n):
                started = time.perf_counter()
                try:
                    if mode == "multipart":
                        _multipart(http, data)
                    elif mode == "direct":
                        _direct(http, bucket, data)
                    else:
                        stack.submit(celery, data, "paper.pdf", queue)
                except Exception as exc:  # counted: a run with any failure is reported as such
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)

    pool = [threading.Thread(target=work, args=(n,)) for n in per_thread]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    return {"wall": wall, "latencies": latencies, "errors": errors, "rate": len(latencies) / wall}


def run(stack, *, repeats: int = 3, levels: tuple[int, ...] = (1, 4), counts: dict[str, int] | None = None
        ) -> tuple[list[Row], dict]:
    from bench.stack import cpu_seconds, process_tree

    counts = counts or {"64 KiB": 60, "8 MiB": 12}
    queue = f"bench-sink-{uuid.uuid4().hex[:6]}"  # nobody consumes it
    celery = stack.celery(queue)
    expected_mib = sum(repeats * len(levels) * 3 * counts[name] * (size >> 20) * 2 for name, size in SIZES.items())
    stack.grow_s3_volumes(expected_mib // 64 + 8)
    results: dict = {}
    with stack.api(QAGEN_QUEUE=queue) as api:
        url = api.layout.api_url
        workers = process_tree(api.processes["web"].pid)[1:]
        warm = pdf_paper(1, pad_to=SIZES["64 KiB"])
        for size_name, size in SIZES.items():
            data = pdf_paper(1, salt=size_name, pad_to=size)
            for threads in levels:
                # Warm every gunicorn worker and both paths, then measure.
                _one_run("multipart", stack, url, celery, queue, warm, threads, 2 * threads)
                _one_run("direct", stack, url, celery, queue, warm, threads, 2 * threads)
                runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
                for repeat in range(repeats):
                    order = MODES[repeat % 3:] + MODES[:repeat % 3]
                    for mode in order:
                        before = sum(cpu_seconds(pid) for pid in workers)
                        one = _one_run(mode, stack, url, celery, queue, data, threads, counts[size_name])
                        one["api_cpu_ms"] = (sum(cpu_seconds(pid) for pid in workers) - before) * 1000 / max(
                            1, len(one["latencies"]))
                        runs[mode].append(one)
                results[(size_name, threads)] = {mode: _summary(rs) for mode, rs in runs.items()}
    return _rows(results), {"runs": {f"{size} x{threads}": value for (size, threads), value in results.items()},
                            "repeats": repeats, "counts": counts, "peer": PEER_NAME}


def _summary(runs: list[dict]) -> dict:
    latencies = [v * 1000 for r in runs for v in r["latencies"]]
    return {"uploads_per_s": statistics.median(r["rate"] for r in runs),
            "p50_ms": statistics.median(latencies) if latencies else float("nan"),
            "p90_ms": percentile(latencies, 90), "api_cpu_ms": statistics.median(r["api_cpu_ms"] for r in runs),
            "errors": sum(len(r["errors"]) for r in runs),
            "first_error": next((r["errors"][0] for r in runs if r["errors"]), "")}


def _rows(results: dict) -> list[Row]:
    table, rows = [], []
    for (size, threads), modes in results.items():
        for mode, s in modes.items():
            table.append([size, threads, mode, s["uploads_per_s"], s["p50_ms"], s["p90_ms"],
                          s["api_cpu_ms"] if mode != "peer" else "-", s["errors"]])
        peer, direct, multipart = modes["peer"], modes["direct"], modes["multipart"]
        failed = direct["errors"] or multipart["errors"] or peer["errors"]
        note = f"errors: {direct['first_error'] or multipart['first_error'] or peer['first_error']}" if failed else ""
        rows.append(Row(f"direct upload {size}, {threads} client(s): uploads/s", direct["uploads_per_s"], "/s",
                        peer["uploads_per_s"], PEER_NAME, direct["uploads_per_s"] / peer["uploads_per_s"],
                        note=note or f"multipart {multipart['uploads_per_s']:.3g}/s"))
        rows.append(Row(f"direct upload {size}, {threads} client(s): p50 latency", direct["p50_ms"], "ms",
                        peer["p50_ms"], PEER_NAME, direct["p50_ms"] / peer["p50_ms"],
                        note=f"multipart {multipart['p50_ms']:.3g} ms"))
        rows.append(Row(f"direct upload {size}, {threads} client(s): API CPU per upload", direct["api_cpu_ms"], "ms",
                        multipart["api_cpu_ms"], "multipart upload", direct["api_cpu_ms"] / multipart["api_cpu_ms"]))
    print_table("Direct uploads beside the multipart upload and the peer (medians)",
                ["size", "clients", "mode", "uploads/s", "p50 ms", "p90 ms", "API CPU ms/upload", "errors"], table)
    return rows


def bench(ctx) -> tuple[list[Row], dict]:  # type: ignore[no-untyped-def]
    """For bench/__main__.py."""
    if ctx.quick:
        return run(ctx.stack(), repeats=1, levels=(4,), counts={"64 KiB": 24, "8 MiB": 6})
    return run(ctx.stack())


def main(argv: list[str] | None = None) -> int:
    from bench.stack import run_standalone

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        return run_standalone("direct_upload", lambda stack: run(stack, repeats=1, levels=(4,),
                                                                 counts={"64 KiB": 24, "8 MiB": 6}))
    return run_standalone("direct_upload", run)


if __name__ == "__main__":
    raise SystemExit(main())

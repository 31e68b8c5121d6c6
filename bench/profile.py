"""Profiles behind docs/performance.md's explanations (not part of `make bench`).

    .venv/bin/python -m bench.profile api     [--seconds 8] [--connections 4]   # needs py-spy
    .venv/bin/python -m bench.profile task    [--jobs 20]
    .venv/bin/python -m bench.profile scaling [--seconds 8]                     # needs py-spy
    .venv/bin/python -m bench.profile s3put   [--seconds 10]
    .venv/bin/python -m bench.profile gc      [--jobs 30]

api      Where a gunicorn worker's CPU goes per 1 MiB upload: py-spy (--gil: only samples
         holding the GIL, i.e. Python on a CPU) on both API workers while wrk uploads, the
         samples grouped by what they were inside, times the measured CPU per upload.
task     The worker's task in-process on the real Redis and SeaweedFS (one-question PDFs):
         its time by pipeline stage, and the time and count of S3 calls and Redis round
         trips, the part of the end-to-end overhead that happens inside the task.
scaling  py-spy on a 2-process worker running a batch of ten-question PDFs: the pool
         processes' own profile (what the offline engine spends its CPU on).
s3put    1 MiB put_object from 4 threads against SeaweedFS, as qagen.storage makes them
         (botocore sends `Expect: 100-continue` with every PutObject and waits up to 1 s
         for the interim answer) and without that header: the API's ~1 s upload stalls.
gc       full garbage collections in a warm pipeline process (~750,000 objects), before and
         after gc.freeze(): the occasional +0.45 s job.
py-spy is a dev tool: `.venv/bin/pip install py-spy==0.4.3`.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.papers import pdf_paper  # noqa: E402
from bench.stack import BenchStack, cpu_seconds, process_tree  # noqa: E402

API_GROUPS = [  # (label, a frame that marks it), first match wins, innermost work counted once
    ("S3 put_object (boto3)", "S3Storage.put"),
    ("Celery send_task (kombu, Redis)", "Celery.send_task"),
    ("multipart parsing (werkzeug) incl. reading the body", "Request._load_form_data"),
    ("session record (Redis)", "SessionStore.create"),
    ("rate limits (flask-limiter, Redis)", "Limiter."),
    ("API key lookup (Redis)", "current_tenant"),
    ("content sniffing", "sniff_kind"),
]


def _py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    found = str(local) if local.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy==0.4.3")
    return found


def record(pids: list[int], seconds: float, folder: Path, gil: bool = True, rate: int = 250) -> list[Path]:
    outputs, spies = [], []
    for pid in pids:
        out = folder / f"py-spy-{pid}.txt"
        command = [_py_spy(), "record", "-p", str(pid), "-r", str(rate), "-d", str(int(seconds)), "-f", "raw",
                   "-o", str(out), "--nonblocking"] + (["--gil"] if gil else [])
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        outputs.append(out)
    for spy in spies:
        spy.wait(seconds + 30)
    return [out for out in outputs if out.exists()]


def stacks(paths: list[Path]):
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                frames, count = line.rsplit(" ", 1)
                yield frames.split(";"), int(count)


def grouped(paths: list[Path], groups: list[tuple[str, str]]) -> tuple[dict[str, int], int]:
    counts: collections.Counter = collections.Counter()
    total = 0
    for frames, count in stacks(paths):
        total += count
        label = "other (Flask, apiflask/webargs, gunicorn, JSON, logging)"
        for name, marker in groups:
            if any(marker in frame for frame in frames):
                label = name
                break
        counts[label] += count
    return dict(counts.most_common()), total


def top_frames(paths: list[Path], n: int = 25, contains: str = "") -> list[tuple[str, float]]:
    inclusive: collections.Counter = collections.Counter()
    total = 0
    for frames, count in stacks(paths):
        total += count
        for frame in set(frames):
            if contains in frame:
                inclusive[frame.split(" (")[0] + " (" + frame.split(" (")[-1].split("/")[-1]] += count
    return [(frame, count / total) for frame, count in inclusive.most_common(n)] if total else []


def profile_api(seconds: int, connections: int) -> None:
    from bench.bench_api import SIZE, multipart, run_wrk

    stack = BenchStack()
    folder = Path(tempfile.mkdtemp(prefix="qagen-profile-"))
    try:
        body, boundary = multipart(pdf_paper(1, pad_to=SIZE))
        body_file = folder / "body.bin"
        body_file.write_bytes(body)
        with stack.api(QAGEN_QUEUE=f"profile-sink-{uuid.uuid4().hex[:6]}") as api:
            url = api.layout.api_url
            run_wrk(url, stack.api_key, body_file, boundary, connections, 2)  # warm
            workers = process_tree(api.processes["web"].pid)[1:]
            cpu = sum(cpu_seconds(pid) for pid in workers)
            spy = subprocess.Popen([sys.executable, "-c", "import sys, pathlib; sys.path.insert(0, sys.argv[1]);"
                                    "from bench.profile import record; record([int(p) for p in sys.argv[2].split(',')],"
                                    " float(sys.argv[3]), pathlib.Path(sys.argv[4]))",
                                    str(Path(__file__).resolve().parent.parent), ",".join(map(str, workers)),
                                    str(seconds), str(folder)])
            time.sleep(0.3)
            result = run_wrk(url, stack.api_key, body_file, boundary, connections, seconds)
            spy.wait(seconds + 60)
            cpu = sum(cpu_seconds(pid) for pid in workers) - cpu
        per_request = cpu * 1000 / max(1, result["accepted"])
        paths = sorted(folder.glob("py-spy-*.txt"))
        counts, total = grouped(paths, API_GROUPS)
        print(f"API under wrk, {connections} connection(s), {seconds} s: {result['rps']:.1f} uploads/s, "
              f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms; gunicorn workers' CPU "
              f"{per_request:.1f} ms per upload; {total} GIL samples\n")
        print("| where the API worker's CPU goes (py-spy --gil) | share | ms per upload |\n| --- | ---: | ---: |")
        for label, count in counts.items():
            print(f"| {label} | {count / total:.0%} | {per_request * count / total:.2f} |")
        print("\nheaviest frames (inclusive):")
        for frame, share in top_frames(paths, 30):
            print(f"  {share:6.1%}  {frame}")
    finally:
        stack.close()
        shutil.rmtree(folder, ignore_errors=True)


def profile_task(jobs: int) -> None:
    stack = BenchStack()
    try:
        queue = f"profile-{uuid.uuid4().hex[:6]}"
        os.environ.update(stack.env(QAGEN_QUEUE=queue))
        import redis
        import redis.client

        from qagen import storage
        from qagen.settings import get_settings

        get_settings.cache_clear()
        import worker.tasks as tasks

        spent: dict[str, float] = collections.defaultdict(float)
        calls: collections.Counter = collections.Counter()

        def timed(cls, name: str, label: str) -> None:
            original = getattr(cls, name)

            def wrapper(self, *args, **kwargs):
                started = time.perf_counter()
                try:
                    return original(self, *args, **kwargs)
                finally:
                    spent[label] += time.perf_counter() - started
                    calls[label] += 1

            setattr(cls, name, wrapper)

        timed(storage.S3Storage, "_call", "S3 calls")
        timed(redis.Redis, "execute_command", "Redis commands")
        timed(redis.client.Pipeline, "execute", "Redis pipelines")
        celery = stack.celery(queue)

        def job() -> dict:
            session_id = stack.submit(celery, pdf_paper(1, uuid.uuid4().hex[:6]), "one.pdf", queue)
            before = stack.stage_seconds()
            spent.clear()
            calls.clear()
            started = time.perf_counter()
            tasks.process_question_paper.run(session_id)
            total = time.perf_counter() - started
            after = stack.stage_seconds()
            out = {"task": total * 1000, **{f"stage {k}": (after[k] - before[k]) * 1000 for k in after}}
            out.update({f"{k} (ms)": v * 1000 for k, v in spent.items()})
            out.update({f"{k} (count)": v for k, v in calls.items()})
            return out

        for _ in range(3):
            job()
        results = [job() for _ in range(jobs)]
        print(f"The task in-process, one-question PDF, {jobs} jobs (medians):\n")
        print("| figure | median |\n| --- | ---: |")
        for key in results[0]:
            print(f"| {key} | {statistics.median(r.get(key, 0) for r in results):.2f} |")
    finally:
        stack.close()


def profile_scaling(seconds: int) -> None:
    from bench.bench_scaling import QUESTIONS

    stack = BenchStack()
    folder = Path(tempfile.mkdtemp(prefix="qagen-profile-"))
    try:
        worker = stack.start_worker("worker", concurrency=2)
        worker.wait_ready()
        celery = stack.celery(worker.queue)
        ids = [stack.submit(celery, pdf_paper(QUESTIONS, uuid.uuid4().hex[:6]), "ten.pdf", worker.queue) for _ in range(4)]
        stack.wait_sessions(ids, 120)
        pool = worker.pids()[1:]
        papers = int(seconds / 0.2) + 10  # more than two processes can finish in the window
        ids = [stack.submit(celery, pdf_paper(QUESTIONS, uuid.uuid4().hex[:6]), "ten.pdf", worker.queue)
               for _ in range(papers)]
        paths = record(pool, seconds, folder, gil=False)
        print(f"2 pool processes, {seconds} s of a batch of ten-question PDFs; heaviest frames (inclusive, "
              f"all samples):\n")
        for frame, share in top_frames(paths, 40):
            print(f"  {share:6.1%}  {frame}")
        for session_id in ids:
            stack.redis.delete(f"qagen:session:{session_id}")
    finally:
        stack.close()
        shutil.rmtree(folder, ignore_errors=True)


def profile_s3put(seconds: int, threads: int = 4) -> None:
    """1 MiB put_object from `threads` threads, as S3Storage makes them, with and without `Expect: 100-continue`."""
    import threading

    from botocore.handlers import add_expect_header

    from qagen.storage import S3Storage

    stack = BenchStack()
    try:
        data = os.urandom(1 << 20)
        for label in ("as qagen.storage sends it (Expect: 100-continue)", "without the Expect header"):
            storage = S3Storage.from_settings(stack.settings, timeout_seconds=2.0, attempts=2)  # the API's client
            if label.startswith("without"):
                storage.client.meta.events.unregister("before-call.s3.PutObject", add_expect_header)
            latencies: list[float] = []
            retries = [0]

            def loop() -> None:
                end = time.time() + seconds
                while time.time() < end:
                    started = time.perf_counter()
                    response = storage.client.put_object(Bucket=storage.bucket, Key=f"profile/{uuid.uuid4().hex}",
                                                         Body=data)
                    latencies.append((time.perf_counter() - started) * 1000)
                    retries[0] += response["ResponseMetadata"].get("RetryAttempts", 0)

            workers = [threading.Thread(target=loop) for _ in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            latencies.sort()
            print(f"{label}: {len(latencies)} puts in {seconds} s x {threads} threads, p50 "
                  f"{latencies[len(latencies) // 2]:.1f} ms, p99 {latencies[int(len(latencies) * 0.99)]:.1f} ms, max "
                  f"{latencies[-1]:.0f} ms, {sum(x > 900 for x in latencies)} over 900 ms, {retries[0]} retries")
    finally:
        stack.close()


def profile_gc(jobs: int) -> None:
    """Full (generation 2) garbage collections in a warm pipeline process, before and after gc.freeze()."""
    import gc

    from qagen.answering.engine import AnswerEngine
    from qagen.pipeline.run import run_pipeline
    from qagen.settings import Settings

    settings = Settings()
    run_pipeline(pdf_paper(10, "warm"), "ten.pdf", settings, engine=AnswerEngine.from_settings(settings))
    pauses: list[float] = []
    started: dict[str, float] = {}

    def watch(phase: str, info: dict) -> None:
        if info["generation"] == 2:
            if phase == "start":
                started["t"] = time.perf_counter()
            else:
                pauses.append((time.perf_counter() - started["t"]) * 1000)

    gc.callbacks.append(watch)
    for label in ("as the worker runs now", "after gc.freeze()"):
        if label.startswith("after"):
            gc.freeze()
        pauses.clear()
        times = []
        for _ in range(jobs):
            begun = time.perf_counter()
            run_pipeline(pdf_paper(10, uuid.uuid4().hex[:8]), "ten.pdf", settings,
                         engine=AnswerEngine.from_settings(settings))
            times.append((time.perf_counter() - begun) * 1000)
        print(f"{label}: {len(gc.get_objects()):,} objects tracked; {jobs} ten-question papers, median "
              f"{statistics.median(times):.0f} ms, slowest {max(times):.0f} ms; full collections: "
              f"{', '.join(f'{p:.0f} ms' for p in pauses) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["api", "task", "scaling", "s3put", "gc"])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    {"api": lambda: profile_api(args.seconds, args.connections), "task": lambda: profile_task(args.jobs),
     "scaling": lambda: profile_scaling(args.seconds), "s3put": lambda: profile_s3put(args.seconds),
     "gc": lambda: profile_gc(args.jobs)}[args.what]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

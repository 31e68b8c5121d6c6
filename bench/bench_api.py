"""API upload throughput and latency under load (wrk), beside a bare boto3 put + Celery send.

    .venv/bin/python bench/bench_api.py [--seconds 8] [--levels 1,4,16]

The API runs as `make up` runs it (gunicorn, 2 gthread workers x 16 threads) with its rate
limits set out of reach, sending jobs to a queue nobody consumes (no worker competes for
the 2 cores). wrk POSTs a 1 MiB PDF as multipart/form-data to /api/v1/upload with N
connections for a fixed time (bench/upload.lua); every answer must be 202.

The peer does what the API must do for an upload, without HTTP or Flask: boto3
`put_object` of the same 1 MiB and Celery `send_task` to the same Redis, N at a time
(threads), in as many processes as gunicorn has workers (2; one for N=1), for the same
time. Its S3 client is the API's own (`qagen.storage.S3Storage.from_settings(...).client`):
the same botocore configuration and no `Expect: 100-continue` on puts, so the two sides
talk to SeaweedFS alike. The peer runs while the API is up (idle), and the two alternate
at every level (API then peer, then peer then API, ...), so a change in the machine's load
falls on both. A run passes only if every request was answered 202: wrk's connect, read,
write and timeout errors and any other status count as failures, in every repeat (not
their median). Target: the API adds <= 50% (throughput >= peer / 1.5 and p99 <= 1.5 x peer p99).
wrk reports latencies corrected for coordinated omission (`wrk_corrected`); the peer's are
corrected the same way, and both uncorrected views are printed beside them: the peer's raw
p99 and the API's own (the upload times it logs), with the count of requests over 100 ms.
Also the RSS/PSS of a gunicorn worker process, idle (median of readings before the load)
and at its peak under this load (median over the repeats of each repeat's peak).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, percentile, print_table  # noqa: E402
from bench.papers import pdf_paper  # noqa: E402

SIZE = 1 << 20
GUNICORN_WORKERS = 2  # devtools/stack.py starts `gunicorn --workers 2`
PEER_NAME = "boto3 put (qagen's S3 client) + Celery send"


def multipart(pdf: bytes) -> tuple[bytes, str]:
    boundary = "qagenbench" + uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"paper.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()
    return head + pdf + f"\r\n--{boundary}--\r\n".encode(), boundary


def run_wrk(url: str, key: str, body_file: Path, boundary: str, connections: int, seconds: int) -> dict:
    env = dict(os.environ, QAGEN_BENCH_BODY=str(body_file), QAGEN_BENCH_BOUNDARY=boundary, QAGEN_BENCH_KEY=key)
    threads = min(connections, 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "20s",
               "-s", str(Path(__file__).with_name("upload.lua")), url]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 60)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk said: {out.stdout[-800:]} {out.stderr[-800:]}")
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["accepted"] / (result["duration_us"] / 1e6)
    result["p50_ms"], result["p99_ms"] = result["p50_us"] / 1000, result["p99_us"] / 1000
    return result


WRK_ERRORS = ("connect_errors", "read_errors", "write_errors", "timeouts")


def wrk_failures(result: dict) -> int:
    """Requests of one wrk run that were not answered 202: other statuses (upload.lua) and wrk's
    socket connect, read and write errors and timeouts."""
    return int(result.get("not_accepted", 0)) + sum(int(result.get(key, 0)) for key in WRK_ERRORS)


def runs_passed(runs: list[dict]) -> bool:
    """Every request of every run answered 202 (a failing run is not hidden by the others' median)."""
    return bool(runs) and all(wrk_failures(run) == 0 for run in runs)


def failure_note(api_runs: list[dict], peer_errors: int = 0) -> str:
    """What failed, for the summary's notes ("" when nothing did)."""
    parts = []
    failures = sum(wrk_failures(run) for run in api_runs)
    if failures:
        kinds = {key: sum(int(run.get(key, 0)) for run in api_runs) for key in ("not_accepted", *WRK_ERRORS)}
        parts.append(f"{failures} API request(s) failed over {len(api_runs)} runs ("
                     + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in kinds.items() if v) + ")")
    if peer_errors:
        parts.append(f"{peer_errors} peer request(s) failed")
    return "; ".join(parts)


def interleaved_order(repeat: int, level_index: int) -> tuple[str, str]:
    """Which side runs first for this (repeat, level): alternating, so each goes first half the time."""
    return ("api", "peer") if (repeat + level_index) % 2 == 0 else ("peer", "api")


def idle_memory(pids: list[int], readings: int = 5, interval: float = 0.2) -> dict[int, dict[str, float]]:
    """Each process's RSS and PSS, the median of a few readings."""
    import statistics

    from bench.stack import memory_mib

    samples: dict[int, list[dict[str, float]]] = {pid: [] for pid in pids}
    for n in range(readings):
        if n:
            time.sleep(interval)
        for pid in pids:
            samples[pid].append(memory_mib(pid))
    return {pid: {key: statistics.median(s[key] for s in values) for key in values[0]}
            for pid, values in samples.items()}


def app_upload_ms(log_path: Path, offset: int) -> list[float]:
    """Upload times the API logged itself (api/metrics.py: before_request to after_request) past `offset`."""
    times = []
    with log_path.open("rb") as log:
        log.seek(offset)
        for line in log.read().decode(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("path") == "/api/v1/upload" and "ms" in entry:
                times.append(float(entry["ms"]))
    return times


def median_run(runs: list[dict]) -> dict:
    """Each figure's median over the runs (numbers); lists and text from the first run."""
    import statistics

    merged = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = statistics.median(run[key] for run in runs)
    return merged


def wrk_corrected(latencies_ms: list[float], runtime_s: float, connections: int) -> list[float]:
    """The latencies the way wrk reports its own, so the peer's p99 compares like with like.

    wrk corrects for coordinated omission before it reports anything (wrk.c, `stats_correct`):
    with E = runtime / (requests / connections), the interval a connection's requests came
    at, every latency v >= 2E adds samples v - E, v - 2E, ... while above E (the requests a
    client on a schedule would have seen delayed behind the slow one). One 200 ms stall at
    ~16 ms per request thus becomes a dozen samples, which alone set the p99 of ~500.
    """
    if not latencies_ms or connections < 1 or len(latencies_ms) // connections == 0:
        return list(latencies_ms)
    expected = int(runtime_s * 1e6) // (len(latencies_ms) // connections)
    corrected = []
    for value in (int(v * 1000) for v in latencies_ms):
        corrected.append(value)
        if value >= 2 * expected:
            m = value - expected
            while m > expected:
                corrected.append(m)
                m -= expected
    return [v / 1000 for v in corrected]


def wrk_percentile(values: list[float], q: float) -> float:
    """wrk's percentile: nearest rank, C's round(q / 100 x count + 0.5)."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.floor(q / 100 * len(ordered) + 1.0)))
    return ordered[rank - 1]


# -- the peer: boto3 put + Celery send, N threads ------------------------------------------------

def peer_child(threads: int, seconds: float, start_at: float, queue: str) -> None:
    """Runs in its own process (see `run_peer`); prints one JSON line of latencies (ms)."""
    import threading

    from qagen.jobs.names import PROCESS_QUESTION_PAPER
    from qagen.jobs.queue import make_celery
    from qagen.settings import Settings

    settings = Settings(queue=queue)
    client = peer_s3_client(settings)
    pool = client.meta.config.max_pool_connections
    if threads > pool:  # more threads than pooled connections would queue the peer's puts behind each other
        raise RuntimeError(f"{threads} peer threads but {pool} pooled S3 connections")
    celery = make_celery(settings)
    data = pdf_paper(1, pad_to=SIZE)

    def one() -> None:
        task_id = str(uuid.uuid4())
        client.put_object(Bucket=settings.s3_bucket, Key=f"bench/peer/{task_id}/paper.pdf", Body=data,
                          ContentType="application/pdf")
        celery.send_task(PROCESS_QUESTION_PAPER, args=[task_id], task_id=task_id, queue=queue)

    for _ in range(2):
        one()  # connections made before the window, as wrk's are made at its start
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def loop() -> None:
        mine, failed = [], []
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + seconds
        while time.time() < end:
            started = time.perf_counter()
            try:
                one()
            except Exception as exc:  # noqa: BLE001  (counted, as wrk counts the API's failures)
                failed.append(f"{type(exc).__name__}: {exc}")
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    while time.time() < start_at:
        time.sleep(0.001)
    cpu = time.process_time()
    for worker in workers:
        worker.join()
    cpu = time.process_time() - cpu
    print("PEER_JSON " + json.dumps({"latencies": latencies, "cpu_s": cpu, "errors": len(errors),
                                     "first_error": errors[0] if errors else ""}), flush=True)


def peer_s3_client(settings):  # type: ignore[no-untyped-def]
    """The API's own S3 client (qagen/storage.py): its botocore Config, and `Expect: 100-continue`
    removed from puts by the same event-hook change, not a copy of it."""
    from qagen.storage import S3Storage

    return S3Storage.from_settings(settings).client


def run_peer(env: dict[str, str], connections: int, seconds: int, queue: str) -> dict:
    processes = min(GUNICORN_WORKERS, connections)
    per = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    start_at = time.time() + 3.0  # after every child has imported and connected
    children = [subprocess.Popen([sys.executable, "-m", "bench.bench_api", "--peer-child", str(n), str(seconds),
                                  repr(start_at), queue], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env, cwd=Path(__file__).resolve().parent.parent) for n in per]
    latencies: list[float] = []
    cpu = 0.0
    errors, first_error = 0, ""
    for child in children:
        out, err = child.communicate(timeout=seconds + 120)
        line = next((x for x in out.splitlines() if x.startswith("PEER_JSON ")), None)
        if line is None:
            raise RuntimeError(f"peer failed: {err[-1500:]}")
        reported = json.loads(line.removeprefix("PEER_JSON "))
        latencies += reported["latencies"]
        cpu += reported["cpu_s"]
        errors += reported["errors"]
        first_error = first_error or reported["first_error"]
    if not latencies:
        raise RuntimeError(f"the peer completed no request: {first_error}")
    corrected = wrk_corrected(latencies, seconds, connections)
    return {"requests": len(latencies), "errors": errors, "first_error": first_error, "rps": len(latencies) / seconds, "p50_ms": wrk_percentile(corrected, 50),
            "p99_ms": wrk_percentile(corrected, 99), "p99_raw_ms": percentile(latencies, 99),
            "max_ms": max(latencies), "slow_over_100ms": sum(1 for v in latencies if v > 100), "processes": processes,
            "cpu_ms_per_request": cpu * 1000 / max(1, len(latencies))}


def run(stack, seconds: int = 5, levels: tuple[int, ...] = (1, 4, 16), repeats: int = 3) -> tuple[list[Row], dict]:
    import httpx

    from bench.stack import PeakSampler, cpu_seconds, process_tree

    import shutil

    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    queue = f"bench-sink-{uuid.uuid4().hex[:6]}"  # nobody consumes it
    pdf = pdf_paper(1, pad_to=SIZE)
    body, boundary = multipart(pdf)
    folder = Path(tempfile.mkdtemp(prefix="qagen-bench-api-"))
    body_file = folder / "body.bin"
    body_file.write_bytes(body)
    runs: dict[int, dict[str, list[dict]]] = {n: {"api": [], "peer": []} for n in levels}
    memory: dict = {}
    # Room for everything this module writes (the API's and the peer's 1 MiB puts), made
    # before it measures: no SeaweedFS volume growth stalls either side (BenchStack.grow_s3_volumes).
    expected_mib = sum(repeats * seconds * (350 if n > 1 else 200) for n in levels)  # API + peer puts/s, with margin
    stack.grow_s3_volumes(expected_mib // 64 + 8)
    growths_before = stack.s3_volume_growths()
    try:
        with stack.api(QAGEN_QUEUE=queue) as api:
            url = api.layout.api_url
            headers = {"Authorization": f"Bearer {stack.api_key}"}
            for _ in range(3):  # every gunicorn worker has imported and connected
                httpx.post(f"{url}/api/v1/upload", files={"file": ("paper.pdf", pdf, "application/pdf")},
                           headers=headers, timeout=30).raise_for_status()
            gunicorn = process_tree(api.processes["web"].pid)
            workers = gunicorn[1:]
            memory["idle"] = idle_memory(gunicorn)
            memory["workers"] = workers
            memory["peaks"] = []
            env = stack.env(QAGEN_QUEUE=queue)

            def api_run(connections: int) -> dict:
                each = [cpu_seconds(pid) for pid in workers]
                log_offset = api.log_path("web").stat().st_size
                result = run_wrk(url, stack.api_key, body_file, boundary, connections, seconds)
                time.sleep(0.3)  # the last lines reach the log
                in_app = app_upload_ms(api.log_path("web"), log_offset)
                result["app_p99_ms"] = percentile(in_app, 99) if in_app else float("nan")
                result["app_max_ms"] = max(in_app, default=float("nan"))
                result["app_slow_over_100ms"] = sum(1 for v in in_app if v > 100)
                each = [cpu_seconds(pid) - before for pid, before in zip(workers, each)]
                result["cpu_ms_per_request"] = sum(each) * 1000 / max(1, result["accepted"])
                # How evenly the two gunicorn processes shared the work (keep-alive connections stay
                # with the process that accepted them).
                result["worker_cpu_share"] = [round(c / max(sum(each), 1e-9), 2) for c in each]
                return result

            # API and peer alternate at every level, the order flipping from one pair to the next
            # (API, peer; peer, API; ...), both with the API up: neither side gets the quieter minutes.
            for repeat in range(repeats):
                sampler = PeakSampler(gunicorn, interval=0.05)
                sampler.start()
                try:
                    for index, connections in enumerate(levels):
                        for side in interleaved_order(repeat, index):
                            if side == "api":
                                runs[connections]["api"].append(api_run(connections))
                            else:
                                runs[connections]["peer"].append(run_peer(env, connections, seconds, queue))
                finally:
                    memory["peaks"].append(sampler.stop())
    finally:
        body_file.unlink(missing_ok=True)
        folder.rmdir()
    results = {n: {"api": median_run(r["api"]), "api_runs": r["api"], "peer": median_run(r["peer"]),
                   "peer_runs": r["peer"]} for n, r in runs.items()}
    growths_during = stack.s3_volume_growths() - growths_before

    table, rows = [], []
    for connections, both in results.items():
        api, peer = both["api"], both["peer"]
        failures = sum(wrk_failures(run) for run in both["api_runs"])
        peer_errors = sum(run["errors"] for run in both["peer_runs"])
        table.append([connections, sum(run["accepted"] for run in both["api_runs"]), failures, peer_errors,
                      round(api["rps"], 1), round(peer["rps"], 1), f"{peer['rps'] / api['rps']:.2f}x",
                      round(api["p50_ms"], 1), round(peer["p50_ms"], 1), round(api["p99_ms"], 1),
                      round(peer["p99_ms"], 1), f"{api['p99_ms'] / peer['p99_ms']:.2f}x",
                      f"{api['app_p99_ms']:.1f} ({api['app_slow_over_100ms']:g})",
                      f"{peer['p99_raw_ms']:.1f} ({peer['slow_over_100ms']:g})",
                      round(api["cpu_ms_per_request"], 1), round(peer["cpu_ms_per_request"], 1),
                      "/".join(f"{x:.0%}" for x in api["worker_cpu_share"])])
        # A peer that failed requests did less work than the API in its window: no fair comparison either.
        ok = runs_passed(both["api_runs"]) and peer_errors == 0
        note = failure_note(both["api_runs"], peer_errors)
        rows.append(Row(f"API uploads/s, 1 MiB PDF, {connections} connection(s)", api["rps"], "/s", peer["rps"],
                        PEER_NAME, api["rps"] / peer["rps"], ">= 0.67x peer (adds <= 50%)",
                        ok and api["rps"] >= peer["rps"] / 1.5, note=note))
        rows.append(Row(f"  p99 latency, {connections} connection(s)", api["p99_ms"], "ms", peer["p99_ms"],
                        PEER_NAME, api["p99_ms"] / peer["p99_ms"], "<= 1.5x peer",
                        ok and api["p99_ms"] <= 1.5 * peer["p99_ms"]))
    import statistics

    api_cpu = statistics.median(b["api"]["cpu_ms_per_request"] for b in results.values())
    peer_cpu = statistics.median(b["peer"]["cpu_ms_per_request"] for b in results.values())
    rows.append(Row("  CPU per upload: API worker processes vs peer processes", api_cpu, "ms", peer_cpu,
                    PEER_NAME, api_cpu / peer_cpu, "", None,
                    note="median over the levels; S3 and Redis server CPU is the same for both"))
    print_table(f"API upload throughput, 1 MiB PDF, median of {repeats} runs of {seconds} s per level, API and peer "
                "alternating (gunicorn 2 x gthread 16; peer: boto3 put with qagen's S3 client + Celery send in threads)",
                ["conns", "202s (all runs)", "API failures (all runs)", "peer errors", "API req/s", "peer req/s", "peer/API", "API p50 ms", "peer p50 ms",
                 "API p99 ms", "peer p99 ms", "API/peer p99", "API in-app p99 (>100ms)", "peer raw p99 (>100ms)",
                 "API CPU ms/req", "peer CPU ms/req", "gunicorn CPU split"], table)
    import statistics as stats

    workers = memory["workers"]
    idle = max(memory["idle"][pid]["rss"] for pid in workers)
    idle_pss = max(memory["idle"][pid]["pss"] for pid in workers)
    # Each repeat's peak (the larger of the two workers'), then the median over the repeats.
    peak = stats.median(max(p[pid]["rss"] for pid in workers) for p in memory["peaks"])
    peak_pss = stats.median(max(p[pid]["pss"] for pid in workers) for p in memory["peaks"])
    print(f"\ngunicorn worker RSS: idle {idle:.0f} MiB (PSS {idle_pss:.0f}), peak under load {peak:.0f} MiB "
          f"(PSS {peak_pss:.0f}; median of {len(memory['peaks'])} repeats' peaks); "
          f"master {memory['idle'][next(iter(memory['idle']))]['rss']:.0f} MiB")
    rows += [Row("memory: gunicorn API worker, idle (RSS)", idle, "MiB", note=f"PSS {idle_pss:.0f} MiB"),
             Row("memory: gunicorn API worker, peak under upload load (RSS)", peak, "MiB",
                 note=f"PSS {peak_pss:.0f} MiB; median of {len(memory['peaks'])} repeats' peaks")]
    print(f"SeaweedFS volumes created while measuring: {growths_during} (grown beforehand: room for "
          f"~{expected_mib} MiB)")
    details = {"seconds": seconds, "repeats": repeats, "order": "API and peer alternating per level",
               "peer_s3_client": "qagen.storage.S3Storage.from_settings (no Expect: 100-continue)",
               "s3_volume_growths_while_measuring": growths_during,
               "levels": {str(k): v for k, v in results.items()}, "memory_mib": {
        "worker_idle_rss": idle, "worker_idle_pss": idle_pss, "worker_peak_rss": peak, "worker_peak_pss": peak_pss,
        "worker_peak_rss_per_repeat": [max(p[pid]["rss"] for pid in workers) for p in memory["peaks"]]}}
    return rows, details


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-child", nargs=4, metavar=("THREADS", "SECONDS", "START_AT", "QUEUE"))
    args = parser.parse_args(argv)
    if args.peer_child:
        threads, seconds, start_at, queue = args.peer_child
        peer_child(int(threads), float(seconds), float(start_at), queue)
        return 0
    from bench.stack import run_standalone

    levels = tuple(int(x) for x in args.levels.split(","))
    return run_standalone("api", lambda stack: run(stack, args.seconds, levels, args.repeats))


if __name__ == "__main__":
    raise SystemExit(main())

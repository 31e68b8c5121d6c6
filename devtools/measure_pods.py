"""Measure what the deployment manifests are sized from: RSS/PSS, worker boot time, per-paper time.

    .venv/bin/python -m devtools.measure_pods --papers 12 --out deploy/measurements.json

Starts the local stack (Redis, SeaweedFS, gunicorn with 2 workers, a Celery worker with
concurrency 2) on free loopback ports, answers the example paper `--papers` times through
the HTTP API and samples, every 50 ms, the memory of the API's and the worker's process
trees from /proc (RSS and PSS; PSS counts pages shared after fork once, so the sum of PSS
is what a container's cgroup is charged, while the sum of RSS over-counts). It is run
twice for the worker: with the offline engine, and with litellm calling the
OpenAI-compatible stub server (zero latency), so the litellm import and call path is in
the numbers. A real model's latency is added on top in bench/keda_sim.py.

Development only; nothing here runs in the images.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qagen.apikeys import ApiKeyStore  # noqa: E402
from devtools.stack import LocalStack, StackLayout, free_port, wait_until  # noqa: E402
from devtools.procstats import memory_mib, process_tree  # noqa: E402
from qagen.redis_client import redis_from_settings  # noqa: E402

PAPER = REPO / "examples" / "sample-paper.pdf"


def memory(pid: int) -> dict[str, float]:
    """Sum of RSS and PSS (MiB) over a process tree, and its largest single process."""
    each = [memory_mib(p) for p in process_tree(pid)]
    rss = [m["rss"] for m in each]
    return {"processes": len(each), "rss_mib": sum(rss), "pss_mib": sum(m["pss"] for m in each),
            "largest_rss_mib": max(rss, default=0)}


class Sampler(threading.Thread):
    def __init__(self, pids: dict[str, int], interval: float = 0.05):
        super().__init__(daemon=True)
        self.pids, self.interval = pids, interval
        self.peak: dict[str, dict[str, float]] = {name: {} for name in pids}
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            for name, pid in self.pids.items():
                now = memory(pid)
                peak = self.peak[name]
                for key, value in now.items():
                    peak[key] = max(peak.get(key, 0), value)
            time.sleep(self.interval)


def _seconds(stamp: str | float) -> float:
    """Session times are ISO 8601 strings ("...Z") in the API; epoch seconds in older records."""
    if isinstance(stamp, (int, float)):
        return float(stamp)
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def run_papers(stack: LocalStack, key: str, count: int) -> dict:
    """Upload `count` papers at once (a burst), wait for all; per-paper task times in seconds."""
    data = PAPER.read_bytes()
    started = time.monotonic()
    with httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        ids = [client.post("/api/v1/upload", files={"file": ("sample-paper.pdf", data)}).json()["session_id"]
               for _ in range(count)]
        final: dict[str, dict] = {}
        deadline = time.monotonic() + 60 + 30 * count
        while len(final) < count and time.monotonic() < deadline:
            for session_id in ids:
                if session_id not in final:
                    body = client.get(f"/api/v1/sessions/{session_id}").json()
                    if body["status"] in ("complete", "failed"):
                        final[session_id] = body
            time.sleep(0.1)
    wall = time.monotonic() - started
    if len(final) < count or any(b["status"] != "complete" for b in final.values()):
        raise RuntimeError(f"not every paper completed: {[b.get('status') for b in final.values()]}")
    runtimes = [_seconds(b["finished_at"]) - _seconds(b["started_at"]) for b in final.values()]
    return {"papers": count, "burst_wall_seconds": round(wall, 2),
            "task_seconds_mean": round(statistics.mean(runtimes), 3),
            "task_seconds_p50": round(statistics.median(runtimes), 3),
            "task_seconds_max": round(max(runtimes), 3)}


def tesseract_peak_rss_mib() -> float | None:
    """Peak RSS of one Tesseract run (eng+hin when installed) on the example's first page at 200 DPI."""
    try:
        import pypdfium2 as pdfium
    except ImportError:
        return None
    exe = "/usr/bin/tesseract"
    if not Path(exe).exists():
        return None
    page = pdfium.PdfDocument(str(PAPER))[0]
    with tempfile.TemporaryDirectory() as folder:
        png = Path(folder) / "page.png"
        page.render(scale=200 / 72).to_pil().save(png)
        langs = subprocess.run([exe, "--list-langs"], capture_output=True, text=True).stdout.split()[1:]
        lang = "eng+hin" if "hin" in langs else "eng"
        code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True, "
                "env={'OMP_THREAD_LIMIT': '1'}); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code, exe, str(png), "stdout", "-l", lang, "--psm", "6"],
                             capture_output=True, text=True, check=True).stdout
    return round(int(out.strip()) / 1024, 1)


def measure(papers: int) -> dict:
    results: dict = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}}
    with tempfile.TemporaryDirectory() as folder, LocalStack(StackLayout.on_free_ports(Path(folder))) as stack:
        stack.start(("redis", "s3", "web"))
        t0 = time.monotonic()
        stack.start_service("worker")
        results["worker_boot_seconds"] = round(time.monotonic() - t0, 2)
        key = ApiKeyStore(redis_from_settings(stack.settings)).create("measure")
        time.sleep(2)
        pids = {"api": stack.processes["web"].pid, "worker": stack.processes["worker"].pid}
        results["idle"] = {name: memory(pid) for name, pid in pids.items()}

        sampler = Sampler(pids)
        sampler.start()
        results["offline"] = run_papers(stack, key, papers)
        sampler.stop_event.set()
        sampler.join()
        results["offline"]["peak"] = sampler.peak

        # Same burst through litellm and real HTTP (the stub answers at once).
        stub_port = free_port()
        stub = subprocess.Popen([sys.executable, "-m", "devtools.llm_stub", "--port", str(stub_port)],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: httpx.get(f"http://127.0.0.1:{stub_port}/stats", timeout=1).status_code == 200, 10, "stub")
            stack.stop_service("worker")
            stack.extra_env.update({"QAGEN_MODEL": "openai/stub-model", "QAGEN_LLM_API_BASE": f"http://127.0.0.1:{stub_port}/v1",
                                    "OPENAI_API_KEY": "sk-measure"})
            stack.start_service("worker")
            time.sleep(2)
            pids["worker"] = stack.processes["worker"].pid
            results["idle_litellm_worker"] = memory(pids["worker"])
            sampler = Sampler({"worker": pids["worker"]})
            sampler.start()
            results["litellm_stub"] = run_papers(stack, key, papers)
            sampler.stop_event.set()
            sampler.join()
            results["litellm_stub"]["peak"] = sampler.peak
        finally:
            stub.terminate()
            stub.wait(5)
    results["tesseract_page_peak_rss_mib"] = tesseract_peak_rss_mib()
    return _rounded(results)


def _rounded(value):
    if isinstance(value, float):
        return round(value, 1)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=12)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    results = measure(args.papers)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

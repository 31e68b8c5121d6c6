"""Measure what concurrent large uploads cost the API: memory (PSS) and temporary files.

    .venv/bin/python -m devtools.measure_uploads --out deploy/upload-measurements.json

Starts Redis, SeaweedFS and the API (gunicorn, 2 processes x 16 threads, as in the image)
on free loopback ports, then sends 32 uploads of 20 MB at once (every thread of both
processes busy) twice: with `QAGEN_UPLOAD_CONCURRENCY` at 64 (no cap in effect) and at the
deployed 3. Every 20 ms it samples the API's process tree: PSS (what the container's cgroup
is charged) and the bytes of the files it holds open under its TMPDIR (Werkzeug's spooled
uploads are unlinked at once, so `du` would not see them; their open descriptors do). The
API runs with the image's malloc setting (IMAGE_ENV, from Dockerfile.api).
k8s/base/api.yaml's memory limit and /tmp size and QAGEN_UPLOAD_CONCURRENCY are sized from
these numbers (docs/deploy.md, "Uploads").

Development only; nothing here runs in the images.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devtools.procstats import memory_mib, process_tree  # noqa: E402
from devtools.stack import LocalStack, StackLayout  # noqa: E402
from qagen.apikeys import ApiKeyStore  # noqa: E402
from qagen.redis_client import redis_from_settings  # noqa: E402

UPLOAD_MB = 20
# As Dockerfile.api sets it (large buffers get their own mapping, freed at once).
IMAGE_ENV = {"MALLOC_MMAP_THRESHOLD_": "1048576"}


def open_tmp_bytes(pids: list[int], folder: str) -> int:
    """Bytes of the regular files under `folder` that these processes hold open (deleted ones too)."""
    seen: dict[tuple[int, int], int] = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            path = f"/proc/{pid}/fd/{fd}"
            try:
                if not os.readlink(path).startswith(folder):
                    continue
                info = os.stat(path)
            except OSError:
                continue
            seen[(info.st_dev, info.st_ino)] = info.st_size
    return sum(seen.values())


class Sampler(threading.Thread):
    def __init__(self, pid: int, folder: str):
        super().__init__(daemon=True)
        self.pid, self.folder = pid, folder
        self.peak_pss = self.peak_tmp = 0.0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            pids = process_tree(self.pid)
            self.peak_pss = max(self.peak_pss, sum(memory_mib(p)["pss"] for p in pids))
            self.peak_tmp = max(self.peak_tmp, open_tmp_bytes(pids, self.folder) / 2**20)
            time.sleep(0.02)


def burst(stack: LocalStack, key: str, uploads: int) -> dict:
    body = b"%PDF-1.4\n" + os.urandom(UPLOAD_MB * 2**20 - 9 - 4096)  # just under the limit with the form

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=stack.layout.api_url, timeout=120) as client:
            return client.post("/api/v1/upload", headers={"Authorization": f"Bearer {key}"},
                               files={"file": ("big.pdf", body, "application/pdf")})

    started = time.monotonic()
    with ThreadPoolExecutor(uploads) as pool:
        answers = list(pool.map(send, range(uploads)))
    return {"seconds": round(time.monotonic() - started, 1),
            "answers": dict(Counter(str(a.status_code) for a in answers)),
            "retry_after_on_every_503": all("Retry-After" in a.headers for a in answers if a.status_code == 503)}


def measure(concurrency: int, uploads: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="qagen-uploads-") as folder:
        layout = StackLayout.on_free_ports(Path(folder) / "stack")
        tmp = Path(folder) / "api-tmp"
        tmp.mkdir()
        env = {"QAGEN_UPLOAD_CONCURRENCY": str(concurrency), "QAGEN_UPLOAD_RATE_LIMIT": "100000/minute",
               "QAGEN_RATE_LIMIT": "100000/minute", "QAGEN_QUEUE": "measure-unconsumed"}
        with LocalStack(layout, extra_env=env) as stack:
            stack.start(("redis", "s3"))
            stack.start_service("web", env={"TMPDIR": str(tmp), **IMAGE_ENV})
            key = ApiKeyStore(redis_from_settings(stack.settings)).create("measure")
            web = stack.processes["web"].pid
            idle = sum(memory_mib(p)["pss"] for p in process_tree(web))
            sampler = Sampler(web, str(tmp))
            sampler.start()
            result = burst(stack, key, uploads)
            sampler.stop_event.set()
            sampler.join()
            return {"upload_concurrency_per_process": concurrency, "uploads_at_once": uploads,
                    "upload_mb": UPLOAD_MB, "idle_pss_mib": round(idle), "peak_pss_mib": round(sampler.peak_pss),
                    "peak_open_tmp_mib": round(sampler.peak_tmp), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=32)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 3])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs = [measure(c, args.uploads) for c in args.concurrency]
    text = json.dumps({"processes": 2, "threads": 16, "runs": runs}, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""Measure what open event streams cost the API, and what the rest of the API sees meanwhile.

    .venv/bin/python -m devtools.measure_streams --out deploy/stream-measurements.json

Starts Redis, SeaweedFS and the API (gunicorn as in the image: 2 processes, 16 request
threads + QAGEN_SSE_STREAMS_PER_PROCESS stream threads each, the production defaults) on
free loopback ports, with sessions that never finish (their queue has no worker). With no
stream open, then with every stream slot taken (4 tenants x 16 = 64 streams, each polling
its session every 0.5 s), it measures: the API's memory (PSS of its process tree), its CPU
and Redis's over 10 s, 200 sequential /healthz and 20 uploads of a fifth tenant (latency
median / p99 / max), the answer to one stream more, and how long the API takes to notice
that 16 clients have closed their connections (their tenant's leases released).
docs/reliability.md ("Event streams") quotes these numbers.

Development only; nothing here runs in the images.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devtools.procstats import cpu_seconds, memory_mib, process_tree  # noqa: E402
from devtools.stack import LocalStack, StackLayout  # noqa: E402
from qagen.apikeys import ApiKeyStore  # noqa: E402
from qagen.redis_client import redis_from_settings  # noqa: E402

TENANTS, PER_TENANT = 4, 16
OPEN_TIMEOUT = 5.0  # s; the API before issue 16 never answered a stream beyond its 32 threads
PAPER = b"Stream drill\n\n1. What is 2 plus 2? [1]\n2. Name a prime number. [1]\n"


class Stream:
    """One event stream on a raw socket (the fault suite's test_stream_caps.py uses it too): the status
    and headers, then the body as it comes; `close` is a client leaving."""

    def __init__(self, port: int, session_id: str, key: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=OPEN_TIMEOUT)
        request = (f"GET /api/v1/sessions/{session_id}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n")
        self.sock.sendall(request.encode())
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the headers")
            buffer += chunk
        head, self.rest = buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}

    def error(self) -> dict:
        """The JSON body of a refusal."""
        length = int(self.headers.get("content-length", "0"))
        while len(self.rest) < length:
            self.rest += self.sock.recv(65536)
        return json.loads(self.rest[:length])["error"]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _latencies(call, times: int) -> dict:
    values = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        values.append((time.perf_counter() - started) * 1000)
    values.sort()
    return {"median_ms": round(statistics.median(values), 1), "p99_ms": round(values[int(len(values) * 0.99) - 1], 1),
            "max_ms": round(values[-1], 1)}


def _cpu_percent(pids: list[int], seconds: float = 10.0) -> float:
    before = sum(cpu_seconds(p) for p in pids)
    time.sleep(seconds)
    return round(100 * (sum(cpu_seconds(p) for p in pids) - before) / seconds, 1)


def _upload(api: str, key: str) -> str:
    response = httpx.post(f"{api}/api/v1/upload", headers={"Authorization": f"Bearer {key}"},
                          files={"file": ("drill.txt", PAPER)}, timeout=30)
    response.raise_for_status()
    return response.json()["session_id"]


def _state(stack: LocalStack, key: str, label: str) -> dict:
    web, redis = stack.processes["web"].pid, stack.processes["redis"].pid
    api = stack.layout.api_url
    with httpx.Client(base_url=api, timeout=10) as client:
        healthz = _latencies(lambda: client.get("/healthz").raise_for_status(), 200)
    upload = _latencies(lambda: _upload(api, key), 20)
    web_tree = process_tree(web)
    return {"state": label, "api_pss_mib": round(sum(memory_mib(p)["pss"] for p in web_tree)),
            "api_threads": sum(len(list(Path(f"/proc/{p}/task").iterdir())) for p in web_tree),
            "api_cpu_percent": _cpu_percent(web_tree), "redis_cpu_percent": _cpu_percent([redis], 3.0),
            "healthz": healthz, "another_tenants_upload": upload}


def measure() -> dict:
    with tempfile.TemporaryDirectory(prefix="qagen-streams-") as folder:
        layout = StackLayout.on_free_ports(Path(folder) / "stack")
        env = {"QAGEN_UPLOAD_RATE_LIMIT": "100000/minute", "QAGEN_RATE_LIMIT": "100000/minute",
               "QAGEN_QUEUE": "measure-unconsumed"}
        with LocalStack(layout, extra_env=env) as stack:
            stack.start(("redis", "s3", "web"))
            redis = redis_from_settings(stack.settings)
            keys = ApiKeyStore(redis)
            tenants = [(f"streams-{n}", keys.create(f"streams-{n}")) for n in range(TENANTS)]
            other = keys.create("streams-other")
            sessions = [_upload(layout.api_url, key) for _, key in tenants]
            time.sleep(2)  # let the processes settle after their first requests
            runs = [_state(stack, other, "no stream open")]

            streams: list[Stream] = []
            refused_full = 0
            for (tenant, key), session_id in zip(tenants, sessions):
                opened = 0
                while opened < PER_TENANT:
                    stream = Stream(layout.api_port, session_id, key)
                    if stream.status == 200:
                        streams.append(stream)
                        opened += 1
                    else:  # a process whose own slots are full; the next connection may reach the other
                        assert stream.error()["code"] == "streams_full"
                        refused_full += 1
                        stream.close()
            time.sleep(2)
            runs.append(_state(stack, other, f"{len(streams)} streams open"))
            one_more = Stream(layout.api_port, sessions[0], tenants[0][1])
            beyond = {"status": one_more.status, "retry_after": one_more.headers.get("retry-after"),
                      "error": one_more.error()["code"] if one_more.status != 200 else None}
            one_more.close()

            # 16 clients leave at once: how long until the API has let go of each.
            tenant = tenants[-1][0]
            for stream in streams[-PER_TENANT:]:
                stream.close()
            left = time.monotonic()
            while redis.zcard(f"qagen:tenant:{tenant}:streams") and time.monotonic() - left < 60:
                time.sleep(0.01)
            released = round(time.monotonic() - left, 2)
            for stream in streams:
                stream.close()
            settings = stack.settings
            return {"processes": 2, "request_threads": 16, "stream_slots_per_process": settings.sse_streams_per_process,
                    "streams_per_tenant": settings.sse_streams_per_tenant, "runs": runs,
                    "refused_while_opening_streams_full": refused_full, "one_stream_more": beyond,
                    "seconds_to_release_16_gone_clients": released}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    text = json.dumps(measure(), indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

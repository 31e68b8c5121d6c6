"""An OpenAI-compatible chat server for tests and benchmarks: real HTTP, no real model.

    python -m devtools.llm_stub --port 8099 --latency-ms 300 --error-rate 0.3 --rpm 60

It answers `POST /v1/chat/completions` with a deterministic reply that quotes the
question, after a configurable latency. It can fail on purpose: a fraction of calls get
429 or 500 or hang past the client's timeout, and above `--rpm` calls per minute it
answers 429 like a provider's rate limiter. `GET /stats` reports what it saw.
With `--script FILE` (a JSON list of canned replies) it answers scripted calls first:
each entry, `{"reply": "text"}` or `{"status": 500}`, with an optional `"when"` (a string
the request's messages must contain), answers the first call it fits, once, in order;
calls no entry fits get the usual reply (`/stats` counts scripted calls apart, as
`scripted`). `GET /requests` returns the last 50 calls' bodies.
Standard library only, so it starts in milliseconds in its own process;
`running_stub()` starts one on a free port for a test or a benchmark.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubState:
    def __init__(self, latency_ms: float, error_rate: float, hang_seconds: float, rpm: int | None, seed: int,
                 window_seconds: float = 60.0, script: list[dict] | None = None):
        self.window_seconds = window_seconds
        self.script = list(script or [])
        self.requests: deque[dict] = deque(maxlen=50)
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.hang_seconds = hang_seconds
        self.rpm = rpm
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.recent: deque[float] = deque()
        self.counts = {"requests": 0, "ok": 0, "rate_limited": 0, "errors": 0, "hangs": 0, "max_in_flight": 0,
                       "scripted": 0}
        self.in_flight = 0

    def decide(self) -> str:
        """ok, rate_limited (over rpm or drawn), error or hang, decided under the lock."""
        with self.lock:
            self.counts["requests"] += 1
            now = time.monotonic()
            while self.recent and now - self.recent[0] > self.window_seconds:
                self.recent.popleft()
            if self.rpm is not None and len(self.recent) >= self.rpm:
                self.counts["rate_limited"] += 1
                return "rate_limited"
            self.recent.append(now)
            if self.random.random() < self.error_rate:
                outcome = self.random.choice(["rate_limited", "error", "hang"])
                self.counts[{"rate_limited": "rate_limited", "error": "errors", "hang": "hangs"}[outcome]] += 1
                return outcome
            self.counts["ok"] += 1
            return "ok"

    def scripted(self, request: dict) -> dict | None:
        """The first scripted entry this request fits (removed from the script), or None."""
        said = "\n".join(str(m.get("content") or "") for m in request.get("messages") or [])
        with self.lock:
            self.requests.append(request)
            for k, entry in enumerate(self.script):
                if entry.get("when") is None or entry["when"] in said:
                    self.counts["scripted"] += 1
                    return self.script.pop(k)
        return None


def reply_for(messages: list[dict]) -> str:
    question = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
    if "<<<QUESTION" in question:
        question = question.split("<<<QUESTION", 1)[1].split("QUESTION>>>", 1)[0]
    return "Stub model answer. The question was: " + " ".join(question.split())[:200]


def make_handler(state: StubState):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/stats":
                with state.lock:
                    self._send(200, dict(state.counts))
            elif self.path == "/requests":
                with state.lock:
                    self._send(200, {"requests": list(state.requests)})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.endswith("/chat/completions"):
                self._send(404, {"error": {"message": "not found"}})
                return
            entry = state.scripted(request)
            if entry is not None:
                self._respond_scripted(entry, request)
                return
            outcome = state.decide()
            with state.lock:
                state.in_flight += 1
                state.counts["max_in_flight"] = max(state.counts["max_in_flight"], state.in_flight)
            try:
                self._respond(outcome, request)
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _respond_scripted(self, entry: dict, request: dict) -> None:
            status = int(entry.get("status", 200))
            if status != 200:
                self._send(status, {"error": {"message": "A scripted failure", "type": "server_error"}})
            else:
                self._send_reply(str(entry.get("reply", "")), request)

        def _respond(self, outcome: str, request: dict) -> None:
            if outcome == "rate_limited":
                self._send(429, {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}},
                           {"Retry-After": "1"})
                return
            if outcome == "hang":
                time.sleep(state.hang_seconds)
            time.sleep(state.latency_ms / 1000)
            if outcome == "error":
                self._send(500, {"error": {"message": "The stub failed on purpose", "type": "server_error"}})
                return
            self._send_reply(reply_for(request.get("messages") or []), request)

        def _send_reply(self, content: str, request: dict) -> None:
            self._send(200, {
                "id": f"chatcmpl-stub-{time.time_ns()}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model", "stub"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
            })

    return Handler


def serve(port: int, latency_ms: float = 0.0, error_rate: float = 0.0, hang_seconds: float = 30.0,
          rpm: int | None = None, seed: int = 7, window_seconds: float = 60.0,
          script: list[dict] | None = None) -> ThreadingHTTPServer:
    state = StubState(latency_ms, error_rate, hang_seconds, rpm, seed, window_seconds, script)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(state))
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0, help="fraction of calls that fail (429/500/hang)")
    parser.add_argument("--hang-seconds", type=float, default=30.0)
    parser.add_argument("--rpm", type=int, default=None, help="answer 429 above this many calls per window")
    parser.add_argument("--window-seconds", type=float, default=60.0, help="the rate limit's window (default: a minute)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--script", type=Path, default=None, help="a JSON list of canned replies, answered first")
    args = parser.parse_args(argv)
    script = json.loads(args.script.read_text()) if args.script else None
    server = serve(args.port, args.latency_ms, args.error_rate, args.hang_seconds, args.rpm, args.seed,
                   args.window_seconds, script)
    print(f"stub LLM listening on http://127.0.0.1:{args.port}/v1", flush=True)
    server.serve_forever()


@contextmanager
def running_stub(*args: str, ready_timeout: float = 10.0):
    """Yields the stub's base URL (`/v1` is its OpenAI API, `/stats` its counters)."""
    import httpx

    from devtools.stack import free_port, wait_until

    port = free_port()
    repo = Path(__file__).resolve().parent.parent  # devtools is not installed: run it from the checkout
    process = subprocess.Popen([sys.executable, "-m", "devtools.llm_stub", "--port", str(port), *args],
                               cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{base}/stats", timeout=1).status_code == 200, ready_timeout, "the LLM stub")
        yield base
    finally:
        process.terminate()
        process.wait(5)


if __name__ == "__main__":
    main()

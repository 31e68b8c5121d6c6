"""A webhook receiver of our own on loopback: records every request and answers from a plan."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """`responses` is consumed one per request (status, or (status, headers)); then `default` answers."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None):
        self.requests: list[Received] = []
        self.responses: list[int | tuple[int, dict[str, str]]] = []
        self.default = 200
        self.delay = 0.0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(Received("POST", self.path, dict(self.headers.items()), body, time.time()))
                    plan = receiver.responses.pop(0) if receiver.responses else receiver.default
                    receiver._arrived.notify_all()
                if receiver.delay:
                    time.sleep(receiver.delay)
                status, headers = plan if isinstance(plan, tuple) else (plan, {})
                payload = b"ok" if status < 300 else f"answer {status}".encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)

    def plan(self, responses: Iterable[int | tuple[int, dict[str, str]]]) -> Receiver:
        self.responses = list(responses)
        return self

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

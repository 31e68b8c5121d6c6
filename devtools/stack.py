"""The local stack: Redis, SeaweedFS (S3), the API under gunicorn, a Celery worker and the webhook dispatcher.

One definition of how each service starts, used three ways: `make up` (Procfile.dev,
one `python -m devtools run SERVICE` per line), `make demo` and the test fixtures (`LocalStack`,
on free loopback ports in a temporary folder). Development only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

from qagen.settings import Settings

SERVICES = ("redis", "s3", "web", "worker", "webhooks")
DEV_API_PORT = 8000
# SeaweedFS runs master, volume and filer servers behind its S3 gateway, each with an
# HTTP and a gRPC port; in development they sit at fixed offsets above the S3 port.
_WEED_OFFSETS = {"master": 1, "master_grpc": 2, "volume": 3, "volume_grpc": 4, "filer": 5, "filer_grpc": 6, "s3_grpc": 7}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bin(name: str) -> str:
    """A tool from this virtualenv if it is there, else from PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


@dataclass(frozen=True)
class StackLayout:
    data_dir: Path
    redis_port: int
    s3_port: int
    api_port: int
    weed_ports: dict[str, int]
    access_key: str
    secret_key: str
    worker_concurrency: int = 2
    worker_name: str = "worker"
    # Redis fsyncs its append-only file every second by default (a crash, not a restart,
    # can lose the last second of writes); "always" fsyncs every write (the fault tests).
    redis_appendfsync: str = "everysec"
    # The API's metrics listener (QAGEN_METRICS_BIND); 0 leaves the setting as it is.
    metrics_port: int = 0

    @classmethod
    def from_settings(cls, settings: Settings, data_dir: Path = Path(".qagen"), api_port: int = DEV_API_PORT) -> StackLayout:
        s3_port = urlparse(settings.s3_endpoint).port or 8333
        return cls(
            data_dir=data_dir.resolve(),
            redis_port=urlparse(settings.redis_url).port or 6379,
            s3_port=s3_port,
            api_port=api_port,
            weed_ports={name: s3_port + offset for name, offset in _WEED_OFFSETS.items()},
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            worker_concurrency=settings.worker_concurrency,
        )

    @classmethod
    def on_free_ports(cls, data_dir: Path, worker_concurrency: int = 2) -> StackLayout:
        return cls(
            data_dir=data_dir.resolve(),
            redis_port=free_port(),
            s3_port=free_port(),
            api_port=free_port(),
            weed_ports={name: free_port() for name in _WEED_OFFSETS},
            metrics_port=free_port(),
            access_key="qagen-test",
            secret_key="qagen-test-secret-" + os.urandom(6).hex(),
            worker_concurrency=worker_concurrency,
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def settings_overrides(self) -> dict[str, str]:
        return {
            "QAGEN_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "QAGEN_S3_ENDPOINT": f"http://127.0.0.1:{self.s3_port}",
            "QAGEN_S3_ACCESS_KEY": self.access_key,
            "QAGEN_S3_SECRET_KEY": self.secret_key,
            # Test and demo receivers listen on loopback, which production refuses.
            "QAGEN_WEBHOOK_ALLOW": "loopback",
            **({"QAGEN_METRICS_BIND": f"127.0.0.1:{self.metrics_port}"} if self.metrics_port else {}),
        }

    def write_s3_identities(self) -> Path:
        """SeaweedFS's S3 identity file: one key pair with full rights; anonymous gets nothing."""
        path = self.data_dir / "s3" / "identities.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        identity = {"name": "qagen", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"]}
        path.write_text(json.dumps({"identities": [identity]}))
        path.chmod(0o600)
        return path

    def command(self, service: str) -> list[str]:
        if service == "redis":
            folder = self.data_dir / "redis"
            folder.mkdir(parents=True, exist_ok=True)
            return ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(folder),
                    "--appendonly", "yes", "--appendfsync", self.redis_appendfsync,
                    "--maxmemory-policy", "noeviction", "--save", "", "--daemonize", "no"]
        if service == "s3":
            # A one-node master: a 1 s raft election timeout (default 10 s) makes a restart
            # take ~4 s instead of ~20 s (the S3 outage test restarts it).
            folder = self.data_dir / "s3" / "data"
            folder.mkdir(parents=True, exist_ok=True)
            ports = self.weed_ports
            return [_bin("weed"), "server", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                    f"-master.port={ports['master']}", f"-master.port.grpc={ports['master_grpc']}",
                    f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume_grpc']}",
                    f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
                    "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={ports['s3_grpc']}",
                    "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={self.write_s3_identities()}",
                    "-master.volumeSizeLimitMB=64", "-volume.max=50", "-volume.preStopSeconds=0",
                    "-master.telemetry=false", "-master.electionTimeout=1s"]
        if service == "web":
            return [_bin("gunicorn"), "-c", "python:api.gunicorn_conf", "--bind", f"127.0.0.1:{self.api_port}",
                    "--workers", "2", "api:create_app()"]
        if service == "worker":
            return [_bin("celery"), "-A", "worker", "worker", "--loglevel", "INFO",
                    "--concurrency", str(self.worker_concurrency), "-n", f"{self.worker_name}@%h", "-E",
                    "--without-mingle", "--without-gossip"]
        if service == "webhooks":
            return [sys.executable, "-m", "qagen.webhooks"]
        raise ValueError(f"Unknown service {service!r}; expected one of {', '.join(SERVICES)}.")


def wait_until(check, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # not up yet
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} did not become ready within {timeout:.0f} s (last error: {last_error}).")


def prepare_stack(settings: Settings, api_url: str = f"http://127.0.0.1:{DEV_API_PORT}",
                  key_file: Path = Path(".qagen/dev-api-key"), timeout: float = 90.0) -> tuple[str, str]:
    """Wait for Redis, S3 and the API; create the bucket; return (api_url, development key)."""
    from qagen.apikeys import ApiKeyStore
    from qagen.redis_client import redis_from_settings
    from qagen.storage import S3Storage

    redis = redis_from_settings(settings, timeout_seconds=1.0)
    wait_until(redis.ping, timeout, "Redis")
    storage = S3Storage.from_settings(settings, timeout_seconds=1.0, attempts=1)
    wait_until(lambda: storage.ensure_bucket() or True, timeout, "SeaweedFS S3")
    wait_until(lambda: httpx.get(f"{api_url}/healthz", timeout=1).status_code == 200, timeout, "the API")
    keys = ApiKeyStore(redis)
    key = key_file.read_text().strip() if key_file.exists() else ""
    if not keys.lookup(key):
        key = keys.create("dev")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key)
    return api_url, key


def stop_process_group(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 30.0,
                       after_kill: float = 10.0) -> None:
    """Send `sig` to the process's group and wait `timeout`; then SIGKILL the group (a service
    started with its own session: its children go too)."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(after_kill)


@dataclass
class LocalStack:
    """The stack as child processes, for tests and the demo. Use as a context manager."""

    layout: StackLayout
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.layout.settings_overrides())
        env.update(self.extra_env)
        env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    @property
    def settings(self) -> Settings:
        overrides = {**self.layout.settings_overrides(), **self.extra_env}
        fields = {name.removeprefix("QAGEN_").lower(): value for name, value in overrides.items() if name.startswith("QAGEN_")}
        return Settings(**fields)

    def log_path(self, service: str) -> Path:
        return self.layout.data_dir / "logs" / f"{service}.log"

    def start(self, services: tuple[str, ...] = SERVICES, timeout: float = 60.0) -> LocalStack:
        for service in services:
            self.start_service(service, timeout=timeout)
        return self

    def start_service(self, service: str, timeout: float = 60.0, name: str | None = None,
                      env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start one service (several workers: distinct `name`s); `env` adds to this one's environment."""
        name = name or service
        log = self.log_path(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(log, "ab")
        offset = log.stat().st_size
        layout = self.layout if service != "worker" else _with_worker_name(self.layout, name)
        process = subprocess.Popen(layout.command(service), stdout=log_file, stderr=subprocess.STDOUT,
                                   env={**self.env, **(env or {})},
                                   cwd=Path(__file__).resolve().parent.parent, start_new_session=True)
        log_file.close()
        self.processes[name] = process
        try:
            wait_until(lambda: self._ready(service, process, log, offset), timeout, f"{name} (log: {log})", 0.1)
        except TimeoutError:
            self.stop_service(name)
            raise
        if service == "s3":
            from qagen.storage import S3Storage

            storage = S3Storage.from_settings(self.settings, timeout_seconds=2.0, attempts=1)
            wait_until(lambda: storage.ensure_bucket() or True, timeout, "the S3 bucket")
        return process

    def _ready(self, service: str, process: subprocess.Popen, log: Path, offset: int) -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{service} exited with {process.returncode}; see {log}")
        if service == "redis":
            return _port_open(self.layout.redis_port) and b"Ready to accept connections" in _read_from(log, offset)
        if service == "s3":
            return httpx.get(f"http://127.0.0.1:{self.layout.s3_port}/", timeout=1).status_code in (200, 403)
        if service == "web":
            return httpx.get(f"{self.layout.api_url}/healthz", timeout=1).status_code == 200
        if service == "webhooks":
            return b"webhook dispatcher ready" in _read_from(log, offset)
        return b" ready." in _read_from(log, offset)

    def stop_service(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        stop_process_group(self.processes.pop(name, None), sig, timeout, after_kill=5.0)

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            # SeaweedFS lingers ~15 s after its servers have shut down cleanly; don't wait for it.
            self.stop_service(name, timeout=3.0 if name == "s3" else 30.0)

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _with_worker_name(layout: StackLayout, name: str) -> StackLayout:
    from dataclasses import replace

    return replace(layout, worker_name=name)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _read_from(path: Path, offset: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read()

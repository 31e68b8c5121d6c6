"""The local stack for the service benchmarks: one Redis and one SeaweedFS for the whole run,
API processes and Celery workers started per benchmark, everything on loopback.

Workers are started here rather than through `LocalStack.start_service` so that "ready"
is timed to the line: the log is read from a pipe as it is written, not polled from a file.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qagen.apikeys import ApiKeyStore  # noqa: E402
from devtools.stack import LocalStack, StackLayout, _bin, free_port, wait_until  # noqa: E402
from devtools.procstats import cpu_seconds, memory_mib, process_tree  # noqa: E402
from qagen.redis_client import redis_from_settings  # noqa: E402

# The API's own limits would turn a load test into a 429 test.
HIGH_LIMITS = {"QAGEN_RATE_LIMIT": "10000000/minute", "QAGEN_UPLOAD_RATE_LIMIT": "10000000/minute"}
PIPELINE_STAGES = ("parsing", "answering", "diagrams", "rendering")


class WorkerProcess:
    """`celery -A APP worker ...` with its output read line by line; times are perf_counter()."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.command = command
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")
        self.lines: list[tuple[float, str]] = []
        self.ready = threading.Event()
        self.ready_at: float | None = None
        self.ready_cpu: float | None = None
        self._marks: dict[str, threading.Event] = {}
        self._mark_times: dict[str, float] = {}
        self._lock = threading.Lock()
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                        start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            now = time.perf_counter()
            self._log.write(raw)
            line = raw.decode(errors="replace")
            with self._lock:
                self.lines.append((now, line))
                for text, event in self._marks.items():
                    if not event.is_set() and text in line:
                        self._mark_times[text] = now
                        event.set()
            if self.ready_at is None and " ready." in line:
                self.ready_at = now
                # CPU the worker's processes used to get there: unlike wall time, hardly moved by
                # other work on the machine.
                self.ready_cpu = sum(cpu_seconds(pid) for pid in process_tree(self.process.pid))
                self.ready.set()
        self._log.close()

    def mark(self, text: str) -> threading.Event:
        """An event set when a line containing `text` appears (lines already read count)."""
        with self._lock:
            event = self._marks.setdefault(text, threading.Event())
            for when, line in self.lines:
                if text in line and not event.is_set():
                    self._mark_times[text] = when
                    event.set()
        return event

    def mark_time(self, text: str) -> float | None:
        return self._mark_times.get(text)

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from process start to the `celery@... ready.` line."""
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.05):
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker not ready within {timeout} s; see {self.log_path}")
        return self.ready_at - self.started_at

    def pids(self) -> list[int]:
        """The main process first, then its pool processes."""
        return process_tree(self.process.pid)

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            except ProcessLookupError:
                pass
        self._reader.join(5)


def worker_command(app: str, name: str, queue: str, concurrency: int = 1, mingle_gossip: bool = False) -> list[str]:
    """The one way every benchmark starts a worker (qagen's and the bare one alike)."""
    command = [_bin("celery"), "-A", app, "worker", "--loglevel", "INFO", "--pool", "prefork",
               "--concurrency", str(concurrency), "-n", f"{name}@%h", "-E", "-Q", queue]
    if not mingle_gossip:
        command += ["--without-mingle", "--without-gossip"]
    return command


class BenchLayout(StackLayout):
    """The development layout, with room in SeaweedFS for the API benchmark's uploads.

    `make up` caps SeaweedFS at 50 volumes of 64 MB (3.2 GB); the upload benchmark stores
    about that much (1 MiB a request, API and peer), and deleted objects are only reclaimed
    by a later vacuum. The data folder is removed when the run ends.
    """

    def command(self, service: str) -> list[str]:
        command = super().command(service)
        if service == "s3":
            command = ["-volume.max=400" if part.startswith("-volume.max=") else part for part in command]
        return command


class BenchStack:
    """Redis and SeaweedFS started once; API processes and workers on demand."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qagen-bench-"))
        self.layout = BenchLayout.on_free_ports(self.folder, worker_concurrency=1)
        self.local = LocalStack(self.layout, extra_env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"})
        self.workers: list[WorkerProcess] = []
        try:
            self.local.start(("redis", "s3"))
        except Exception:
            self.close()
            raise
        self.settings = self.local.settings
        self.redis = redis_from_settings(self.settings)
        self.api_key = ApiKeyStore(self.redis).create("bench")
        self._storage = None

    @property
    def storage(self):
        if self._storage is None:
            from qagen.storage import S3Storage

            self._storage = S3Storage.from_settings(self.settings)
        return self._storage

    def env(self, **extra: str) -> dict[str, str]:
        env = self.local.env
        env.update(extra)
        return env

    @contextmanager
    def api(self, **extra_env: str):
        """gunicorn (as `make up` runs it: 2 gthread workers) on a free port; yields its LocalStack view."""
        view = LocalStack(replace(self.layout, api_port=free_port()),
                          extra_env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", **HIGH_LIMITS, **extra_env})
        try:
            view.start_service("web")
            yield view
        finally:
            view.stop()

    def start_worker(self, app: str = "worker", *, name: str | None = None, queue: str | None = None,
                     concurrency: int = 1, mingle_gossip: bool = False, **extra_env: str) -> WorkerProcess:
        name = name or f"bench-{uuid.uuid4().hex[:6]}"
        queue = queue or f"bench-{uuid.uuid4().hex[:8]}"
        env = self.env(QAGEN_QUEUE=queue, **extra_env)
        worker = WorkerProcess(worker_command(app, name, queue, concurrency, mingle_gossip), env,
                               self.folder / "logs" / f"{name}.log")
        worker.queue = queue
        self.workers.append(worker)
        return worker

    def celery(self, queue: str):
        """A producer like the API's (qagen.jobs.queue), sending to `queue`."""
        from qagen.jobs.queue import make_celery

        return make_celery(self.settings.model_copy(update={"queue": queue}))

    def submit(self, celery, data: bytes, filename: str, queue: str) -> str:
        """What POST /api/v1/upload does, minus HTTP: store the paper, create the session, enqueue."""
        from qagen.jobs.names import PROCESS_QUESTION_PAPER
        from qagen.jobs.records import Session, SessionStore, object_prefix

        session_id = str(uuid.uuid4())
        key = f"{object_prefix('bench', session_id)}input/{filename}"
        self.storage.put(key, data, "application/pdf" if data.startswith(b"%PDF") else "text/plain; charset=utf-8")
        SessionStore(self.redis, self.settings.session_ttl_seconds).create(
            Session(id=session_id, tenant="bench", filename=filename, input_key=key))
        celery.send_task(PROCESS_QUESTION_PAPER, args=[session_id], task_id=session_id, queue=queue)
        return session_id

    def session_status(self, session_id: str) -> str:
        raw = self.redis.hget(f"qagen:session:{session_id}", "status")
        return raw.decode() if raw else ""

    def wait_sessions(self, ids: list[str], timeout: float, interval: float = 0.005) -> dict[str, float]:
        """perf_counter() time at which each session was seen finished; raises unless all completed."""
        done: dict[str, float] = {}
        deadline = time.monotonic() + timeout
        pending = list(ids)
        while pending and time.monotonic() < deadline:
            pipe = self.redis.pipeline()
            for session_id in pending:
                pipe.hget(f"qagen:session:{session_id}", "status")
            now = time.perf_counter()
            for session_id, raw in zip(list(pending), pipe.execute()):
                status = raw.decode() if raw else ""
                if status in ("complete", "failed"):
                    if status == "failed":
                        error = self.redis.hget(f"qagen:session:{session_id}", "error")
                        raise RuntimeError(f"session {session_id} failed: {error!r}")
                    done[session_id] = now
                    pending.remove(session_id)
            if pending:
                time.sleep(interval)
        if pending:
            raise TimeoutError(f"{len(pending)} session(s) did not finish within {timeout} s")
        return done

    def stage_seconds(self) -> dict[str, float]:
        """Total seconds workers have recorded per stage (qagen.jobs.stats), for deltas around a job."""
        from qagen.jobs.stats import STAGE_KEY

        out = {}
        for stage in (*PIPELINE_STAGES, "storing"):
            raw = self.redis.hget(STAGE_KEY + stage, "sum")
            out[stage] = float(raw) if raw else 0.0
        return out

    def grow_s3_volumes(self, count: int) -> None:
        """Have SeaweedFS create `count` more volumes for the bucket now.

        SeaweedFS fills 64 MB volumes (as `make up` sets it) and creates 7 more when they are
        full, stalling the puts that arrive meanwhile for 0.2-1 s: every ~448 MB of uploads.
        A load benchmark writing gigabytes would measure where those land (in the API's
        window or the peer's) as much as the API; a store like AWS S3 has no such step.
        """
        import httpx

        self.storage.put("bench/.grow", b"")  # the bucket's collection exists
        before = self.s3_volume_growths()
        master = f"http://127.0.0.1:{self.layout.weed_ports['master']}"
        deadline = time.monotonic() + 30
        while True:  # a master whose volume server has not reported in yet answers 406
            response = httpx.get(f"{master}/vol/grow", params={"count": count, "collection": self.settings.s3_bucket,
                                                               "replication": "000"}, timeout=120)
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        response.raise_for_status()
        deadline = time.monotonic() + 60
        while self.s3_volume_growths() < before + count and time.monotonic() < deadline:
            time.sleep(0.2)  # the master answers before every volume is registered

    def s3_volume_growths(self) -> int:
        """How many volumes SeaweedFS has created so far (its log)."""
        log = self.local.log_path("s3")
        return log.read_text(errors="replace").count("Created Volume") if log.exists() else 0

    def flush_answer_cache(self) -> None:
        from qagen.answering.cache import KEY_PREFIX

        for key in self.redis.scan_iter(KEY_PREFIX + "*", count=1000):
            self.redis.delete(key)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.local.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


# -- processes and their memory -------------------------------------------------------------------

class PeakSampler(threading.Thread):
    """Samples the memory of some processes every `interval` seconds and keeps the peaks."""

    def __init__(self, pids: list[int], interval: float = 0.02):
        super().__init__(daemon=True)
        self.pids, self.interval = pids, interval
        self.peak = {pid: {"rss": 0.0, "pss": 0.0} for pid in pids}
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            for pid in self.pids:
                now = memory_mib(pid)
                for key, value in now.items():
                    self.peak[pid][key] = max(self.peak[pid][key], value)
            time.sleep(self.interval)

    def stop(self) -> dict[int, dict[str, float]]:
        self.stop_event.set()
        self.join()
        return self.peak


def run_standalone(section: str, run) -> int:  # type: ignore[no-untyped-def]
    """One service benchmark run by itself: `run(stack)` on a stack of its own (closed after),
    its details recorded under `section` in bench/results.json."""
    from bench.common import record

    stack = BenchStack()
    try:
        _, details = run(stack)
    finally:
        stack.close()
    record(section, details)
    return 0


def wait_for(check, timeout: float, what: str, interval: float = 0.005) -> None:
    wait_until(check, timeout, what, interval)


__all__ = ["BenchStack", "WorkerProcess", "PeakSampler", "memory_mib", "cpu_seconds", "process_tree", "worker_command", "wait_for",
           "run_standalone",
           "free_port", "REPO", "HIGH_LIMITS", "PIPELINE_STAGES"]

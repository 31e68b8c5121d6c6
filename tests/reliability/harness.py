"""What the fault tests share: uploads that honour 503 + Retry-After, a watcher that records
every run of every session, log parsing for run intervals, and the summary table."""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from devtools.stack import LocalStack, wait_until
from qagen.jobs.leases import ACTIVE_KEY, LEASE_PREFIX, token_node
from qagen.jobs.records import key_for, object_prefix

REPO = Path(__file__).resolve().parents[2]
SUMMARY_FILE = REPO / "test-artifacts" / "reliability-summary.md"


# --- the summary table ---------------------------------------------------------------------------

@dataclass
class Row:
    fault: str
    injected: str
    jobs: int
    lost: int
    duplicated: int
    recovery: str = "-"
    completion: str = "-"
    notes: str = ""


SUMMARY: list[Row] = []
HOSTILE: list[tuple[str, str, str]] = []  # (input, outcome, message)


def seconds(values: list[float]) -> str:
    """"median / max" in seconds, or "-"."""
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} / {max(values):.1f}"


def hostile_table() -> str:
    lines = ["| input | outcome | message |", "|---|---|---|"]
    for name, outcome, message in HOSTILE:
        lines.append(f"| {name} | {outcome} | {message.replace('|', '/')} |")
    return "\n".join(lines)


def summary_table() -> str:
    head = ["fault", "injected", "jobs", "lost", "duplicated", "to running again, s (median / max)",
            "to completion, s (median / max)", "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in SUMMARY:
        lines.append("| " + " | ".join(str(v) for v in (row.fault, row.injected, row.jobs, row.lost, row.duplicated,
                                                      row.recovery, row.completion, row.notes)) + " |")
    return "\n".join(lines)


# --- papers ----------------------------------------------------------------------------------------

def paper(n: int, questions: int = 12) -> bytes:
    """A text paper unique to `n` (so no two jobs share cached answers)."""
    lines = [f"Reliability drill {n}", "Answer every question.", ""]
    for q in range(1, questions + 1):
        lines.append(f"{q}. In drill {n}, what is {q * 7 + n} plus {q + 3 * n}? [2]")
    return ("\n".join(lines) + "\n").encode()


# --- the API ---------------------------------------------------------------------------------------

@dataclass
class Upload:
    session_id: str | None
    statuses: list[int] = field(default_factory=list)
    retry_after: list[str] = field(default_factory=list)


def upload(client: httpx.Client, data: bytes, filename: str, *, callback_url: str | None = None,
           deadline_seconds: float = 120.0, max_wait: float = 1.0) -> Upload:
    """POST /api/v1/upload, retrying on 503 (after Retry-After, capped at `max_wait` for speed)
    and on connection errors, until 202 or another final answer."""
    result = Upload(None)
    deadline = time.monotonic() + deadline_seconds
    form = {"callback_url": callback_url} if callback_url else None
    while time.monotonic() < deadline:
        try:
            response = client.post("/api/v1/upload", files={"file": (filename, data)}, data=form)
        except httpx.TransportError:
            result.statuses.append(0)
            time.sleep(0.5)
            continue
        result.statuses.append(response.status_code)
        if response.status_code == 503:
            result.retry_after.append(response.headers.get("Retry-After", ""))
            time.sleep(min(max_wait, float(response.headers.get("Retry-After") or 1)))
            continue
        if response.status_code == 202:
            result.session_id = response.json()["session_id"]
        return result
    return result


def wait_all(client: httpx.Client, session_ids: list[str], timeout: float) -> dict[str, dict]:
    """Poll until every session is complete or failed (tolerating a briefly unavailable API)."""
    done: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(done) < len(session_ids):
        for sid in session_ids:
            if sid in done:
                continue
            try:
                response = client.get(f"/api/v1/sessions/{sid}")
            except httpx.TransportError:
                continue
            if response.status_code == 200 and response.json()["status"] in ("complete", "failed"):
                done[sid] = response.json()
        time.sleep(0.3)
    return done


# --- Redis-side observation ------------------------------------------------------------------------

def lease_holders(redis_client) -> dict[str, str]:
    """session id -> the token of the run holding its lease."""
    keys = list(redis_client.scan_iter(LEASE_PREFIX + "*", count=1000))
    values = redis_client.mget(keys) if keys else []
    return {k.decode()[len(LEASE_PREFIX):]: v.decode() for k, v in zip(keys, values) if v is not None}


def record(redis_client, session_id: str) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in redis_client.hgetall(key_for(session_id)).items()}


class Watcher(threading.Thread):
    """Samples the sessions' records every 0.2 s: every run start (run_started_at) seen per session."""

    def __init__(self, redis_client, session_ids: list[str]):
        super().__init__(daemon=True)
        self.redis = redis_client
        self.ids = list(session_ids)
        self.starts: dict[str, set[float]] = {sid: set() for sid in self.ids}
        self.finished: dict[str, float] = {}
        self.stop_event = threading.Event()

    def add(self, session_ids: list[str]) -> None:
        for sid in session_ids:
            self.starts.setdefault(sid, set())
        self.ids = list(self.starts)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                pipe = self.redis.pipeline(transaction=False)
                ids = list(self.ids)
                for sid in ids:
                    pipe.hmget(key_for(sid), "run_started_at", "finished_at", "status")
                for sid, (started, finished, status) in zip(ids, pipe.execute()):
                    if started:
                        self.starts[sid].add(float(started))
                    if finished and status in (b"complete", b"failed"):
                        self.finished[sid] = float(finished)
            except Exception:
                pass  # Redis restarting: sample again
            self.stop_event.wait(0.2)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(5)

    def next_start_after(self, session_id: str, moment: float) -> float | None:
        later = [t for t in self.starts.get(session_id, ()) if t > moment]
        return min(later) if later else None


# --- workers ---------------------------------------------------------------------------------------

def worker_pids(stack: LocalStack, name: str) -> tuple[int, list[int]]:
    """(main pid, pool process pids) of a running worker."""
    main = stack.processes[name].pid
    children = subprocess.run(["pgrep", "-P", str(main)], capture_output=True, text=True).stdout.split()
    return main, [int(pid) for pid in children]


def node_of(name: str) -> str:
    import socket

    return f"{name}@{socket.gethostname()}"


def start_worker(stack: LocalStack, name: str, env: dict[str, str] | None = None, timeout: float = 90.0):
    return stack.start_service("worker", name=name, env=env, timeout=timeout)


def kill_worker(stack: LocalStack, name: str) -> None:
    """SIGKILL the whole worker (main process and its pool), like a node loss or an OOM kill of PID 1."""
    process = stack.processes.pop(name)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)


# --- logs ------------------------------------------------------------------------------------------

_PLAIN_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ [\w.]+: (.*)$")
_RUN_MESSAGE = re.compile(r"^session (\S+): run (\S+) (started|ended)")


def _log_entries(path: Path):  # type: ignore[no-untyped-def]
    """(timestamp text, message) of each log line, JSON (qagen's log format) or plain."""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if "time" in entry and "message" in entry:
                yield entry["time"], entry["message"]
            continue
        match = _PLAIN_LINE.match(line)
        if match:
            yield match.group(1), match.group(2)


def run_intervals(log_paths: list[Path]) -> dict[str, dict[str, list[float | None]]]:
    """session -> token -> [start, end] from the workers' logs (end None: no orderly end logged)."""
    runs: dict[str, dict[str, list[float | None]]] = {}
    for path in log_paths:
        if not path.exists():
            continue
        for stamp, message in _log_entries(path):
            match = _RUN_MESSAGE.match(message)
            if not match:
                continue
            session_id, token, what = match.groups()
            moment = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
            entry = runs.setdefault(session_id, {}).setdefault(token, [None, None])
            entry[0 if what == "started" else 1] = moment
    return runs


def overlapping_runs(runs: dict[str, dict[str, list[float | None]]], killed: dict[str, float]) -> list[str]:
    """Sessions two of whose runs overlapped in time. A run without an end was killed at
    `killed[token]` (or, with none known, is treated as still running)."""
    bad = []
    for session_id, by_token in runs.items():
        spans = []
        for token, (start, end) in by_token.items():
            if start is None:
                continue
            stop = end if end is not None else killed.get(token, float("inf"))
            spans.append((start, stop, token))
        spans.sort()
        for (s1, e1, t1), (s2, e2, t2) in zip(spans, spans[1:]):
            if s2 < e1 - 0.01:
                bad.append(f"{session_id}: {t1} [{s1:.2f}, {e1:.2f}] overlaps {t2} [{s2:.2f}, {e2:.2f}]")
    return bad


# --- the bucket ------------------------------------------------------------------------------------

def unexpected_objects(storage, tenant: str, session_id: str, complete: bool) -> list[str]:
    """Objects under the session's prefix other than its upload and (if complete) the two results
    of one run (each run writes under runs/<fencing token>/: qagen.jobs.fencing): a second run's
    objects, or anything else, are unexpected."""
    prefix = object_prefix(tenant, session_id)
    keys = [key for key in storage.list_keys(prefix) if not key.startswith(prefix + "input/")]
    return [key for key in keys if key not in published_results(keys, prefix, complete)]


def published_results(keys: list[str], prefix: str, complete: bool) -> set[str]:
    """Of a session's object keys, one run's answers.pdf and result.json (the highest token's)."""
    runs = {}
    for key in keys:
        parts = key[len(prefix):].split("/")
        if len(parts) == 3 and parts[0] == "runs" and parts[1].isdigit() and parts[2] in ("answers.pdf", "result.json"):
            runs.setdefault(int(parts[1]), set()).add(key)
    whole = [token for token, found in runs.items() if len(found) == 2]
    return runs[max(whole)] if complete and whole else set()


def active_index(redis_client) -> list[str]:
    return [m.decode() for m in redis_client.zrange(ACTIVE_KEY, 0, -1)]


def wait_for(check, timeout: float, what: str) -> None:
    wait_until(check, timeout, what, 0.2)


__all__ = ["token_node"]


# --- course notes ----------------------------------------------------------------------------


def scanned_notes_pdf(pages: int = 2, seed: int = 0) -> bytes:
    """Notes as a scan: each page an image of typed text (no text layer), so reading it means
    OCR, seconds per page: long enough to kill the process doing it, or to pass a time limit."""
    import io
    import random

    import matplotlib
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    font = ImageFont.truetype(f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf", 34)
    words = ("queue stack graph tree node edge heap sort search array list hash table key value path cycle "
             "order time space first last insert delete front rear").split()
    rng = random.Random(seed)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for page in range(pages):
        image = Image.new("L", (1654, 2339), 255)
        draw = ImageDraw.Draw(image)
        draw.text((120, 120), f"Unit {page + 1}: Data structures", font=font, fill=0)
        for row in range(40):
            draw.text((120, 220 + 50 * row), " ".join(rng.choice(words) for _ in range(9)) + ".", font=font, fill=0)
        png = io.BytesIO()
        image.save(png, format="PNG")
        pdf.drawImage(ImageReader(io.BytesIO(png.getvalue())), 0, 0, *A4)
        pdf.showPage()
    pdf.save()
    return out.getvalue()

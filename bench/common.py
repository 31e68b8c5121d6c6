"""Shared by the benchmarks: medians of repeated runs, one table format, results.json."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    """The median wall time of `repeats` runs of `run`."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    cells = [header] + [[f"{c:.3g}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n## {title}\n")
    for n, row in enumerate(cells):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")


def record(section: str, data: dict) -> None:
    """Merge one benchmark's figures into bench/results.json under `section`, with the commit measured."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[section] = {**data, "measured": provenance()}
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def provenance() -> dict:
    """What was measured and when: the commit (`git rev-parse HEAD`), whether the tree differed
    from it (and in which files), and the time (UTC)."""
    import subprocess
    from datetime import datetime, timezone

    repo = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], check=False, cwd=repo, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    changed = sorted(line[3:] for line in (status or "").splitlines() if line.strip())
    return {"commit": head.strip() if head else None, "dirty": bool(changed) if status is not None else None,
            "changed_files": changed, "time": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def production_default(name: str):  # type: ignore[no-untyped-def]
    """A setting's production value: its default in qagen.settings.Settings (not this shell's environment)."""
    from qagen.settings import Settings

    return Settings.model_fields[name].default


# -- the combined summary (`python -m bench`) ---------------------------------------------------

@dataclass
class Row:
    """One line of the summary table: our figure, the floor or peer measured in the same run, the target."""

    metric: str
    ours: float | None
    unit: str = ""
    peer: float | None = None
    peer_name: str = ""
    ratio: float | None = None  # ours / peer unless the metric says otherwise
    target: str = ""
    met: bool | None = None
    note: str = ""

    def cells(self) -> list[str]:
        ours = "-" if self.ours is None else f"{_num(self.ours)} {self.unit}".strip()
        peer = "" if self.peer is None else f"{self.peer_name} {_num(self.peer)} {self.unit}".strip()
        if self.peer is None and self.peer_name:
            peer = self.peer_name
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        met = {True: "yes", False: "**NO**", None: ""}[self.met]
        return [self.metric, ours, peer, ratio, self.target, met]


SUMMARY_HEADER = ["metric", "ours", "floor / peer (same run)", "ratio", "target", "met?"]


def _num(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def metric_key(metric: str) -> str:
    """A stable name for a summary row ("API uploads/s, 1 MiB PDF, 4 connection(s)" -> "api-uploads-s-1-mib-pdf-4-connection-s")."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", metric.lower()).strip("-")


def metrics(rows: list[Row], section_of: dict[int, str] | None = None) -> dict[str, dict]:
    """Every summary row by `metric_key`, with its figures and the module that measured it:
    what a generated docs page reads. A key that repeats gets "-2", "-3", ... in row order."""
    out: dict[str, dict] = {}
    for index, row in enumerate(rows):
        key = metric_key(row.metric) or f"row-{index}"
        base, n = key, 2
        while key in out:
            key, n = f"{base}-{n}", n + 1
        out[key] = {"metric": row.metric.strip(), "value": row.ours, "unit": row.unit, "peer": row.peer,
                    "peer_name": row.peer_name, "ratio": row.ratio, "target": row.target, "met": row.met,
                    "note": row.note, "module": (section_of or {}).get(index)}
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary_markdown(rows: list[Row]) -> str:
    cells = [SUMMARY_HEADER] + [row.cells() for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(SUMMARY_HEADER))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> dict:
    """What the figures were measured on."""
    import os
    import platform

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": memory_gib, "python": platform.python_version(),
            "kernel": platform.release(), "load_average_1m": round(os.getloadavg()[0], 2)}


# -- other work on the machine -------------------------------------------------------------------

def _ticks() -> float:
    import os

    return float(os.sysconf("SC_CLK_TCK"))


def cpu_accounting() -> tuple[float, float]:
    """(CPU seconds the whole machine has been busy, CPU seconds of this process tree) so far.

    The difference of two readings, less ours, is what other processes took meanwhile:
    on a shared machine that is what disturbs the figures. Our tree's exited processes
    are counted through their parents' cutime/cstime.
    """
    import os

    with open("/proc/stat") as handle:
        fields = handle.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
    busy = (user + nice + system + irq + softirq) / _ticks()
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                text = handle.read()
        except OSError:
            continue
        rest = text[text.rindex(")") + 2:].split()
        ppid = int(rest[1])
        cpu = sum(int(x) for x in rest[11:15])  # utime stime cutime cstime
        stats[int(entry)] = (ppid, cpu / _ticks())
    ours, todo = set(), [os.getpid()]
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    while todo:
        pid = todo.pop()
        if pid in ours:
            continue
        ours.add(pid)
        todo += children.get(pid, [])
    return busy, sum(stats[pid][1] for pid in ours if pid in stats)


def foreign_cpu_fraction(before: tuple[float, float], after: tuple[float, float], seconds: float) -> float:
    """Share of the machine (all cores) that other processes used between two readings."""
    import os

    other = (after[0] - before[0]) - (after[1] - before[1])
    return max(0.0, other) / (seconds * (os.cpu_count() or 1)) if seconds > 0 else 0.0


def wait_until_quiet(limit_seconds: float, threshold: float = 0.05, window: float = 2.0) -> float:
    """Wait (at most `limit_seconds`) for other processes to use < `threshold` of the machine; returns the last share."""
    deadline = time.monotonic() + limit_seconds
    while True:
        before, started = cpu_accounting(), time.monotonic()
        time.sleep(window)
        share = foreign_cpu_fraction(before, cpu_accounting(), time.monotonic() - started)
        if share < threshold or time.monotonic() >= deadline:
            return share


def page_count(pdf: bytes) -> int:
    """Pages of a PDF (pypdfium2, imported when needed)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()

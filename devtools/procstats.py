"""Process trees, CPU time and memory read from Linux's /proc, for the development tools that
measure the stack (bench/, devtools/measure_pods.py, the fault suite). Nothing here runs in the images."""

from __future__ import annotations

import os
from pathlib import Path


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants, breadth first (the process itself first)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop(0)
        tree.append(current)
        todo += _children(current)
    return tree


def _kib(path: str, field: str) -> int:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far, with its finished children's (0 if it is gone).

    The children matter: a worker pool process reads each upload in a short-lived fork
    (qagen.documents.sandbox), whose CPU lands in the parent's cutime/cstime when it is reaped.
    """
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return 0.0
    rest = text[text.rindex(")") + 2:].split()
    return sum(int(x) for x in rest[11:15]) / os.sysconf("SC_CLK_TCK")


def memory_mib(pid: int) -> dict[str, float]:
    """RSS (/proc/PID/status VmRSS) and PSS (smaps_rollup) of one process, MiB (0 if it is gone)."""
    return {"rss": _kib(f"/proc/{pid}/status", "VmRSS") / 1024, "pss": _kib(f"/proc/{pid}/smaps_rollup", "Pss") / 1024}

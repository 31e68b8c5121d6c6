"""Shared by the benchmarks: medians of repeated runs, one table format, results.json."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
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
    """Merge one benchmark's figures into bench/results.json under `section`."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[section] = data
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")

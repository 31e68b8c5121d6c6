"""docs/performance.md quotes one `make bench` run: every table on the page is the one
bench/report.py makes from the committed bench/results.json, and the page names that run's commit."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bench_growth import _note_peak, _JOB_PEAK_KIB, _status_kib
from bench.common import RESULTS
from bench.report import md_table, n, tables

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "performance.md"
MARKER = re.compile(r"<!-- table: ([a-z0-9 ]+) -->\n")


def committed_results() -> dict:
    return json.loads(RESULTS.read_text())


def tables_on_the_page() -> dict[str, str]:
    """Each marked table on the page: the marker's name -> the table's lines below it."""
    text = PAGE.read_text()
    found = {}
    for match in MARKER.finditer(text):
        lines = []
        for line in text[match.end():].splitlines():
            if not line.startswith("|"):
                break
            lines.append(line)
        found[match.group(1)] = "\n".join(lines)
    return found


def test_every_table_the_committed_run_makes_is_on_the_page_as_made():
    made = tables(committed_results())
    shown = tables_on_the_page()
    assert set(made) <= set(shown), f"tables missing from docs/performance.md: {sorted(set(made) - set(shown))}"
    for name, table in made.items():
        assert shown[name] == table, f"docs/performance.md's {name!r} table differs from `python -m bench.report`"


def test_no_table_on_the_page_is_marked_for_a_module_the_run_did_not_make():
    assert set(tables_on_the_page()) <= set(tables(committed_results()))


def test_the_page_names_the_commit_the_committed_run_measured():
    results = committed_results()
    assert results["commit"] and not results["dirty"], "bench/results.json must come from a clean tree"
    assert f"commit {results['commit'][:7]}" in PAGE.read_text()


def test_the_committed_run_is_a_full_run():
    results = committed_results()
    assert not results["quick"]
    assert {"parse", "answer", "render", "e2e", "api", "worker", "cold_start", "memory", "scaling", "growth",
            "direct"} <= set(results["modules_run"])


def test_a_table_aligns_numbers_right_and_shows_a_missing_figure_as_a_dash():
    assert md_table(["what", "ms"], [["parse", "1.5"], ["render", None]]) == (
        "| what | ms |\n| --- | ---: |\n| parse | 1.5 |\n| render | - |")


@pytest.mark.parametrize("value, text", [(0.0059616, "0.00596"), (12.5, "12.5"), (1046.51, "1047"),
                                         (177.855, "178"), (None, "-"), (0, "0")])
def test_figures_keep_three_significant_digits_without_an_exponent(value, text):
    assert n(value) == text


def test_the_report_prints_every_table_with_the_run_it_comes_from():
    done = subprocess.run([sys.executable, "-m", "bench.report"], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=True)
    assert f"commit {committed_results()['commit'][:7]}" in done.stdout.splitlines()[0]
    assert done.stdout.count("### table: ") == len(tables(committed_results()))


def test_a_job_peak_is_the_largest_resident_set_seen_not_one_inherited_across_exec():
    _JOB_PEAK_KIB[0] = 0
    _note_peak()
    assert 0 < _JOB_PEAK_KIB[0] <= _status_kib("VmHWM") + 1

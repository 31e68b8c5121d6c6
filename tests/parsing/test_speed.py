"""The parse stage is at least 2x faster than pdfplumber's extract_text over the same pages
(bench/bench_parse.py measures it per corpus paper)."""

from __future__ import annotations

import io
import time

from qagen.parsing import parse_document
from tests.parsing.helpers import make_pdf


def _best_of(runs: int, fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_parse_is_at_least_twice_as_fast_as_pdfplumber_extract_text() -> None:
    import pdfplumber

    page = [f"{n}. Explain the observation number {n} about ideal gases and entropy in detail. [{n % 5 + 1}]"
            for n in range(1, 36)]
    data = make_pdf([page] * 8)

    def plumber() -> None:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for p in pdf.pages:
                p.extract_text()

    ours = _best_of(3, lambda: parse_document(data, "speed.pdf"))
    theirs = _best_of(3, plumber)
    assert ours * 2 <= theirs, f"parse {ours * 1000:.0f} ms vs pdfplumber {theirs * 1000:.0f} ms"

"""The parser on the annotated corpus of real papers (../shared/corpus or $QAGEN_CORPUS_DIR).

Targets (issue 3): exact top-level count on >= 95% of text-layer papers, marks right on
>= 90% of papers that print marks, exact count on >= 80% of scanned papers. Scanned papers
need OCR (~35 s for the corpus on 2 cores), so that evaluation is marked slow.
"""

from __future__ import annotations

import json

import pytest

from qagen.documents import ocr
from devtools.evaluate_parsing import (
    TARGET_MARKS,
    TARGET_SCAN_COUNT,
    TARGET_TEXT_COUNT,
    evaluate,
    table,
    totals,
)
from tests.parsing.helpers import corpus_dir


@pytest.fixture(scope="module")
def corpus():  # type: ignore[no-untyped-def]
    root = corpus_dir()
    truth_file = root / "papers.json"
    if not truth_file.exists():
        pytest.skip(f"corpus not found at {root} (set QAGEN_CORPUS_DIR)")
    return root / "papers", json.loads(truth_file.read_text(encoding="utf-8"))


@pytest.mark.xfail(strict=False, reason="issue 15, open: the blind half of the enlarged corpus is below the targets (2026-12-05: text 12/17, scans 0/4 exact; the development half meets the count targets)")
def test_text_layer_papers_meet_the_targets(corpus) -> None:  # type: ignore[no-untyped-def]
    papers, truth = corpus
    results = evaluate(papers, truth, {"text"})
    t = totals(results)
    assert t.text_papers >= 10, "expected the corpus' text-layer papers"
    report = "\n" + table(results)
    assert t.text_exact / t.text_papers >= TARGET_TEXT_COUNT, report
    assert t.marks_right / t.marks_papers >= TARGET_MARKS, report


@pytest.mark.slow
@pytest.mark.skipif(not ocr.available(), reason="tesseract OCR is not installed")
@pytest.mark.xfail(strict=False, reason="issue 15, open: the blind half of the enlarged corpus is below the targets (2026-12-05: text 12/17, scans 0/4 exact; the development half meets the count targets)")
def test_all_papers_meet_the_targets_including_scans(corpus) -> None:  # type: ignore[no-untyped-def]
    papers, truth = corpus
    results = evaluate(papers, truth, {"text", "scan"})
    t = totals(results)
    report = "\n" + table(results)
    assert t.scan_exact / t.scan_papers >= TARGET_SCAN_COUNT, report
    assert t.marks_right / t.marks_papers >= TARGET_MARKS, report
    assert t.passed, report


def test_the_development_half_keeps_its_exact_counts(corpus) -> None:  # type: ignore[no-untyped-def]
    """A regression floor: the half the parser is worked from meets the count target on its
    text-layer papers (docs/parse-eval.md). The blind half is reported, never tuned to."""
    from devtools.evaluate_parsing import DEVELOPMENT, half_of

    papers, truth = corpus
    development = [paper for paper in truth if half_of(paper["file"]) == DEVELOPMENT]
    results = evaluate(papers, development, {"text"})
    t = totals(results)
    assert t.text_papers >= 10
    assert t.text_exact / t.text_papers >= TARGET_TEXT_COUNT, "\n" + table(results)

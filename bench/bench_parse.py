"""Benchmark: the parse stage against pdfplumber's extract_text and pypdfium2's raw text.

    .venv/bin/python bench/bench_parse.py [--runs 5] [--plumber-runs 3] [--papers DIR] [--record]

For every text-layer PDF of the corpus (pages without a text layer would be OCR'd, which
is not what this measures) the table shows medians of repeated runs, in ms per page:

- "parse"      `qagen.parsing.parse_document` (read, layout cleanup, segmentation, marks)
- "plumber"    pdfplumber `extract_text()` over all pages (text only, no structure)
- "pdfium raw" pypdfium2 `get_text_range()` over all pages (text only, content order)

The requirement (issue 3): parse at least 2x faster than pdfplumber extract_text on every
text PDF, i.e. "plumber / parse" >= 2.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median_seconds, print_table, record  # noqa: E402
from qagen.parsing import parse_document  # noqa: E402
from qagen.parsing.evaluate import default_corpus  # noqa: E402


def plumber_text(data: bytes) -> None:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()


def pdfium_text(data: bytes) -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
    finally:
        pdf.close()


def text_layer_pdfs(papers: Path, truth_file: Path) -> list[tuple[str, int]]:
    truth = json.loads(truth_file.read_text(encoding="utf-8")) if truth_file.exists() else []
    listed = {t["file"]: t for t in truth}
    out = []
    for path in sorted(papers.glob("*.pdf")):
        entry = listed.get(path.name, {})
        if entry.get("scanned") or entry.get("text_layer") is False:
            continue
        out.append((path.name, int(entry.get("pages") or 0)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    corpus = default_corpus()
    parser.add_argument("--papers", type=Path, default=corpus / "papers")
    parser.add_argument("--truth", type=Path, default=corpus / "papers.json")
    parser.add_argument("--runs", type=int, default=5, help="runs of parse and pdfium (median)")
    parser.add_argument("--plumber-runs", type=int, default=3, help="runs of pdfplumber (median)")
    parser.add_argument("--record", action="store_true", help="merge the figures into bench/results.json")
    args = parser.parse_args(argv)
    files = text_layer_pdfs(args.papers, args.truth)
    if not files:
        print(f"no PDFs found in {args.papers} (set QAGEN_CORPUS_DIR)", file=sys.stderr)
        return 2
    import pypdfium2 as pdfium

    rows, figures, ratios = [], {}, []
    for name, pages in files:
        data = (args.papers / name).read_bytes()
        pages = pages or len(pdfium.PdfDocument(data))
        parse_document(data, name)  # warm-up (imports, caches)
        ours = median_seconds(lambda d=data, n=name: parse_document(d, n), args.runs) * 1000 / pages
        plumber = median_seconds(lambda d=data: plumber_text(d), args.plumber_runs) * 1000 / pages
        raw = median_seconds(lambda d=data: pdfium_text(d), args.runs) * 1000 / pages
        ratios.append(plumber / ours)
        rows.append([name, pages, round(ours, 1), round(plumber, 1), round(raw, 2),
                     f"{plumber / ours:.1f}x", f"{ours / raw:.0f}x"])
        figures[name] = {"pages": pages, "parse_ms_per_page": ours, "plumber_ms_per_page": plumber,
                         "pdfium_ms_per_page": raw}
    print_table(
        "Parse stage vs pdfplumber extract_text and pypdfium2 raw text (median ms per page)",
        ["paper", "pages", "parse", "plumber", "pdfium raw", "plumber / parse", "parse / raw"],
        rows,
    )
    worst = min(ratios)
    print(f"\nslowest ratio plumber/parse: {worst:.1f}x (requirement >= 2x); "
          f"median {statistics.median(ratios):.1f}x")
    if args.record:
        record("parse", {"papers": figures, "min_ratio_plumber_over_parse": worst})
    return 0 if worst >= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())

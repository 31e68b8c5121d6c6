"""Benchmark: the parse stage against pdfplumber's extract_text and pypdfium2's raw text.

    .venv/bin/python bench/bench_parse.py [--runs 5] [--plumber-runs 3] [--papers DIR] [--record]

For every text-layer PDF of the corpus (pages without a text layer would be OCR'd, which
is not what this measures) the table shows medians of repeated runs, in ms per page:

- "parse"      `qagen.parsing.parse_document` (read, layout cleanup, segmentation, marks)
               as a worker pool process runs it: in the sandbox (`qagen.documents.sandbox`,
               configured as worker/recovery.py's worker_process_init does, with the
               production `parse_memory_mb` and `parse_timeout_seconds`), so every parse
               forks, sets its limits, scrubs the child and pickles the paper back
- "in-process" the same parse without the sandbox, for reference (what the sandbox costs
               is the difference)
- "plumber"    pdfplumber `extract_text()` over all pages (text only, no structure)
- "pdfium raw" pypdfium2 `get_text_range()` over all pages (text only, content order)

The parser is imported in this process first (as in a worker process after its first
job): the forked child has it already. The requirement (issue 3): parse at least 2x
faster than pdfplumber extract_text on every text PDF, i.e. "plumber / parse" >= 2, with
parse the sandboxed figure.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median_seconds, print_table, production_default, record  # noqa: E402
from qagen.parsing import parse_document  # noqa: E402
from devtools.evaluate_parsing import default_corpus  # noqa: E402


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


@contextmanager
def worker_sandbox():
    """Parses bounded as in a worker pool process (worker/recovery.py, worker_process_init), with the
    production settings' limits; the sandbox as it was before afterwards."""
    from qagen.documents import sandbox

    before = sandbox.limits()
    memory_mb, timeout = production_default("parse_memory_mb"), production_default("parse_timeout_seconds")
    sandbox.configure(memory_mb * 1024 * 1024, timeout)
    try:
        yield {"parse_memory_mb": memory_mb, "parse_timeout_seconds": timeout}
    finally:
        if before is None:
            sandbox.disable()
        else:
            sandbox.configure(*before)


@contextmanager
def unsandboxed(sandbox):  # type: ignore[no-untyped-def]
    """The sandbox off for a moment (the in-process reference figure and the warm-up)."""
    before = sandbox.limits()
    sandbox.disable()
    try:
        yield
    finally:
        if before is not None:
            sandbox.configure(*before)


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


def measure(files: list[tuple[str, int]], papers: Path, runs: int, plumber_runs: int) -> dict:
    """Per paper ms/page for parse, pdfplumber and pypdfium2 raw text; prints the table."""
    import pypdfium2 as pdfium

    from qagen.documents import sandbox

    rows, figures, ratios = [], {}, []
    with worker_sandbox() as limits:
        for name, pages in files:
            data = (papers / name).read_bytes()
            pages = pages or len(pdfium.PdfDocument(data))
            with unsandboxed(sandbox):
                parse_document(data, name)  # warm-up in this process (imports, caches), as a worker after a job
            parse_document(data, name)  # and once through the sandbox
            # Interleaved (parse, in-process, plumber, pdfium, parse, ...) so that a change in the
            # machine's background load during the run falls on all alike.
            times: dict[str, list[float]] = {"parse": [], "inproc": [], "plumber": [], "raw": []}
            for n in range(max(runs, plumber_runs)):
                if n < runs:
                    times["parse"].append(median_seconds(lambda d=data, m=name: parse_document(d, m), 1))
                    with unsandboxed(sandbox):
                        times["inproc"].append(median_seconds(lambda d=data, m=name: parse_document(d, m), 1))
                if n < plumber_runs:
                    times["plumber"].append(median_seconds(lambda d=data: plumber_text(d), 1))
                if n < runs:
                    times["raw"].append(median_seconds(lambda d=data: pdfium_text(d), 1))
            ours, inproc, plumber, raw = (statistics.median(times[k]) * 1000 / pages
                                          for k in ("parse", "inproc", "plumber", "raw"))
            ratios.append(plumber / ours)
            rows.append([name, pages, round(ours, 1), round(inproc, 1), round(plumber, 1), round(raw, 2),
                         f"{plumber / ours:.1f}x", f"{ours / raw:.0f}x"])
            figures[name] = {"pages": pages, "parse_ms_per_page": ours, "parse_inprocess_ms_per_page": inproc,
                             "plumber_ms_per_page": plumber, "pdfium_ms_per_page": raw}
    print_table(
        f"Parse stage vs pdfplumber extract_text and pypdfium2 raw text (median ms per page; parse in the worker's "
        f"sandbox, {limits['parse_memory_mb']} MiB / {limits['parse_timeout_seconds']} s; parse and pdfium {runs} runs, "
        f"pdfplumber {plumber_runs})",
        ["paper", "pages", "parse", "in-process (no sandbox)", "plumber", "pdfium raw", "plumber / parse",
         "parse / raw"],
        rows,
    )
    total_pages = sum(f["pages"] for f in figures.values())

    def overall(key: str) -> float:  # all pages of the corpus: total time / total pages
        return sum(f[key] * f["pages"] for f in figures.values()) / total_pages

    worst = min(ratios)
    print(f"\nslowest ratio plumber/parse: {worst:.1f}x (requirement >= 2x); "
          f"median {statistics.median(ratios):.1f}x")
    return {"papers": figures, "min_ratio_plumber_over_parse": worst, "median_ratio": statistics.median(ratios),
            "sandbox": limits, "total_pages": total_pages, "parse_ms_per_page": overall("parse_ms_per_page"),
            "parse_inprocess_ms_per_page": overall("parse_inprocess_ms_per_page"),
            "plumber_ms_per_page": overall("plumber_ms_per_page"), "pdfium_ms_per_page": overall("pdfium_ms_per_page")}


def run(runs: int = 5, plumber_runs: int = 3, papers: Path | None = None, truth: Path | None = None):
    """For `python -m bench`: summary rows and details; no rows (a note) when the corpus is absent."""
    from bench.common import Row

    corpus = default_corpus()
    papers = papers or corpus / "papers"
    files = text_layer_pdfs(papers, truth or corpus / "papers.json")
    if not files:
        print(f"parse: no corpus PDFs in {papers} (set QAGEN_CORPUS_DIR); skipped")
        return [Row("parse ms/page (corpus)", None, note=f"skipped: no corpus at {papers}")], {"skipped": str(papers)}
    result = measure(files, papers, runs, plumber_runs)
    ours, plumber, raw = result["parse_ms_per_page"], result["plumber_ms_per_page"], result["pdfium_ms_per_page"]
    label = f"{len(files)} text PDFs, {result['total_pages']} pages"
    inproc = result["parse_inprocess_ms_per_page"]
    rows = [
        Row(f"parse ms/page ({label}), in the worker's sandbox", ours, "ms", plumber, "pdfplumber extract_text",
            ours / plumber, f"<= 0.5x plumber on every paper (worst {1 / result['min_ratio_plumber_over_parse']:.2f}x)",
            result["min_ratio_plumber_over_parse"] >= 2,
            note="fork, limits and pickling per parse, as every production parse"),
        Row("  parse ms/page without the sandbox, for reference", inproc, "ms", ours, "sandboxed", inproc / ours,
            "", None, note="what the sandbox costs is the difference"),
        Row("  parse ms/page vs the raw-text floor", ours, "ms", raw, "pypdfium2 get_text_range", ours / raw,
            "", None, note="structure (layout, numbering, marks) and the sandbox cost the difference"),
    ]
    return rows, result


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
    result = measure(files, args.papers, args.runs, args.plumber_runs)
    if args.record:
        record("parse", result)
    return 0 if result["min_ratio_plumber_over_parse"] >= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())

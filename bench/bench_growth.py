"""Benchmark: cost as the work grows (issue 20): time and peak memory per stage against paper size.

    .venv/bin/python -m bench.bench_growth [--repeats 3] [--quick] [--no-corpus] [--record]

Papers: the generated grid of bench/generated_papers.py (pages 1, 5, 20, 60 x questions 5,
50, 500 where 1/4 to 12 questions a page: 7 cells) and the largest text-layer corpus papers
(two by pages, one by questions) when /work/shared/corpus is present.

Each paper is measured in a fresh child process (`--job`), which first runs the whole
pipeline once on a one-page paper (imports, fonts, matplotlib: a warm worker) and then, per
repeat, on a fresh parse of the paper:

- parse         `qagen.parsing.parse_document` in-process (read, layout, segmentation, marks)
- parse sandbox the same through `qagen.documents.sandbox.bounded` as the worker runs it
                (fork, bounded child, result pickled back): time only
- answer        the offline engine (`qagen/offline`), a fresh engine (empty answer cache), no notes
- answer+kb     the same with a knowledge base of the corpus knowledge documents (BM25), when present
- diagrams      `draw_diagrams` (charts the answers ask for, and the overview)
- render        `render_pdf`

Time is the median of the repeats. Memory is the stage's peak RSS above the RSS it started
with (Linux: /proc/self/clear_refs resets VmHWM before each stage, VmHWM is read after): C
allocations (pdfium, reportlab, matplotlib's buffers) count, memory the allocator kept
from earlier stages and reused does not. "job peak" is the child's ru_maxrss: the whole job
with imports, the figure a container limit has to cover.

A power law time = a * size^b is fitted per stage by least squares on log-log (size =
questions; parse also against pages) over the generated cells; b > 1.15 is flagged as worse
than linear. docs/performance.md, "Cost as the work grows", has the figures and what they mean.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_table, record  # noqa: E402
from bench.generated_papers import GRID  # noqa: E402

STAGES = ["parse", "parse sandbox", "answer", "answer+kb", "diagrams", "render"]
WORSE_THAN_LINEAR = 1.15


# -- the fit -----------------------------------------------------------------------------------

def fit_power_law(sizes: list[float], values: list[float]) -> tuple[float, float, float]:
    """(a, b, r2) of values = a * sizes^b by least squares on log-log; needs two distinct sizes."""
    import numpy as np

    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(values, dtype=float))
    if len(x) < 2 or np.ptp(x) == 0:
        raise ValueError("a power law needs at least two distinct sizes")
    b, log_a = np.polyfit(x, y, 1)
    residual = y - (log_a + b * x)
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((residual ** 2).sum()) / total if total > 0 else 1.0
    return float(np.exp(log_a)), float(b), r2


# -- the papers --------------------------------------------------------------------------------

def corpus_dir() -> Path:
    return Path(os.environ.get("QAGEN_CORPUS_DIR", "/work/shared/corpus"))


def corpus_cases(by_pages: int = 2, by_questions: int = 1) -> list[dict]:
    """The largest text-layer corpus papers: `by_pages` with the most pages, `by_questions` more with the
    most top-level questions; [] without the corpus."""
    listing = corpus_dir() / "papers.json"
    if not listing.exists():
        return []
    entries = [e for e in json.loads(listing.read_text(encoding="utf-8"))
               if e.get("text_layer") and not e.get("scanned") and (corpus_dir() / "papers" / e["file"]).exists()]
    chosen: list[dict] = []
    for key, count in (("pages", by_pages), ("top_level_questions", by_questions)):
        ranked = sorted(entries, key=lambda e: -(e.get(key) or 0))
        chosen += [e for e in ranked if e not in chosen][:count]
    return [{"source": "corpus", "file": e["file"], "pages": e.get("pages"),
             "questions": e.get("top_level_questions")} for e in chosen]


def grid_cases() -> list[dict]:
    return [{"source": "generated", "pages": p, "questions": q} for p, q in GRID]


def case_name(case: dict) -> str:
    if case["source"] == "corpus":
        return case["file"].rsplit(".", 1)[0][:34]
    return f"generated {case['pages']}p x {case['questions']}q"


# -- one job, in a fresh process ---------------------------------------------------------------

def _status_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _stage(function, figures: dict, name: str):  # type: ignore[no-untyped-def]
    """Run `function`, appending its wall seconds and peak RSS growth (MiB) to figures[name]."""
    resettable = _reset_peak()
    start_rss = _status_kib("VmRSS")
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM") if resettable else start_rss
    figures.setdefault(name, {"s": [], "mib": []})
    figures[name]["s"].append(seconds)
    figures[name]["mib"].append(max(0, peak - start_rss) / 1024)
    return result


def _knowledge_index():  # type: ignore[no-untyped-def]
    folder = corpus_dir() / "knowledge"
    files = sorted(folder.glob("*.md")) if folder.is_dir() else []
    if not files:
        return None
    from qagen.knowledge import KnowledgeIndex, chunk_document

    chunks = [chunk for f in files for chunk in chunk_document(f.read_bytes(), f.name)]
    return KnowledgeIndex.build(chunks) if chunks else None


def run_job(case: dict, repeats: int) -> dict:
    """Measure one paper (in this process: call it in a fresh one); the figures as a dict."""
    import resource

    from bench.generated_papers import generated_paper
    from qagen.answering.engine import AnswerEngine, work_items
    from qagen.documents import sandbox
    from qagen.parsing import parse_document
    from qagen.pipeline.diagrams import draw_diagrams
    from qagen.pipeline.render import render_pdf
    from qagen.settings import OFFLINE_MODEL

    if case["source"] == "corpus":
        data, filename = (corpus_dir() / "papers" / case["file"]).read_bytes(), case["file"]
    else:
        data, filename = generated_paper(case["pages"], case["questions"]), "generated.pdf"

    def pipeline(paper, knowledge=None):  # type: ignore[no-untyped-def]
        AnswerEngine(model=OFFLINE_MODEL, knowledge=knowledge).answer_paper(paper)
        return render_pdf(paper, draw_diagrams(paper), model=OFFLINE_MODEL)

    index = _knowledge_index()
    warm = parse_document(generated_paper(1, 5), "warm.pdf")  # a warm worker: imports, fonts, caches
    pipeline(copy.deepcopy(warm), index)
    pipeline(warm)
    figures: dict[str, dict[str, list[float]]] = {}
    pdf_pages = None
    for _ in range(repeats):
        paper = _stage(lambda: parse_document(data, filename), figures, "parse")
        sandbox.configure(0, 600)  # as the worker (memory unbounded here: its figure is not the point)
        try:
            _stage(lambda: parse_document(data, filename), figures, "parse sandbox")
        finally:
            sandbox.disable()
        if index is not None:
            with_notes = copy.deepcopy(paper)
            _stage(lambda p=with_notes: AnswerEngine(model=OFFLINE_MODEL, knowledge=index).answer_paper(p), figures,
                   "answer+kb")
            del with_notes
        _stage(lambda p=paper: AnswerEngine(model=OFFLINE_MODEL).answer_paper(p), figures, "answer")
        charts = _stage(lambda p=paper: draw_diagrams(p), figures, "diagrams")
        pdf = _stage(lambda p=paper, c=charts: render_pdf(p, c, model=OFFLINE_MODEL), figures, "render")
        if pdf_pages is None:
            from bench.generated_papers import page_count

            pdf_pages = page_count(pdf)
    from bench.generated_papers import page_count

    return {
        "case": case, "name": case_name(case), "repeats": repeats,
        "pages": page_count(data) if data[:4] == b"%PDF" else case.get("pages"),
        "questions_found": len(paper.questions), "items": len(work_items(paper)), "charts": len(charts),
        "answer_pdf_pages": pdf_pages, "knowledge": index is not None,
        "stages": {name: {"s": statistics.median(v["s"]), "mib": statistics.median(v["mib"]), "runs_s": v["s"]}
                   for name, v in figures.items()},
        "job_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_in_child(case: dict, repeats: int, timeout: float = 600) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.bench_growth", "--job", json.dumps(case),
                           "--repeats", str(repeats)], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, "PYTHONHASHSEED": "0"})
    if done.returncode != 0:
        raise RuntimeError(f"{case_name(case)}: job failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the table and the fits --------------------------------------------------------------------

def fits(jobs: list[dict]) -> dict:
    """Per stage: the exponent against questions (and for the parse stages against pages) over the generated papers."""
    generated = [j for j in jobs if j["case"]["source"] == "generated"]
    out: dict[str, dict] = {}
    for stage in STAGES:
        have = [j for j in generated if stage in j["stages"]]
        if len({j["case"]["questions"] for j in have}) < 2:
            continue
        times = [j["stages"][stage]["s"] for j in have]
        a, b, r2 = fit_power_law([j["case"]["questions"] for j in have], times)
        entry = {"vs": "questions", "a": a, "b": b, "r2": r2, "worse_than_linear": b > WORSE_THAN_LINEAR,
                 "points": len(have)}
        if stage.startswith("parse"):
            pa, pb, pr2 = fit_power_law([j["case"]["pages"] for j in have], times)
            entry["pages"] = {"a": pa, "b": pb, "r2": pr2, "worse_than_linear": pb > WORSE_THAN_LINEAR}
        out[stage] = entry
    return out


def table_rows(jobs: list[dict]) -> list[list[object]]:
    rows = []
    for j in jobs:
        cells: list[object] = [j["name"], j["pages"], j["questions_found"], j["items"]]
        for stage in STAGES:
            s = j["stages"].get(stage)
            cells.append("-" if s is None else (f"{s['s']:.3f} s" if stage == "parse sandbox"
                                                else f"{s['s']:.3f} s / {s['mib']:.0f} MiB"))
        cells.append(f"{j['job_peak_mib']:.0f} MiB")
        rows.append(cells)
    return rows


def measure(repeats: int = 3, corpus: bool = True) -> dict:
    cases = grid_cases() + (corpus_cases() if corpus else [])
    jobs = []
    started = time.perf_counter()
    for case in cases:
        job = measure_in_child(case, repeats)
        jobs.append(job)
        print(f"  {job['name']}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    header = ["paper", "pages", "questions", "items"] + [s + (" (time)" if s == "parse sandbox" else " (time / peak)")
                                                         for s in STAGES] + ["job peak RSS"]
    print_table(f"Cost as the work grows: median of {repeats}, each paper in a fresh process "
                "(peak = RSS growth over the stage)", header, table_rows(jobs))
    fitted = fits(jobs)
    fit_rows = []
    for stage, f in fitted.items():
        pages = f.get("pages")
        fit_rows.append([stage, f"{f['b']:.2f}", f"{f['r2']:.3f}", f"{pages['b']:.2f}" if pages else "",
                         "WORSE than linear" if f["worse_than_linear"] or (pages and pages["worse_than_linear"])
                         else "linear or better"])
    print_table("Fitted time = a * size^b over the generated papers", ["stage", "b (questions)", "r2",
                                                                      "b (pages)", "verdict"], fit_rows)
    return {"repeats": repeats, "grid": [list(c) for c in GRID], "jobs": jobs, "fits": fitted,
            "seconds": time.perf_counter() - started,
            "method": "fresh process per paper; time median of repeats; peak = VmHWM - VmRSS over the stage "
                      "(clear_refs); parse in-process, parse sandbox through qagen.documents.sandbox"}


def run(repeats: int = 3, corpus: bool = True):
    """For `python -m bench`: one summary row per stage (its exponent), and the details."""
    result = measure(repeats, corpus)
    rows = []
    for stage, f in result["fits"].items():
        worst = max([f["b"]] + ([f["pages"]["b"]] if "pages" in f else []))
        biggest = max((j for j in result["jobs"] if j["case"]["source"] == "generated"),
                      key=lambda j: j["case"]["questions"])
        note = f"{biggest['stages'][stage]['s']:.2f} s at {biggest['case']['questions']} questions"
        if "pages" in f:
            note += f"; exponent vs pages {f['pages']['b']:.2f}"
        rows.append(Row(f"growth: {stage} time exponent vs questions", f["b"], "", target=f"<= {WORSE_THAN_LINEAR}",
                        met=worst <= WORSE_THAN_LINEAR, note=note))
    return rows, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repeat")
    parser.add_argument("--no-corpus", action="store_true", help="the generated papers only")
    parser.add_argument("--record", action="store_true", help="merge the figures into bench/results.json")
    parser.add_argument("--job", help=argparse.SUPPRESS)  # internal: measure one paper, print JSON
    args = parser.parse_args(argv)
    if args.job:
        print(json.dumps(run_job(json.loads(args.job), args.repeats)))
        return 0
    result = measure(1 if args.quick else args.repeats, not args.no_corpus)
    if args.record:
        record("growth", result)
    return 1 if any(f["worse_than_linear"] for f in result["fits"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())

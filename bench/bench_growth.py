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
from earlier stages and reused does not. "job peak" is the child's largest VmHWM: the whole job
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


def _cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (the sandbox's fork), user + system."""
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


# The largest VmHWM this process has shown, in KiB: each stage resets VmHWM, so the job's peak
# is the largest reading taken before each reset and after each stage. (ru_maxrss cannot serve:
# Linux carries it across exec, so a child started by a large `make bench` process reports the
# parent's peak.)
_JOB_PEAK_KIB = [0]


def _note_peak() -> None:
    _JOB_PEAK_KIB[0] = max(_JOB_PEAK_KIB[0], _status_kib("VmHWM"))


def _stage(function, figures: dict, name: str):  # type: ignore[no-untyped-def]
    """Run `function`, appending its wall and CPU seconds and peak RSS growth (MiB) to figures[name]."""
    _note_peak()
    resettable = _reset_peak()
    start_rss = _status_kib("VmRSS")
    cpu, started = _cpu_seconds(), time.perf_counter()
    result = function()
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    peak = _status_kib("VmHWM") if resettable else start_rss
    _note_peak()
    entry = figures.setdefault(name, {"s": [], "cpu": [], "mib": []})
    entry["s"].append(seconds)
    entry["cpu"].append(cpu)
    entry["mib"].append(max(0, peak - start_rss) / 1024)
    return result


def _heap_stage(function, heaps: dict, name: str):  # type: ignore[no-untyped-def]
    """Run `function` under tracemalloc (already started); heaps[name] = its peak Python heap above the start, MiB."""
    import tracemalloc

    tracemalloc.reset_peak()
    start = tracemalloc.get_traced_memory()[0]
    result = function()
    heaps[name] = (tracemalloc.get_traced_memory()[1] - start) / 2**20
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

    from bench.common import page_count
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
            pdf_pages = page_count(pdf)
    _note_peak()
    job_peak = _JOB_PEAK_KIB[0] / 1024  # before tracemalloc's own memory

    # One more pass under tracemalloc (slower, so not timed): each stage's peak Python heap.
    import tracemalloc

    heaps: dict[str, float] = {}
    tracemalloc.start()
    try:
        traced = _heap_stage(lambda: parse_document(data, filename), heaps, "parse")
        if index is not None:
            _heap_stage(lambda: AnswerEngine(model=OFFLINE_MODEL, knowledge=index).answer_paper(copy.deepcopy(traced)),
                        heaps, "answer+kb")
        _heap_stage(lambda: AnswerEngine(model=OFFLINE_MODEL).answer_paper(traced), heaps, "answer")
        traced_charts = _heap_stage(lambda: draw_diagrams(traced), heaps, "diagrams")
        _heap_stage(lambda: render_pdf(traced, traced_charts, model=OFFLINE_MODEL), heaps, "render")
    finally:
        tracemalloc.stop()

    return {
        "case": case, "name": case_name(case), "repeats": repeats,
        "pages": page_count(data) if data[:4] == b"%PDF" else case.get("pages"),
        "questions_found": len(paper.questions), "items": len(work_items(paper)), "charts": len(charts),
        "answer_pdf_pages": pdf_pages, "knowledge": index is not None,
        "stages": {name: {"s": statistics.median(v["s"]), "cpu": statistics.median(v["cpu"]),
                          "rss_mib": max(v["mib"]), "heap_mib": heaps.get(name), "runs_s": v["s"]}
                   for name, v in figures.items()},
        "job_peak_mib": job_peak,
    }


def measure_in_child(case: dict, repeats: int, timeout: float = 600) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.bench_growth", "--job", json.dumps(case),
                           "--repeats", str(repeats)], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, "PYTHONHASHSEED": "0"})
    if done.returncode != 0:
        raise RuntimeError(f"{case_name(case)}: job failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the table and the fits --------------------------------------------------------------------

def _exponent(jobs: list[dict], stage: str, size: str, figure: str) -> dict | None:
    have = [j for j in jobs if j["stages"].get(stage, {}).get(figure) is not None]
    sizes = [j["case"][size] for j in have]
    if len(set(sizes)) < 2:
        return None
    a, b, r2 = fit_power_law(sizes, [max(j["stages"][stage][figure], 1e-6) for j in have])
    return {"a": a, "b": b, "r2": r2, "points": len(have), "worse_than_linear": b > WORSE_THAN_LINEAR}


def top_decade(jobs: list[dict], stage: str, figure: str = "cpu") -> float | None:
    """The exponent between the two generated papers of the most pages with the fewest and most questions
    (60 pages, 50 and 500 questions): the questions' effect alone, without the fixed costs of small papers."""
    pages = max((j["case"]["pages"] for j in jobs), default=None)
    same = sorted((j for j in jobs if j["case"]["pages"] == pages and stage in j["stages"]),
                  key=lambda j: j["case"]["questions"])
    if len(same) < 2 or same[0]["case"]["questions"] == same[-1]["case"]["questions"]:
        return None
    import math

    low, high = same[0], same[-1]
    return math.log(max(high["stages"][stage][figure], 1e-6) / max(low["stages"][stage][figure], 1e-6)) / math.log(
        high["case"]["questions"] / low["case"]["questions"])


def fits(jobs: list[dict], figure: str = "s") -> dict:
    """Per stage, over the generated papers: the exponent of `figure` (wall "s", "cpu", "heap_mib") against
    questions, for the parse stages also against pages, and the top decade's (`top_decade`)."""
    generated = [j for j in jobs if j["case"]["source"] == "generated"]
    out: dict[str, dict] = {}
    for stage in STAGES:
        entry = _exponent(generated, stage, "questions", figure)
        if entry is None:
            continue
        entry["vs"] = "questions"
        if stage.startswith("parse"):
            entry["pages"] = _exponent(generated, stage, "pages", figure)
        entry["top_decade_b"] = top_decade(generated, stage, figure)
        by_pages = entry.get("pages") or {}
        entry["flagged"] = (entry["worse_than_linear"] or by_pages.get("worse_than_linear", False)
                            or (entry["top_decade_b"] or 0) > WORSE_THAN_LINEAR)
        out[stage] = entry
    return out


def time_rows(jobs: list[dict]) -> list[list[object]]:
    rows = []
    for j in jobs:
        cells: list[object] = [j["name"], j["pages"], j["questions_found"], j["items"], j["charts"]]
        for stage in STAGES:
            s = j["stages"].get(stage)
            cells.append("-" if s is None else f"{s['s']:.3f} ({s['cpu']:.3f})")
        rows.append(cells)
    return rows


def memory_rows(jobs: list[dict]) -> list[list[object]]:
    rows = []
    for j in jobs:
        cells: list[object] = [j["name"]]
        for stage in STAGES:
            s = j["stages"].get(stage)
            if s is None or stage == "parse sandbox":
                continue
            heap = "-" if s.get("heap_mib") is None else f"{s['heap_mib']:.1f}"
            cells.append(f"{heap} / {s['rss_mib']:.1f}")
        cells.append(f"{j['job_peak_mib']:.0f}")
        rows.append(cells)
    return rows


def fit_rows(cpu: dict, wall: dict, heap: dict) -> list[list[object]]:
    rows = []
    for stage, f in cpu.items():
        pages = f.get("pages")
        w, h = wall.get(stage), heap.get(stage)
        top = f.get("top_decade_b")
        rows.append([stage, f"{f['b']:.2f}", f"{f['r2']:.2f}", f"{w['b']:.2f}" if w else "",
                     f"{pages['b']:.2f}" if pages else "", "" if top is None else f"{top:.2f}",
                     f"{h['b']:.2f}" if h else "", "WORSE than linear" if f["flagged"] else "linear or better"])
    return rows


FIT_HEADER = ["stage", "b cpu vs questions", "r2", "b wall vs questions", "b cpu vs pages",
              "b cpu, 60 pages 50->500 q", "b heap vs questions", "verdict (cpu)"]


def measure(repeats: int = 3, corpus: bool = True) -> dict:
    cases = grid_cases() + (corpus_cases() if corpus else [])
    jobs = []
    started = time.perf_counter()
    for case in cases:
        job = measure_in_child(case, repeats)
        jobs.append(job)
        print(f"  {job['name']}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    stages = [s for s in STAGES if any(s in j["stages"] for j in jobs)]
    print_table(f"Cost as the work grows: wall s (CPU s) per stage, median of {repeats}, each paper in a fresh "
                "process", ["paper", "pages", "questions", "items", "charts"] + stages, time_rows(jobs))
    print_table("Peak memory per stage: Python heap (tracemalloc) / RSS growth over the stage, MiB; the job's peak "
                "RSS", ["paper"] + [s for s in stages if s != "parse sandbox"] + ["job peak RSS"], memory_rows(jobs))
    cpu, wall, heap = fits(jobs, "cpu"), fits(jobs, "s"), fits(jobs, "heap_mib")
    print_table("Fitted cost = a * size^b over the generated papers", FIT_HEADER, fit_rows(cpu, wall, heap))
    return {"repeats": repeats, "grid": [list(c) for c in GRID], "jobs": jobs,
            "fits": {"cpu": cpu, "wall": wall, "heap": heap}, "seconds": time.perf_counter() - started,
            "method": "fresh process per paper after a warm-up paper; wall and CPU (self + children) median of "
                      "repeats; RSS growth = VmHWM - VmRSS over the stage (clear_refs), max of repeats; heap = "
                      "tracemalloc peak over the stage in one extra pass; parse in-process, parse sandbox through "
                      "qagen.documents.sandbox"}


def run(repeats: int = 3, corpus: bool = True):
    """For `python -m bench`: one summary row per stage (its CPU-time exponent against questions), and the details."""
    result = measure(repeats, corpus)
    rows = []
    biggest = max((j for j in result["jobs"] if j["case"]["source"] == "generated"),
                  key=lambda j: j["case"]["questions"])
    for stage, f in result["fits"]["cpu"].items():
        note = f"{biggest['stages'][stage]['cpu']:.2f} s of CPU at {biggest['case']['questions']} questions"
        if f.get("top_decade_b") is not None:
            note += f"; 50->500 questions at 60 pages {f['top_decade_b']:.2f}"
        if f.get("pages"):
            note += f"; vs pages {f['pages']['b']:.2f}"
        rows.append(Row(f"growth: {stage} CPU time exponent vs questions", f["b"], "",
                        target=f"<= {WORSE_THAN_LINEAR}", met=not f["flagged"], note=note))
    return rows, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repeat")
    parser.add_argument("--no-corpus", action="store_true", help="the generated papers only")
    parser.add_argument("--record", action="store_true", help="merge the figures into bench/results.json")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--job", help=argparse.SUPPRESS)  # internal: measure one paper, print JSON
    args = parser.parse_args(argv)
    if args.job:
        print(json.dumps(run_job(json.loads(args.job), args.repeats)))
        return 0
    result = measure(1 if args.quick else args.repeats, not args.no_corpus)
    if args.record:
        record("growth", result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if any(f["flagged"] for f in result["fits"]["cpu"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())

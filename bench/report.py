"""The detailed tables of docs/performance.md, generated from one `make bench` run's results.

`python -m bench.report [RESULTS]` prints, for the run recorded in bench/results.json, the
summary table and one Markdown table per module, each under a heading that names it (the KEDA
simulation's tables are in docs/deploy.md, kept current by tests/deploy). The page
quotes them verbatim; tests/bench/test_report.py fails when a table on the page is not the one
this module makes from the committed results, so no figure on the page can come from another
run. Only the tables are generated: the prose around them is written by a person who read them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from bench.common import RESULTS, percentile

STAGE_ORDER = ("parsing", "answering", "diagrams", "rendering", "storing")


def md_table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table: the first column left-aligned, the others right-aligned."""
    def cell(value: object) -> str:
        return "-" if value is None or value == "" else str(value)

    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def n(value: float | None, digits: int = 3) -> str:
    """A figure with `digits` significant digits, no exponent ("-" for a missing one)."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text:
        text = f"{value:.0f}"
    return text


def ratio(ours: float | None, peer: float | None) -> str:
    return "-" if not ours or not peer else f"{ours / peer:.2f}x"


def parse_table(d: dict) -> str:
    rows = []
    for name, p in sorted(d["papers"].items()):
        rows.append([name.removesuffix(".pdf"), p["pages"], n(p["parse_ms_per_page"]),
                     n(p["parse_inprocess_ms_per_page"]), n(p["plumber_ms_per_page"]),
                     f"{p['parse_ms_per_page'] / p['plumber_ms_per_page']:.2f}x", n(p["pdfium_ms_per_page"])])
    rows.append([f"**all {len(d['papers'])} papers**", d["total_pages"], n(d["parse_ms_per_page"]),
                 n(d["parse_inprocess_ms_per_page"]), n(d["plumber_ms_per_page"]),
                 f"{d['parse_ms_per_page'] / d['plumber_ms_per_page']:.2f}x", n(d["pdfium_ms_per_page"])])
    return md_table(["paper", "pages", "ours ms/page (sandbox)", "ours in-process", "pdfplumber",
                     "ours / pdfplumber", "pypdfium2 raw text"], rows)


def answer_table(d: dict) -> str:
    rows = [[f"one call at a time ({d['questions']} questions, {d['latency_ms']} ms a call)", n(d["sequential_s"]), "-", "-"],
            ["ours, concurrent", n(d["concurrent_s"]), "-", "-"],
            ["floor at the same concurrency", n(d["floor_s"]), "-", "-"]]
    for variant, r in d["rate_limit"].items():
        rows.append([f"rate-limited provider, {variant}", n(r["wall_s"]), r["429s"], r["requests"]])
    return md_table(["run", "wall s", "429s", "requests"], rows)


def render_table(d: dict) -> str:
    rows = [[f"PDF, {d['questions']} questions", f"{d['pages']} pages", n(d["render_wall_ms"] / d["pages"]),
             n(d["bare_pdf_wall_ms"] / d["bare_pages"]), ratio(d["render_wall_ms"] / d["pages"], d["bare_pdf_wall_ms"] / d["bare_pages"])],
            ["charts", f"{d['charts']} charts", n(d["chart_wall_ms"] / d["charts"]),
             n(d["bare_chart_wall_ms"] / d["bare_charts"]), ratio(d["chart_wall_ms"], d["bare_chart_wall_ms"])],
            ["formulas", f"{d['formulas']} formulas", n(d["math_wall_ms"] / d["formulas"]), "-", "-"],
            ["charts + PDF + formulas, whole", f"budget {d['budget_ms']} ms", n(d["total_wall_ms"]), "-",
             ratio(d["total_wall_ms"], d["budget_ms"])]]
    return md_table(["what", "of", "ours ms each (page, chart, formula) / total", "bare ms each", "ratio"], rows)


E2E_PARTS = [("upload_request_ms", "upload request (HTTP, key, limits, S3 put, session, send)"),
             ("queued_ms", "in the queue (until the task marks the session running)"),
             ("in_task_not_pipeline_ms", "in the task, not pipeline (fetch the upload, progress, store results, complete)"),
             ("storing_stage_ms", "  of which the storing stage (PDF and JSON to S3)"),
             ("finish_to_seen_ms", "finish -> seen by the client's status poll"),
             ("download_request_ms", "download request (sign the URL, 302)"),
             ("overhead_ms", "**overhead** (end to end - pipeline)"),
             ("pipeline_ms", "pipeline (parse, answer, diagrams, render)"),
             ("e2e_ms", "end to end")]


def e2e_table(d: dict) -> str:
    rows = []
    for key, label in E2E_PARTS:
        values = [job[key] for job in d["jobs"]]
        rows.append([label, n(percentile(values, 50)), n(percentile(values, 90))])
    rows.append(["bare Celery round trip (same Redis)", n(percentile(d["bare_round_trip_ms"], 50)),
                 n(percentile(d["bare_round_trip_ms"], 90))])
    rows.append(["bare S3 put (same SeaweedFS, qagen's S3 client)", n(percentile(d["bare_put_ms"], 50)),
                 n(percentile(d["bare_put_ms"], 90))])
    return md_table([f"part ({len(d['jobs'])} jobs)", "median ms", "p90 ms"], rows)


def api_table(d: dict) -> str:
    rows = []
    for level, lv in sorted(d["levels"].items(), key=lambda item: int(item[0])):
        a, p = lv["api"], lv["peer"]
        errors = sum(r.get(k, 0) for r in lv.get("api_runs", [a]) for k in
                     ("connect_errors", "read_errors", "write_errors", "timeouts", "not_accepted"))
        rows.append([level, n(a["rps"]), n(p["rps"]), ratio(a["rps"], p["rps"]), n(a["p50_ms"]), n(p["p50_ms"]),
                     n(a["p99_ms"]), n(p["p99_ms"]), ratio(a["p99_ms"], p["p99_ms"]),
                     f"{n(a['app_p99_ms'])} ({a['app_slow_over_100ms']})", f"{n(p['p99_raw_ms'])} ({p['slow_over_100ms']})",
                     n(a["cpu_ms_per_request"]), n(p["cpu_ms_per_request"]), errors])
    return md_table(["connections", "API uploads/s", "peer ops/s", "API / peer", "API p50 ms", "peer p50",
                     "API p99 ms", "peer p99", "API / peer p99", "API in-app p99 (> 100 ms)",
                     "peer raw p99 (> 100 ms)", "API CPU ms/upload", "peer CPU ms/op", "wrk errors or non-202"], rows)


def worker_table(d: dict) -> str:
    rows = []
    for variant, m in d["medians"].items():
        runs = len(d["runs"].get(variant, []))
        rows.append([variant, runs, n(m["ready_s"]), n(m["ready_cpu_s"], 2), n(m["first_done_s"]),
                     n(m["first_job_after_ready_s"]), n(m["preloaded_s"]), n(m["warm_job_s"])])
    return md_table(["variant", "runs", "ready s", "CPU to ready s", "first task done s",
                     "first job (done - ready) s", "preloaded s after start", "next job, warm s"], rows)


def worker_imports_table(d: dict) -> str:
    imports = d["startup_imports"]
    rows = [[name, n(ms)] for name, ms in imports["qagen_modules_ms"].items()]
    rows += [[f"{name} (library)", n(ms)] for name, ms in imports["heavy_libraries_ms"].items()]
    return md_table([f"on the start-up path ({imports['modules_imported']} modules imported)", "cumulative ms (-X importtime)"], rows)


def cold_start_table(d: dict) -> str:
    rows = []
    for variant, m in d["medians"].items():
        if not isinstance(m, dict):
            continue
        first = m.get("first_stages_s") or {}
        rows.append([variant, len(d["runs"].get(variant, [])), n(m["ready_s"]), n(m["ready_cpu_s"], 2),
                     n(m["first_job_s"]), n(m["warm_job_s"]), n(m.get("background_import_s")), n(m.get("warmed_s")),
                     " / ".join(n(first[s], 2) for s in STAGE_ORDER if s in first) or "-"])
    rows.append(["litellm import alone, fresh interpreter", "-", "-", "-", n(d["medians"]["litellm_import_s"]),
                 "-", "-", "-", "-"])
    rows.append(["litellm import + first-call set-up", "-", "-", "-", n(d["medians"]["litellm_ready_to_call_s"]),
                 "-", "-", "-", "-"])
    return md_table(["variant", "runs", "ready s", "CPU to ready s", "first job s (after ready; idle: after sent)",
                     "warm job s", "litellm in the background s", "warmed up s after start",
                     "first job's stages s (parse / answer / diagrams / render / store)"], rows)


def memory_table(d: dict) -> str:
    bare, idle = d["bare"], d["idle"]
    rows = [["worker main process, idle", n(idle["main"]["rss"]), n(idle["main"]["pss"]),
             f"{n(bare['main']['rss'])} / {n(bare['main']['pss'])}"],
            ["worker pool process, idle (fresh)", n(idle["child"]["rss"]), n(idle["child"]["pss"]),
             f"{n(bare['child']['rss'])} / {n(bare['child']['pss'])}"],
            [f"worker pool process, busy: peak during a {d['questions']}-question PDF (its first job, {n(d['job_seconds'], 2)} s)",
             n(d["busy_peak"]["rss"]), n(d["busy_peak"]["pss"]), "-"],
            ["worker pool process, idle after that job", n(d["warm_idle"]["rss"]), n(d["warm_idle"]["pss"]), "-"],
            ["worker main process, after the job", n(d["main_after_job"]["rss"]), n(d["main_after_job"]["pss"]), "-"]]
    return md_table([f"process (median of {d['repeats']} runs)", "RSS MiB", "PSS MiB", "bare Celery RSS / PSS"], rows)


def api_memory_table(d: dict) -> str:
    m = d["memory_mib"]
    rows = [["idle", n(m["worker_idle_rss"]), n(m["worker_idle_pss"])],
            ["peak under the upload load (median of the repeats' peaks: "
             + ", ".join(n(v) for v in m["worker_peak_rss_per_repeat"]) + ")", n(m["worker_peak_rss"]), n(m["worker_peak_pss"])]]
    return md_table(["gunicorn API worker", "RSS MiB", "PSS MiB"], rows)


def scaling_table(d: dict) -> str:
    rows = []
    for processes, key in ((1, "one"), (2, "two")):
        s = d[key]
        busy = s["cores_busy"]
        rest = sum(v for k, v in busy.items() if k not in ("pool processes", "other processes"))
        rows.append([processes, n(s["median_s"]), n(s["papers_per_s"] * 60), " ".join(f"{w:.2f}" for w in s["walls_s"]),
                     f"{busy['pool processes']:.2f} / {rest:.2f} / {busy.get('other processes', 0):.2f}",
                     n(s["cpu_s_per_paper"]["pool processes"] * 1000), n(s["cpu_s_per_paper"]["worker main"] * 1000),
                     s["pool_processes_replaced"]])
    return md_table(["pool processes", f"batch of {d['papers']}, median s", "papers/min", "each run, s",
                     "cores busy: pool / rest of the stack / other processes", "pool CPU per paper ms",
                     "worker main CPU per paper ms", "pool processes replaced"], rows)


def direct_table(d: dict) -> str:
    rows = []
    for case, r in d["runs"].items():
        for way in ("multipart", "direct", "peer"):
            w = r[way]
            rows.append([f"{case} {way}", n(w["uploads_per_s"]), n(w["p50_ms"]), n(w["p90_ms"]),
                         n(w["api_cpu_ms"]) if way != "peer" else "-", w["errors"]])
    return md_table(["size x clients, way", "uploads/s", "p50 ms", "p90 ms", "API CPU ms/upload", "errors"], rows)


def _growth_strings(rows: list[list[object]]) -> list[list[object]]:
    return [[f"{c:.3g}" if isinstance(c, float) else c for c in row] for row in rows]


def growth_time_table(d: dict) -> str:
    from bench.bench_growth import STAGES, time_rows

    return md_table(["paper", "pages", "questions", "items", "charts", *STAGES], _growth_strings(time_rows(d["jobs"])))


def growth_memory_table(d: dict) -> str:
    from bench.bench_growth import STAGES, memory_rows

    header = ["paper", *[s for s in STAGES if s != "parse sandbox"], "job peak RSS"]
    return md_table(header, _growth_strings(memory_rows(d["jobs"])))


def growth_fit_table(d: dict) -> str:
    from bench.bench_growth import FIT_HEADER, fit_rows

    return md_table(FIT_HEADER, fit_rows(d["fits"]["cpu"], d["fits"]["wall"], d["fits"]["heap"]))


def fairness_table(d: dict) -> str:
    rows = []
    for mode, runs in d["runs"].items():
        for index, r in enumerate(runs, 1):
            rows.append([f"{mode}, run {index}", n(r["paper_s"]), n(r["b_start_s"]), n(r["b_complete_s"]),
                         n(r["a_total_s"]), r["a_started_after_b"], f"{r['other_cpu_share']:.0%}"])
        m = d["median"][mode]
        rows.append([f"**{mode}, median**", n(m["paper_s"]), n(m["b_start_s"]), n(m["b_complete_s"]),
                     n(m["a_total_s"]), n(m["a_started_after_b"]), f"{m['other_cpu_share']:.0%}"])
    return md_table([f"scheduling (A: {d['backlog']} papers, then B: 1)", "one paper s", "B upload->start s",
                     "B upload->complete s", "A total s", "A papers started after B", "other processes' CPU"], rows)


TABLES: dict[str, tuple[str, Callable[[dict], str]]] = {
    "parse": ("parse", parse_table),
    "answer": ("answer", answer_table),
    "render": ("render", render_table),
    "e2e": ("e2e", e2e_table),
    "api": ("api", api_table),
    "api memory": ("api", api_memory_table),
    "worker": ("worker", worker_table),
    "worker imports": ("worker", worker_imports_table),
    "cold start": ("cold_start", cold_start_table),
    "memory": ("memory", memory_table),
    "scaling": ("scaling", scaling_table),
    "growth time": ("growth", growth_time_table),
    "growth memory": ("growth", growth_memory_table),
    "growth fits": ("growth", growth_fit_table),
    "direct": ("direct", direct_table),
    "fairness": ("fairness", fairness_table),
}


def tables(results: dict) -> dict[str, str]:
    """Every table this run's results make, by name; a module the run skipped makes none."""
    out = {"summary": results["summary_markdown"].strip()}
    for name, (module, make) in TABLES.items():
        entry = results.get("modules", {}).get(module)
        if entry and isinstance(entry.get("details"), dict) and entry["details"]:
            out[name] = make(entry["details"])
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else RESULTS
    results = json.loads(path.read_text())
    print(f"<!-- make bench of {results['started'][:10]}, commit {results['commit'][:7]}"
          f"{' (dirty tree)' if results.get('dirty') else ''}, {results['duration_s']:.0f} s -->")
    for name, text in tables(results).items():
        print(f"\n### table: {name}\n\n{text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

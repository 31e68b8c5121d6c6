"""Benchmark: the answers PDF and its charts, beside bare reportlab and bare seaborn.

    .venv/bin/python bench/bench_render.py [--runs 7] [--questions 40] [--charts 8] [--svg]

The paper is `devtools.sample_paper.sample_paper()`: a 40-question mock exam with
parts, options, Markdown answers, ~35 formulas, citations and 8 answer charts (+ the
overview chart). Each stage runs `--runs` times after a warm-up; the table shows medians
of wall time (and of process CPU time, which a busy machine disturbs less).

- "qagen PDF" is `render_pdf` (two layout passes for the contents, math, embedding charts)
- "bare reportlab" typesets the same text as plain paragraphs in one pass (no contents,
  bookmarks, Markdown, math or images)
- "qagen charts" is `draw_diagrams` (validation, seaborn, PNG encoding)
- "bare seaborn" draws the same data with the same seaborn call and `savefig` defaults

The budget (a benchmark, not a test): render <= 15 ms per page + 100 ms per chart.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import page_count  # noqa: E402
from qagen.model import Paper  # noqa: E402
from qagen.pipeline.diagrams import answered_items, draw_diagrams, overview_spec  # noqa: E402
from devtools.sample_paper import sample_paper  # noqa: E402
from qagen.pipeline.render import render_pdf  # noqa: E402


def measure(function: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """Median wall and CPU milliseconds over `runs` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return statistics.median(walls), statistics.median(cpus), result


# -- bare reportlab: the same text, plain paragraphs, one pass -----------------------------------

def all_text(paper: Paper) -> list[str]:
    texts = [paper.title, paper.instructions]

    def item(node, heading: str | None = None) -> None:
        if heading:
            texts.append(heading)
        texts.append(node.text)
        texts.extend(f"({o.label}) {o.text}" for o in node.options)
        for part in node.parts:
            item(part, f"({part.label})")
        if node.answer is not None:
            texts.append(node.answer.text)
            texts.extend(f"[{n}] {c.document}, p. {c.page}: {c.excerpt}"
                         for n, c in enumerate(node.answer.citations, start=1))
            texts.extend(node.answer.notes)

    for question in paper.questions:
        item(question, f"Question {question.number}")
        for alternative in question.alternatives:
            item(alternative, f"Question {question.number} (alternative)")
    return [text for text in texts if text]


def bare_reportlab(texts: list[str]) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from qagen.pipeline.pdf.fonts import SANS, register_fonts

    register_fonts()
    style = ParagraphStyle("plain", fontName=SANS, fontSize=10, leading=14, spaceAfter=4)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, initialFontName=SANS)
    doc.build([Paragraph(escape(text).replace("\n", "<br/>"), style) for text in texts])
    return buffer.getvalue()


# -- bare seaborn: the same data, the same seaborn call, savefig defaults ------------------------

def bare_seaborn(spec: dict) -> bytes:
    import seaborn as sns
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.4), dpi=150)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    kind = spec["kind"]
    if kind == "bar":
        sns.barplot(x=[str(v) for v in spec["x"]], y=spec["y"], ax=axes)
    elif kind == "line":
        sns.lineplot(x=spec["x"], y=spec["y"], ax=axes)
    elif kind == "scatter":
        sns.scatterplot(x=spec["x"], y=spec["y"], ax=axes)
    elif kind == "histogram":
        sns.histplot(x=spec["values"], bins=spec.get("bins", "auto"), ax=axes)
    elif kind == "box":
        groups = spec.get("groups") or {"": spec["values"]}
        sns.boxplot(x=[k for k, v in groups.items() for _ in v], y=[x for v in groups.values() for x in v], ax=axes)
    elif kind == "pie":
        axes.pie(spec["values"], labels=spec["labels"])
    elif kind == "function":
        import numpy as np
        import sympy

        x = sympy.Symbol("x")
        function = sympy.lambdify(x, sympy.sympify(spec["expression"].replace("^", "**")), "numpy")
        xs = np.linspace(spec["x_min"], spec["x_max"], 400)
        sns.lineplot(x=xs, y=function(xs), ax=axes)
    axes.set_title(spec.get("title", ""))
    axes.set_xlabel(spec.get("x_label", ""))
    axes.set_ylabel(spec.get("y_label", ""))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--charts", type=int, default=8)
    parser.add_argument("--page-size", default="A4")
    parser.add_argument("--svg", action="store_true", help="also time the SVG variant of every chart")
    parser.add_argument("--write-pdf", metavar="PATH", help="save the benchmark PDF (e.g. for docs/images)")
    return parser


def main(argv: list[str] | None = None) -> int:
    benchmark(parser().parse_args(argv))
    return 0


def run(runs: int = 7):
    """For `python -m bench`: summary rows and details."""
    from bench.common import Row

    r = benchmark(parser().parse_args(["--runs", str(runs)]))
    page, bare_page = r["render_wall_ms"] / r["pages"], r["bare_pdf_wall_ms"] / r["bare_pages"]
    chart, bare_chart = r["chart_wall_ms"] / r["charts"], r["bare_chart_wall_ms"] / r["bare_charts"]
    rows = [
        Row(f"render ms/page ({r['questions']} questions, {r['pages']} pages)", page, "ms", bare_page,
            "bare reportlab, same text", page / bare_page, "<= 15 ms/page", page <= 15,
            note=f"cpu ratio {r['render_cpu_ms'] / r['pages'] / (r['bare_pdf_cpu_ms'] / r['bare_pages']):.2f}x; "
                 "ours adds contents (2 passes), Markdown, math, images"),
        Row(f"render ms/chart ({r['charts']} charts)", chart, "ms", bare_chart, "bare seaborn, same data",
            chart / bare_chart, "<= 100 ms/chart", chart <= 100),
        Row("  charts + PDF within the budget (15 ms/page + 100 ms/chart)", r["total_wall_ms"], "ms", r["budget_ms"],
            "budget", r["total_wall_ms"] / r["budget_ms"], "<= budget", r["total_wall_ms"] <= r["budget_ms"]),
    ]
    return rows, r


def benchmark(args: argparse.Namespace) -> dict:
    paper = sample_paper(questions=args.questions, charts=args.charts)
    specs = [spec for spec in [overview_spec(paper)] if spec]
    specs += [item.answer.chart for item in answered_items(paper) if item.answer.chart]

    def render(figures):
        return render_pdf(paper, figures, model="openai/gpt-4o-mini", page_size=args.page_size, subject="Science")

    # Warm-up: imports, fonts, sympy, seaborn, mathtext parser.
    figures = draw_diagrams(paper)
    pdf = render(figures)
    texts = all_text(paper)
    bare_pdf = bare_reportlab(texts)
    for spec in specs:
        bare_seaborn(spec)

    pages, bare_pages, charts = page_count(pdf), page_count(bare_pdf), len(figures)
    chart_wall, chart_cpu, figures = measure(lambda: draw_diagrams(paper), args.runs)
    render_wall, render_cpu, pdf = measure(lambda: render(figures), args.runs)
    bare_pdf_wall, bare_pdf_cpu, _ = measure(lambda: bare_reportlab(texts), args.runs)
    bare_chart_wall, bare_chart_cpu, _ = measure(lambda: [bare_seaborn(spec) for spec in specs], args.runs)

    from qagen.pipeline.pdf.math import render_formula
    from qagen.pipeline.pdf.markdown import _markdown

    formulas = {token.content for text in texts for block in _markdown().parse(text)
                for token in (block.children or [block]) if token.type.startswith("math")}
    from matplotlib.mathtext import MathTextParser

    def all_formulas():
        MathTextParser._parse_cached.cache_clear()  # mathtext's own cache would hide the cost
        return [render_formula(tex, 10) for tex in formulas]

    math_wall, math_cpu, _ = measure(all_formulas, args.runs)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"qagen render benchmark: {args.questions} questions, {charts} charts, {len(formulas)} distinct formulas, "
          f"{args.page_size}; {args.runs} runs, medians (load average {load:.1f}, {os.cpu_count()} CPUs)\n")
    header = f"{'stage':<34} {'wall ms':>9} {'cpu ms':>9} {'unit':>8} {'ms/unit':>9} {'cpu/unit':>9} {'ratio':>7}"
    print(header)
    print("-" * len(header))

    def row(name, wall, cpu, units, unit, base=None):
        ratio = f"{cpu / base:.2f}x" if base else ""
        count = f"{units} {unit}"
        print(f"{name:<34} {wall:9.0f} {cpu:9.0f} {count:>8} {wall / units:9.1f} {cpu / units:9.1f} {ratio:>7}")

    row("qagen PDF (render_pdf)", render_wall, render_cpu, pages, "pages",
        base=(bare_pdf_cpu / bare_pages) * pages)
    row("bare reportlab, same text", bare_pdf_wall, bare_pdf_cpu, bare_pages, "pages")
    row("qagen charts (draw_diagrams)", chart_wall, chart_cpu, charts, "charts", base=bare_chart_cpu)
    row("bare seaborn, same data", bare_chart_wall, bare_chart_cpu, len(specs), "charts")
    row("  in the PDF: math (mathtext)", math_wall, math_cpu, max(len(formulas), 1), "formulas")
    if args.svg:
        from charts import render_chart

        svg_wall, svg_cpu, svgs = measure(lambda: [render_chart(spec, format="svg") for spec in specs], args.runs)
        png_sizes = sum(len(figure.png) for figure in figures.values())
        row("charts as SVG (not embedded)", svg_wall, svg_cpu, len(specs), "charts", base=chart_cpu)
        print(f"{'':<34} PNG {png_sizes / 1024:.0f} KB vs SVG {sum(map(len, svgs)) / 1024:.0f} KB for all charts")

    total, budget = render_wall + chart_wall, 15 * pages + 100 * charts
    print("-" * len(header))
    print("ratio (of cpu medians): qagen PDF per page / bare reportlab per page; qagen charts / bare seaborn")
    print(f"total (charts + PDF): {total:.0f} ms wall, {render_cpu + chart_cpu:.0f} ms cpu; "
          f"budget 15 ms x {pages} pages + 100 ms x {charts} charts = {budget} ms -> "
          f"{'within' if total <= budget else 'OVER'} budget")
    print(f"PDF: {len(pdf) / 1024:.0f} KB, {pages} pages")
    if args.write_pdf:
        Path(args.write_pdf).write_bytes(pdf)
        print(f"wrote {args.write_pdf}")
    return {"runs": args.runs, "questions": args.questions, "pages": pages, "bare_pages": bare_pages, "charts": charts,
            "bare_charts": len(specs), "formulas": len(formulas), "render_wall_ms": render_wall,
            "render_cpu_ms": render_cpu, "bare_pdf_wall_ms": bare_pdf_wall, "bare_pdf_cpu_ms": bare_pdf_cpu,
            "chart_wall_ms": chart_wall, "chart_cpu_ms": chart_cpu, "bare_chart_wall_ms": bare_chart_wall,
            "bare_chart_cpu_ms": bare_chart_cpu, "math_wall_ms": math_wall, "total_wall_ms": total,
            "budget_ms": budget, "pdf_bytes": len(pdf)}


if __name__ == "__main__":
    raise SystemExit(main())

"""Generated question papers of a chosen size: N pages, M questions, typeset by reportlab.

    from bench.generated_papers import generated_paper, GRID
    pdf = generated_paper(pages=20, questions=50)

Unlike bench/papers.py (tiny hand-built PDFs, one line a question), these look like real
papers: a header block and instructions, section headings, questions of normal length with
marks in brackets at the right, some with parts (a), (b), (c) each with its own marks, some
multiple choice with four options (A)-(D), some asking for a chart or a graph (so the
diagrams stage has work in proportion), calculations the offline engine works out, answer
space, and a "Page n of N" footer. The same (pages, questions) always gives the same bytes.

Questions are spread evenly over the pages: several to a page when M > N; when N > M a
question owns several pages and gets more parts, with answer space between them (as
Edexcel-style papers do). Not every (pages, questions) pair is a paper: `cell_exists`
keeps 1/4 to 12 questions a page (the corpus spans 0.4 to 4.5; a dense MCQ sheet reaches
about 10).
"""

from __future__ import annotations

import io
from functools import lru_cache

from bench.common import page_count

PAGES = (1, 5, 20, 60)
QUESTIONS = (5, 50, 500)
MIN_PER_PAGE, MAX_PER_PAGE = 0.25, 12.0


def cell_exists(pages: int, questions: int) -> bool:
    """Whether `questions` questions on `pages` pages is a plausible paper (1/4 to 12 a page)."""
    return MIN_PER_PAGE <= questions / pages <= MAX_PER_PAGE


GRID = [(p, q) for p in PAGES for q in QUESTIONS if cell_exists(p, q)]

_NAMES = ["Asha", "Ben", "Chen", "Dev", "Elif", "Farid"]

# (kind, text); {a} {b} {c} vary with the question number so no two questions are the same text.
_STEMS = [
    ("short", "State Newton's second law of motion and explain, with an example from everyday life, what "
              "happens to the acceleration of a trolley of mass {a} kg when the resultant force on it is doubled."),
    ("calc", "A car travels {c} km in 2.5 hours along a straight road. Calculate its average speed in km/h, "
             "showing your working clearly."),
    ("mcq", "Which of the following is the correct value of the derivative of f(x) = x^3 + {a}x at x = 1?"),
    ("parts", "The marks of six students in a class test are 12, 15, {a}, 18, 14 and {b}."),
    ("calc", "Solve for x: {a}x + 3 = {b}. Give your answer as a fraction in its simplest form."),
    ("chart", "The table shows the marks scored by {names} in a quiz: {marks}. Draw a bar chart to show "
              "these marks and state who scored the most."),
    ("mcq", "A solution has a pH of {a}. Which of the following best describes the solution?"),
    ("short", "Explain why the sky appears blue during the day but red or orange near sunset. Refer to the "
              "scattering of light by particles in the atmosphere in your answer."),
    ("parts", "A rectangular field is {c} m long and {b} m wide. A path of uniform width 2 m runs around "
              "the inside of the field."),
    ("graph", "Plot the graph of y = x^2 - {a} for values of x from -4 to 4, and use it to estimate the "
              "roots of the equation x^2 = {a}."),
    ("calc", "Evaluate the integral of {a}x from 0 to 3, and interpret the result as an area under a line."),
    ("mcq", "Which gas is produced at the cathode when dilute sulfuric acid is electrolysed using inert "
            "electrodes?"),
]

_OPTIONS = {
    2: [f"{n}" for n in ("3 + a", "a", "3", "3a")],
    6: ["strongly acidic", "weakly acidic", "neutral", "alkaline"],
    11: ["oxygen", "hydrogen", "sulfur dioxide", "water vapour"],
}

_PART_TEXTS = [
    "Find the mean of the values given above.",
    "Find the median, and explain why it differs from the mean.",
    "Calculate the area of the path, showing your method.",
    "Give one reason why the range is not a good measure of spread here.",
    "Describe how the result would change if one value were doubled.",
    "Explain, with reference to your working, whether the claim in the question is justified.",
]


def _fill(text: str, n: int) -> str:
    a, b, c = n % 7 + 2, n % 5 + 11, 100 + 5 * (n % 40)
    marks = ", ".join(f"{name} {(n * 7 + i * 5) % 17 + 3}" for i, name in enumerate(_NAMES[:4]))
    return text.format(a=a, b=b, c=c, names=", ".join(_NAMES[:3]) + " and " + _NAMES[3], marks=marks)


def question_plan(n: int, span_pages: int, dense: bool) -> dict:
    """Question `n` (1-based): its kind, stem, options, parts (label, text, marks) and marks.

    `span_pages` > 1: the question owns that many pages and gets two parts for each; `dense`
    (many questions a page): at most two parts, so the page holds them."""
    kind, stem = _STEMS[(n - 1) % len(_STEMS)]
    stem = _fill(stem, n)
    if kind == "mcq" and span_pages > 1:  # a question that owns pages has parts, not options
        kind = "short"
    options = _OPTIONS.get((n - 1) % len(_STEMS), ["10", "12", "14", "16"]) if kind == "mcq" else []
    parts = []
    if kind == "parts" or span_pages > 1:
        count = max(2 if dense else 3, 2 * span_pages)
        parts = [(chr(ord("a") + i) if i < 26 else f"a{i}", _PART_TEXTS[(n + i) % len(_PART_TEXTS)],
                  1 + (n + i) % 4) for i in range(count)]
    marks = sum(p[2] for p in parts) if parts else (1 if kind == "mcq" else 2 + n % 4)
    return {"number": n, "kind": kind, "stem": stem, "options": options, "parts": parts, "marks": marks}


@lru_cache(maxsize=32)
def generated_paper(pages: int, questions: int) -> bytes:
    """A PDF of exactly `pages` A4 pages holding `questions` numbered questions (see the module doc)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if pages < 1 or questions < 1:
        raise ValueError("a paper has at least one page and one question")
    per_page = questions / pages
    dense = per_page > 5
    body = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=12.5)
    bold = ParagraphStyle("bold", parent=body, fontName="Helvetica-Bold", fontSize=11, leading=14)
    title = ParagraphStyle("title", parent=body, fontName="Helvetica-Bold", fontSize=14, leading=18, alignment=1)
    width = A4[0] - 40 * mm

    def line(label: str, text: str, marks: int | None, indent: float = 0) -> Table:
        cells = [[Paragraph(label, body), Paragraph(text, body), Paragraph(f"[{marks}]" if marks else "", body)]]
        table = Table(cells, colWidths=[10 * mm + indent, width - 24 * mm - indent, 14 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("ALIGN", (2, 0), (2, 0), "RIGHT")]))
        return table

    # question n starts on page first_page(n); the page breaks go where the page changes.
    def first_page(n: int) -> int:
        return (n - 1) * pages // questions

    story = [Paragraph("Greenfield Examinations Board", title),
             Paragraph("General Certificate - Science and Mathematics - Paper 1", bold),
             Paragraph(f"Time allowed: 2 hours. Answer all {questions} questions. The marks for each question "
                       "are shown in brackets [ ]. Write your answers in the spaces provided.", body),
             Spacer(1, 4 * mm)]
    page = 0
    sections = "ABCDEFGH"
    for n in range(1, questions + 1):
        while first_page(n) > page:  # the previous question's page(s) are done
            story.append(PageBreak())
            page += 1
        if n == 1 or (n - 1) * len(sections) // questions != (n - 2) * len(sections) // questions:
            story.append(Paragraph(f"SECTION {sections[(n - 1) * len(sections) // questions]}", bold))
        span = (first_page(n + 1) if n < questions else pages) - first_page(n)
        plan = question_plan(n, span, dense)
        story.append(line(f"{n}.", plan["stem"], None if plan["parts"] else plan["marks"]))
        if plan["options"]:
            story.append(line("", "&nbsp;&nbsp;&nbsp;".join(f"({letter}) {text}" for letter, text
                                                           in zip("ABCD", plan["options"])), None, 4 * mm))
        for i, (label, text, marks) in enumerate(plan["parts"]):
            if span > 1 and i and i % 2 == 0:  # two parts a page on a question that owns several pages
                story.append(PageBreak())
                page += 1
            story.append(line(f"({label})", text, marks, 4 * mm))
            if span > 1:
                story.append(Spacer(1, 40 * mm))  # answer space
        story.append(Spacer(1, 2.5 * mm if dense else 6 * mm))

    def footer(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawCentredString(A4[0] / 2, 12 * mm, f"Page {doc.page} of {pages}")
        canvas.drawString(20 * mm, A4[1] - 12 * mm, "GEB/SM/P1")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, invariant=True,  # the same bytes every time
                            title=f"Generated paper, {pages} pages, {questions} questions")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


if __name__ == "__main__":  # a look at the grid: python -m bench.generated_papers
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from qagen.parsing import parse_document

    for p, q in GRID:
        data = generated_paper(p, q)
        paper = parse_document(data, "generated.pdf")
        parts = sum(len(x.parts) for x in paper.questions)
        print(f"{p:>3} pages {q:>4} questions: {len(data) // 1024:>5} KiB, {page_count(data)} pages, "
              f"{len(paper.questions)} questions parsed, {parts} parts")

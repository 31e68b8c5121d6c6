"""Diagrams stage: chart images for the PDF, drawn by charts/.

Every paper with printed marks gets an overview chart: marks per section when the
sections carry marks, else marks per question. An answer that carries a chart spec gets
its chart. A chart that fails to draw leaves a note on the answer instead of failing the
job, and the answer itself stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from qagen.model import Paper, Part, Question

log = logging.getLogger(__name__)

OVERVIEW = "overview"
MAX_OVERVIEW_BARS = 60


@dataclass
class Figure:
    key: str
    caption: str
    png: bytes


def short_section(name: str) -> str:
    """"Section A: Multiple choice" -> "Section A" (the part before a colon or dash, when there is one)."""
    name = " ".join(str(name).split())
    for separator in (":", " – ", " — ", " - "):
        head = name.split(separator, 1)[0].strip()
        if head and head != name and len(head) <= 20:
            return head
    return name


def _label(text: str, limit: int = 24) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def overview_spec(paper: Paper) -> dict | None:
    """A bar chart of marks per section (if the sections carry marks) or per question; None if too few marks."""
    sections = [(s.name, _number(s.marks)) for s in paper.sections or [] if _number(s.marks) is not None]
    if len(sections) >= 2 and len(sections) <= MAX_OVERVIEW_BARS:
        labels = _unique_labels([short_section(name) for name, _ in sections])
        values = [marks for _, marks in sections]
        return {"kind": "bar", "x": labels, "y": values, "title": "Marks per section", "x_label": "Section",
                "y_label": "Marks"}
    marks = [(q.number, _number(q.marks)) for q in paper.questions or [] if _number(q.marks) is not None]
    if len(marks) < 2 or len(marks) > MAX_OVERVIEW_BARS:
        return None
    return {
        "kind": "bar",
        "x": _unique_labels([number for number, _ in marks]),
        "y": [value for _, value in marks],
        "title": "Marks per question",
        "x_label": "Question",
        "y_label": "Marks",
    }


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if result == result and abs(result) != float("inf") else None


def _unique_labels(labels: list[str]) -> list[str]:
    """Bar categories must be distinct: a repeated question number gets a suffix."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        label = _label(label) or "?"
        count = seen.get(label, 0)
        seen[label] = count + 1
        out.append(label if count == 0 else f"{label} ({count + 1})")
    return out


def answered_items(paper: Paper) -> list[Question | Part]:
    """Every question, alternative and part (at any depth) that carries an answer, in document order."""
    items: list[Question | Part] = []

    def walk(item: Question | Part) -> None:
        for part in item.parts or []:
            walk(part)
        if item.answer is not None:
            items.append(item)

    for question in paper.questions or []:
        walk(question)
        for alternative in getattr(question, "alternatives", None) or []:
            walk(alternative)
    return items


def figure_key(item: Question | Part) -> str:
    """The key of the figure that illustrates `item`'s answer (the render stage looks it up the same way)."""
    return str(id(item))


def draw_diagrams(paper: Paper) -> dict[str, Figure]:
    """Figures keyed by `OVERVIEW` or by `figure_key(item)` for the item whose answer they illustrate."""
    from charts import ChartSpecError, render_chart

    figures: dict[str, Figure] = {}
    spec = overview_spec(paper)
    if spec:
        try:
            figures[OVERVIEW] = Figure(OVERVIEW, spec["title"], render_chart(spec))
        except Exception:  # the overview table still shows the marks
            log.exception("overview chart failed")
    for item in answered_items(paper):
        chart = item.answer.chart
        if not chart:
            continue
        try:
            png = render_chart(chart)
        except ChartSpecError as exc:
            item.answer.notes.append(f"The diagram could not be drawn: {exc}")
            continue
        except Exception:  # a broken chart must never cost the teacher the answer
            log.exception("chart failed")
            item.answer.notes.append("The diagram could not be drawn.")
            continue
        key = figure_key(item)
        title = chart.get("title") if isinstance(chart, dict) else None
        figures[key] = Figure(key, str(title) if title else "Diagram", png)
    return figures

"""Diagrams stage: chart images for the PDF, drawn by charts/.

Every paper with printed marks gets an overview of marks per question; an answer that
carries a chart spec gets its chart. A chart that fails to draw leaves a note on the
answer instead of failing the job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from qagen.model import Paper, answerable_items

log = logging.getLogger(__name__)

OVERVIEW = "overview"


@dataclass
class Figure:
    key: str
    caption: str
    png: bytes


def overview_spec(paper: Paper) -> dict | None:
    marks = [(q.number, q.marks) for q in paper.questions if q.marks is not None]
    if len(marks) < 2:
        return None
    return {
        "kind": "bar",
        "x": [number for number, _ in marks],
        "y": [value for _, value in marks],
        "title": "Marks per question",
        "x_label": "Question",
        "y_label": "Marks",
    }


def draw_diagrams(paper: Paper) -> dict[str, Figure]:
    """Figures keyed by `OVERVIEW` or by the id() of the item whose answer they illustrate."""
    from charts import ChartSpecError, render_chart

    figures: dict[str, Figure] = {}
    spec = overview_spec(paper)
    if spec:
        figures[OVERVIEW] = Figure(OVERVIEW, "Marks per question", render_chart(spec))
    for item in answerable_items(paper):
        if item.answer is None or not item.answer.chart:
            continue
        try:
            png = render_chart(item.answer.chart)
        except ChartSpecError as exc:
            item.answer.notes.append(f"The diagram could not be drawn: {exc}")
            continue
        except Exception:  # a broken chart must never cost the teacher the answer
            log.exception("chart failed")
            item.answer.notes.append("The diagram could not be drawn.")
            continue
        key = str(id(item))
        figures[key] = Figure(key, item.answer.chart.get("title") or "Diagram", png)
    return figures

"""Where each answer of a paper came from: the course notes, sympy, the question's data, or nowhere.

An answer records its citations and its chart spec as data, but nothing says that sympy
worked it out or that no source was found: the offline engine says those in fixed wording
(the note it puts on a computed answer, the opening of its no-source replies), and the
diagrams stage says a chart failed in a note. The markers below are that wording, so this
module reads it without importing the engine (which pulls in litellm);
tests/qagen/test_provenance.py runs the engine to keep the two in step.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum

from qagen.model import Answer, Paper, answerable_items

COMPUTED_NOTE = "Worked out exactly by the offline engine (sympy)."
NO_SOURCE_OPENINGS = (
    "No source was found for this question.",
    "The course notes that were searched do not answer this question",
    "None of the options is clearly supported by the course notes",
)
CHART_FAILED_NOTE = "The diagram could not be drawn"


class Provenance(str, Enum):
    NOTES = "notes"          # cites passages of the course notes
    COMPUTED = "computed"    # worked out exactly with sympy
    CHART = "chart"          # a chart drawn from data given in the question, nothing else
    NO_SOURCE = "no_source"  # the engine found nothing to answer from, and said so
    OTHER = "other"          # e.g. a language model's uncited prose, a failed model call, no answer


def provenance(answer: Answer | None) -> Provenance:
    """How `answer` was made, judged from its citations, chart and notes before its prose."""
    if answer is None:
        return Provenance.OTHER
    if answer.citations:
        return Provenance.NOTES
    if COMPUTED_NOTE in answer.notes:
        return Provenance.COMPUTED
    if answer.chart:
        return Provenance.CHART
    if answer.text.lstrip().startswith(NO_SOURCE_OPENINGS):
        return Provenance.NO_SOURCE
    return Provenance.OTHER


def chart_drawn(answer: Answer | None) -> bool:
    """True when the answer carries a chart that the diagrams stage did not report as failed."""
    return bool(answer and answer.chart) and not any(note.startswith(CHART_FAILED_NOTE) for note in answer.notes)


@dataclass(frozen=True)
class AnswerSummary:
    answers: int
    from_notes: int
    computed: int
    charts_only: int
    no_source: int
    other: int
    charts_drawn: int


def summarise(paper: Paper) -> AnswerSummary:
    """Counts over every item that gets its own answer (leaf parts, alternatives included)."""
    answers = [item.answer for item in answerable_items(paper)]
    kinds = Counter(provenance(answer) for answer in answers)
    return AnswerSummary(
        answers=len(answers),
        from_notes=kinds[Provenance.NOTES],
        computed=kinds[Provenance.COMPUTED],
        charts_only=kinds[Provenance.CHART],
        no_source=kinds[Provenance.NO_SOURCE],
        other=kinds[Provenance.OTHER],
        charts_drawn=sum(chart_drawn(answer) for answer in answers),
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary_text(summary: AnswerSummary) -> str:
    """One line for a person: "10 answers: 4 from the course notes (cited), 6 worked out exactly (sympy), ..."."""
    parts = [f"{summary.from_notes} from the course notes (cited)", f"{summary.computed} worked out exactly (sympy)"]
    if summary.charts_only:
        parts.append(f"{summary.charts_only} drawn from the question's data")
    if summary.other:
        parts.append(f"{summary.other} without a citation")
    parts.append(f"{summary.no_source} with no source found")
    return f"{_count(summary.answers, 'answer')}: {', '.join(parts)}; {_count(summary.charts_drawn, 'chart')} drawn."

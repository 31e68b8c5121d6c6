"""What the parse found, as the PDF shows it: the confidence and the "Check these" box on the
cover, the papers of a file that holds several, and the answer key the paper itself prints.

Every value is read defensively (`items`, `number`): a paper from JSON may carry anything,
and nothing in it may break the document.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from qagen.model import CONFIDENCE_LEVELS, Paper
from qagen.pipeline.pdf.layout import Paragraph, paragraphs
from qagen.pipeline.pdf.styles import CHECK_SHADE, NOTE, Styles, table_style
from qagen.pipeline.pdf.text import clean, esc, fmt, items, number, shorten

MAX_WARNINGS = 8
MAX_WARNING_CHARS = 300
MAX_KEY_CHARS = 20_000
KEY_LABEL = "The paper's answer key"


def confidence_of(paper: Paper) -> str:
    """The parse's confidence as one of CONFIDENCE_LEVELS ("high" when missing or unknown)."""
    value = clean(getattr(paper, "confidence", "")).strip().lower()
    return value if value in CONFIDENCE_LEVELS else "high"


def warnings_of(paper: Paper) -> list[str]:
    return [text for text in (shorten(w, MAX_WARNING_CHARS) for w in items(getattr(paper, "warnings", None))) if text]


def confidence_fact(paper: Paper) -> tuple[str, str]:
    """The cover's row: "Parse confidence" and "high", or "low: check the points below"."""
    level = confidence_of(paper)
    return "Parse confidence", (f"{level}: check the points below" if warnings_of(paper) else level)


STATUS_WORDS = {"not_in_notes": "not covered by the notes", "needs_model": "need a language model",
                "unanswerable": "lack what they need", "failed": "failed"}


def answers_fact(paper: Paper) -> tuple[str, str] | None:
    """The cover's row: how many answerable items were answered, and why the others were not
    ("12 of 15; 2 not covered by the notes, 1 need a language model"); None before answering."""
    statuses: list[str] = []

    def walk(item) -> None:  # noqa: ANN001 (a Question or Part read defensively)
        parts = items(getattr(item, "parts", None))
        if parts:
            for part in parts:
                walk(part)
            return
        answer = getattr(item, "answer", None)
        if answer is not None:
            statuses.append(clean(getattr(answer, "status", "answered")) or "answered")

    for question in items(paper.questions):
        for each in (question, *items(question.alternatives)):
            walk(each)
    if not statuses:
        return None
    answered = statuses.count("answered")
    others = [f"{statuses.count(status)} {words}" for status, words in STATUS_WORDS.items() if status in statuses]
    return "Answered", f"{answered} of {len(statuses)}" + (f"; {', '.join(others)}" if others else "")


def check_box(paper: Paper, styles: Styles) -> list[Flowable]:
    """A short boxed list of the parse's warnings; nothing when there are none."""
    warnings = warnings_of(paper)
    if not warnings:
        return []
    rows = [[Paragraph("Check these on the printed paper", styles.check_title)]]
    rows += [[Paragraph(esc(w), styles.check_item, bulletText="•")] for w in warnings[:MAX_WARNINGS]]
    if len(warnings) > MAX_WARNINGS:
        rows.append([Paragraph(esc(f"… and {len(warnings) - MAX_WARNINGS} more (see the answers' JSON)."),
                               styles.check_item)])
    table = Table(rows, colWidths=[styles.width], hAlign="LEFT")
    table.setStyle(table_style([
        ("BOX", (0, 0), (-1, -1), 0.8, NOTE),
        ("BACKGROUND", (0, 0), (-1, -1), CHECK_SHADE),
        ("LEFTPADDING", (0, 0), (-1, -1), 7),
        ("RIGHTPADDING", (0, 0), (-1, -1), 7),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("TOPPADDING", (0, 0), (-1, 0), 5),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 5),
    ]))
    return [Spacer(1, 4 * mm), table]


@dataclass(frozen=True)
class PaperGroup:
    """One paper of several in a file: its number (1-based), title, questions [first, first + count), marks."""

    number: int
    title: str
    first: int
    count: int
    total_marks: float | None


def paper_groups(paper: Paper) -> list[PaperGroup]:
    """The file's papers when it holds more than one, in order, each starting at a distinct question."""
    questions = len(items(paper.questions))
    found: dict[int, PaperGroup] = {}
    for entry in items(getattr(paper, "papers", None)):
        first, count = _index(getattr(entry, "first", None)), _index(getattr(entry, "count", None))
        if first is None or count is None or not 0 <= first < questions or first in found:
            continue
        found[first] = PaperGroup(0, shorten(getattr(entry, "title", ""), 200), first, count,
                                  number(getattr(entry, "total_marks", None)))
    groups = [found[first] for first in sorted(found)]
    if len(groups) < 2:
        return []
    return [PaperGroup(n, g.title, g.first, max(0, min(g.count, questions - g.first)), g.total_marks)
            for n, g in enumerate(groups, start=1)]


def _index(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def paper_title(group: PaperGroup) -> str:
    return f"Paper {group.number}: {group.title}" if group.title else f"Paper {group.number}"


def papers_fact(groups: list[PaperGroup]) -> tuple[str, str]:
    """The cover's row naming the papers in the file, with their marks."""
    named = [(group.title or f"paper {group.number}") + (f" ({fmt(group.total_marks)} marks)"
                                                         if group.total_marks is not None else "")
             for group in groups]
    return "Papers", shorten(f"{len(groups)} in this file: " + "; ".join(named), 400)


def paper_of_question(groups: list[PaperGroup], count: int) -> list[int | None]:
    """For each question index, the number of the paper it belongs to (None before the first)."""
    owner: list[int | None] = [None] * count
    for group in groups:
        for index in range(group.first, count):
            owner[index] = group.number
    return owner


def answer_key(question, indent: float, styles: Styles) -> list[Flowable]:
    """The answer the paper itself prints after `question`, verbatim, labelled; nothing when there is none."""
    text = clean(getattr(question, "given_answer", None) or "").strip()
    if not text:
        return []
    cut = len(text) > MAX_KEY_CHARS
    text = text[:MAX_KEY_CHARS].rstrip() if cut else text
    out: list[Flowable] = [Paragraph(esc(KEY_LABEL), styles.indented(styles.key_label, indent))]
    out += paragraphs(esc(text), styles.indented(styles.key, indent))
    if cut:
        out.append(Paragraph(esc("Note: the answer key printed on the paper is longer; the rest is left out here."),
                             styles.indented(styles.note, indent)))
    return out

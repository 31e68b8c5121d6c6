"""A paper's structure as indented plain text (for `qagen parse --format text`).

The parse's confidence and warnings come first, then the papers when the file holds
several, then every question with its parts, options, alternatives, translations and the
answer the paper itself prints (docs/schema.md shows an example).
"""

from __future__ import annotations

import textwrap

from qagen.model import Option, Paper, Part, Question


def _marks(marks: float | None) -> str:
    return "" if marks is None else f"  [{marks:g}]"


def _first_words(text: str, width: int = 90) -> str:
    return textwrap.shorten(" ".join(text.split()), width=width, placeholder=" …")


def parse_findings(warnings: list[str] | tuple[str, ...], confidence: str) -> list[str]:
    """The parse's confidence, then its warnings, one per line (shared by the client commands)."""
    lines = [f"Parse confidence: {confidence}"]
    if warnings:
        lines.append("Check on the printed paper:")
        lines += [f"  - {' '.join(str(w).split())}" for w in warnings]
    return lines


def _options(options: list[Option], indent: str) -> list[str]:
    return [f"{indent}({o.label}) {_first_words(o.text, 60)}" for o in options]


def _part(part: Part, depth: int) -> list[str]:
    indent = "    " * depth
    lines = [f"{indent}({part.label}) {_first_words(part.text)}{_marks(part.marks)}"]
    lines += _options(part.options, indent + "    ")
    for child in part.parts:
        lines += _part(child, depth + 1)
    return lines


def _question(question: Question, prefix: str = "") -> list[str]:
    lines = [f"{prefix}{question.number}. {_first_words(question.text)}{_marks(question.marks)}"]
    for translation in question.translations:
        language = f" ({translation.language})" if translation.language else ""
        lines.append(f"    Translation{language}: {_first_words(translation.text, 70)}")
    lines += _options(question.options, "    ")
    for part in question.parts:
        lines += _part(part, 1)
    if question.given_answer and question.given_answer.strip():
        lines.append(f"    Paper's answer: {_first_words(question.given_answer, 150)}")
    for alternative in question.alternatives:
        lines += ["  OR", *("  " + line for line in _question(alternative))]
    return lines


def _papers(paper: Paper) -> list[str]:
    lines = [f"{len(paper.papers)} papers in this file:"]
    for number, part in enumerate(paper.papers, start=1):
        count = f"{part.count} question{'s' if part.count != 1 else ''}"
        marks = f", {part.total_marks:g} marks" if part.total_marks is not None else ""
        lines.append(f"  {number}. {part.title or '(untitled paper)'}: {count}{marks}")
    return lines


def paper_outline(paper: Paper) -> str:
    known = [q.marks for q in paper.questions if q.marks is not None]
    total = paper.total_marks if paper.total_marks is not None else (sum(known) if known else None)
    several = len(paper.papers) > 1
    count = f"{len(paper.questions)} question{'s' if len(paper.questions) != 1 else ''}"
    if several:  # each paper has its own total, listed below
        count += f" in {len(paper.papers)} papers"
    elif total is not None:
        count += f", {total:g} marks"
    head = [paper.title or "(untitled paper)", count, *parse_findings(paper.warnings, paper.confidence)]
    if several:
        head += _papers(paper)
    starts = {part.first: (number, part) for number, part in enumerate(paper.papers, start=1)} if several else {}
    lines: list[str] = []
    section = None
    for index, question in enumerate(paper.questions):
        if index in starts:
            number, part = starts[index]
            lines += ["", f"=== Paper {number}: {part.title or '(untitled paper)'} ==="]
            section = None
        if question.section != section:
            section = question.section
            if section:
                lines += ["", f"== {section} =="]
        lines += _question(question)
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(head + [""] + lines)

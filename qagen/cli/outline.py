"""A paper's structure as indented plain text (for `qagen parse --format text`)."""

from __future__ import annotations

import textwrap

from qagen.model import Option, Paper, Part, Question


def _marks(marks: float | None) -> str:
    return "" if marks is None else f"  [{marks:g}]"


def _first_words(text: str, width: int = 90) -> str:
    return textwrap.shorten(" ".join(text.split()), width=width, placeholder=" …")


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
    lines += _options(question.options, "    ")
    for part in question.parts:
        lines += _part(part, 1)
    for alternative in question.alternatives:
        lines += ["  OR", *("  " + line for line in _question(alternative))]
    return lines


def paper_outline(paper: Paper) -> str:
    known = [q.marks for q in paper.questions if q.marks is not None]
    total = paper.total_marks if paper.total_marks is not None else (sum(known) if known else None)
    head = [paper.title or "(untitled paper)",
            f"{len(paper.questions)} questions" + (f", {total:g} marks" if total is not None else "")]
    lines: list[str] = []
    section = None
    for question in paper.questions:
        if question.section != section:
            section = question.section
            if section:
                lines += ["", f"== {section} =="]
        lines += _question(question)
    return "\n".join(head + [""] + lines)

"""The parse's own consistency checks: warnings a person can act on, and a confidence.

Each warning names what to look at ("numbering jumps from 7 to 9") so a teacher can check
the printed paper; the confidence summarises them:
- low: the numbering jumps or goes back without a section or paper starting again, or more
  than a fifth of the questions have no text;
- medium: pages were read with OCR, a question has no text, some questions have marks
  and others none, or a second language version could not be read;
- high: none of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qagen.model import Paper, Question

_NUMBER = re.compile(r"(\d{1,3})\s*$")


@dataclass
class Findings:
    """What the stages before the checks saw that a person should know about."""

    ocr_pages: list[int] = field(default_factory=list)  # 1-based page numbers read with OCR
    translated: set[str] = field(default_factory=set)  # languages kept as translations
    unreadable_versions: int = 0  # other-language versions in a font the reader cannot decode
    given_answers: int = 0
    notes: list[str] = field(default_factory=list)  # the reader's own notes, as sentences


def number_value(question: Question) -> int | None:
    match = _NUMBER.search(question.number)
    return int(match.group(1)) if match else None


def numbering_warnings(paper: Paper) -> list[str]:
    """Jumps and steps back in the numbering within one section of one paper."""
    warnings: list[str] = []
    starts = {p.first for p in paper.papers}
    for k in range(1, len(paper.questions)):
        prev, cur = paper.questions[k - 1], paper.questions[k]
        a, b = number_value(prev), number_value(cur)
        if a is None or b is None or k in starts or b == a + 1:
            continue
        if b == 1 or (cur.section != prev.section and b < a):
            continue  # numbering starts again in a new section
        if b > a + 1:
            missing = f"{a + 1}" if b == a + 2 else f"{a + 1}-{b - 1}"
            warnings.append(f"The numbering jumps from {prev.number} to {cur.number}: check whether "
                            f"question {missing} is on the paper.")
        else:
            warnings.append(f"The numbering goes back from {prev.number} to {cur.number}: check that "
                            f"question {cur.number} is a question and not part of another.")
    return warnings


def check(paper: Paper, findings: Findings) -> tuple[list[str], str]:
    """The paper's warnings and confidence ("high", "medium" or "low")."""
    warnings: list[str] = []
    numbering = numbering_warnings(paper)
    warnings.extend(numbering)
    empty = [q.number for q in paper.questions if not q.text.strip() and not q.parts]
    if empty:
        warnings.append(f"No text was found for question{'s' if len(empty) > 1 else ''} {_list(empty)}: "
                        "it may be printed as an image; check it on the paper.")
    with_marks = [q for q in paper.questions if q.marks is not None]
    unmarked = [q.number for q in paper.questions if q.marks is None]
    if with_marks and unmarked:
        warnings.append(f"No marks were found for question{'s' if len(unmarked) > 1 else ''} {_list(unmarked)}.")
    if findings.ocr_pages:
        pages = findings.ocr_pages
        warnings.append(f"Page{'s' if len(pages) > 1 else ''} {_list([str(p) for p in pages])} "
                        f"{'have' if len(pages) > 1 else 'has'} no text layer and {'were' if len(pages) > 1 else 'was'} "
                        "read with OCR: check the questions' wording.")
    if findings.translated:
        languages = " and ".join(sorted(findings.translated))
        warnings.append(f"The paper prints its questions twice, also in {languages}: each question is kept "
                        f"once, with the {languages} text as its translation.")
    if findings.unreadable_versions:
        warnings.append("The paper also prints its questions in another script, in a font whose text cannot "
                        "be read: only the Latin-script text of each question is kept.")
    if findings.given_answers:
        warnings.append(f"The paper prints answers ({findings.given_answers} found): they are kept as the "
                        "paper's answer key, not taken for questions.")
    if len(paper.papers) > 1:
        warnings.append(f"The file holds {len(paper.papers)} papers; their questions are listed one paper "
                        "after another.")
    warnings.extend(findings.notes)
    if numbering or len(empty) > len(paper.questions) / 5:
        confidence = "low"
    elif empty or (with_marks and unmarked) or findings.ocr_pages or findings.unreadable_versions:
        confidence = "medium"
    else:
        confidence = "high"
    return warnings, confidence


def _list(items: list[str], most: int = 8) -> str:
    shown = items[:most]
    more = f" and {len(items) - most} more" if len(items) > most else ""
    if len(shown) == 1:
        return shown[0] + more
    return ", ".join(shown[:-1]) + (f", {shown[-1]}{more}" if more else f" and {shown[-1]}")

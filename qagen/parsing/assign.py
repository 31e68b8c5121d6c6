"""Marks for questions that print none: rules from instructions and headings, then checks
against the marks that are printed ('Q. 1 to 8 carry 1 mark each', '4q x 5m = 20')."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from qagen.model import Question, Section
from qagen.parsing import marks as M
from qagen.parsing.numbering import Candidate
from qagen.parsing.sections import Heading


@dataclass
class Block:
    """One question's lines in the document, and the section it sits in."""

    cand: Candidate
    start: int
    end: int  # exclusive
    section: int | None  # index into sections


def _rule_lines(texts: list[str], starts: set[int], heads: list[Heading]) -> dict[int, tuple[int, float, float | None]]:
    """Lines carrying a marks rule such as '4q x 5m = 20' that are not a question's own line:
    they govern the questions after them (a section heading OCR may have garbled)."""
    rules = {}
    for h in heads:
        if h.rule:
            rules[h.index] = h.rule
    for i, text in enumerate(texts):
        if i in starts or i in rules or len(text) > 100:
            continue
        rule = M.product_rule(text, strict=True)
        if rule:
            rules[i] = rule
    return rules


def apply_rules(questions: list[Question], blocks: list[Block], heads: list[Heading],
                 sections: list[Section], paper_rules: M.Rules, texts: list[str]) -> None:
    rule_lines = _rule_lines(texts, {b.start for b in blocks}, heads)
    # A rule governs the questions after it, up to the next rule or section heading.
    bounds = sorted(set(rule_lines) | {h.index for h in heads})
    governed: dict[int, list[int]] = {}  # rule line -> questions it governs
    for qi, block in enumerate(blocks):
        k = bisect.bisect_left(bounds, block.start) - 1
        if k >= 0 and bounds[k] in rule_lines:
            governed.setdefault(bounds[k], []).append(qi)
    rule_of = {qi: (line, len(qis)) for line, qis in governed.items() for qi in qis}
    for qi, block in enumerate(blocks):
        si = block.section
        q = questions[qi]
        every = paper_rules.each if paper_rules.every_question else None
        if q.marks is not None and every is not None and q.marks < every:
            q.marks = None  # "Each question: 10 marks" beats a partial '(5 marks)' found inline
        if q.marks is not None:
            continue
        sec_rules = M.Rules.parse(sections[si].instructions) if si is not None else None
        head = heads[si] if si is not None else None
        number = _int(q.number)
        value = sec_rules.for_number(number) if sec_rules and number is not None else None
        if value is None and qi in rule_of:
            line, count = rule_of[qi]
            n, m, total = rule_lines[line]
            value = (total or n * m) if count == 1 else each_of(n, m, count)
        if value is None and number is not None:
            value = paper_rules.for_number(number)
        if value is None and head and head.label.upper() in paper_rules.sections:
            value = paper_rules.sections[head.label.upper()][1]
        if value is None and sec_rules and sec_rules.each is not None:
            value = sec_rules.each
        if value is None:
            value = paper_rules.each
        q.marks = value


def apply_counts(questions: list[Question], paper_rules: M.Rules) -> None:
    """'Thirteen questions worth 3 points each, then three worth 12 points each': when the
    counts the instructions state add up to the questions found, each run of questions, in
    order, gets its marks (questions that print their own keep them)."""
    counts = paper_rules.counts
    if not counts or sum(n for n, _ in counts) != len(questions):
        return
    first = 0
    for n, value in counts:
        for question in questions[first:first + n]:
            if question.marks is None:
                question.marks = value
        first += n


def each_of(n: int, m: float, count: int) -> float:
    """Each question's marks under a rule 'n × m' that governs `count` questions.

    The factor equal to the number of questions is the count, whichever side it is on
    ('1 × 10 = 10' over ten questions gives 1 each; '10 × 4 = 40' over four gives 10 each).
    Otherwise the rule reads count × marks."""
    if count == m and count != n and float(n).is_integer():
        return float(n)
    return m


def trust_printed(questions: list[Question], printed: list[float | None], paper_rules: M.Rules,
                   sections: list[Section], blocks: list[Block]) -> None:
    """A range rule ('Q. 1 to 8 carry 4 marks each') that disagrees with the marks printed
    on the questions it covers was misread (OCR): use the printed value for the range."""
    rules = list(paper_rules.ranges)
    for section in sections:
        rules.extend(M.Rules.parse(section.instructions).ranges)
    for lo, hi, value in rules:
        inside = [i for i, q in enumerate(questions) if (n := _int(q.number)) is not None and lo <= n <= hi]
        seen = {printed[i] for i in inside if printed[i] is not None}
        if len(seen) == 1 and sum(printed[i] is not None for i in inside) >= 2:
            fixed = seen.pop()
            if fixed != value:
                for i in inside:
                    if printed[i] is None and questions[i].marks == value:
                        questions[i].marks = fixed


def reconcile_total(questions: list[Question], total: float | None) -> None:
    """On OCR'd papers one misread mark ('[3+2+2+42]') can be recovered from the printed
    total when it is the single value far above the others."""
    values = [q.marks for q in questions]
    if total is None or any(v is None for v in values) or len(values) < 3:
        return
    if abs(sum(values) - total) < 1e-6:  # type: ignore[arg-type]
        return
    median = sorted(values)[len(values) // 2]  # type: ignore[type-var]
    outliers = [i for i, v in enumerate(values) if v > 2 * median]  # type: ignore[operator]
    if len(outliers) != 1:
        return
    rest = sum(v for i, v in enumerate(values) if i != outliers[0])  # type: ignore[misc]
    if 0 < total - rest < values[outliers[0]]:  # type: ignore[operator]
        questions[outliers[0]].marks = total - rest


def _int(number: str) -> int | None:
    match = re.search(r"(\d+)\s*$", number)
    return int(match.group(1)) if match else None

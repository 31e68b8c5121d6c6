"""Questions found from the lines that close them: '(Total for Question 5 is 3 marks)'.

Some papers end every question with a line stating its number and total. When the numbering
found skips a number n (its number printed where the reader could not take it for one, e.g.
alone above a diagram), and the paper closes question n-1 and question n, then question n
starts on the first line after the close of question n-1. And the total a closing line
states is that question's marks, whatever its parts' marks add up to.
"""

from __future__ import annotations

import re

from qagen.documents.lines import Line
from qagen.parsing.numbering import Candidate

CLOSURE = re.compile(r"^\W{0,2}total\s+for\s+question\s+(\d{1,3})\s+is\s+(\d+(?:\.\d+)?)\s+marks?\W{0,2}$", re.I)
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,3})\b\s*")


def closures(lines: list[Line]) -> dict[int, int]:
    """Question number -> index of the line that closes it."""
    found: dict[int, int] = {}
    for index, line in enumerate(lines):
        match = CLOSURE.match(line.text.strip())
        if match:
            found.setdefault(int(match.group(1)), index)
    return found


def closing_totals(lines: list[Line]) -> dict[int, float]:
    """Question number -> the total its closing line states: the question's marks as printed."""
    totals: dict[int, float] = {}
    for line in lines:
        match = CLOSURE.match(line.text.strip())
        if match:
            totals.setdefault(int(match.group(1)), float(match.group(2)))
    return totals


def fill_from_closures(chain: list[Candidate], lines: list[Line]) -> list[Candidate]:
    closed = closures(lines)
    if len(closed) < 2 or not chain:
        return chain
    out: list[Candidate] = [chain[0]]
    for prev, cand in zip(chain, chain[1:]):
        for value in range(prev.value + 1, cand.value):
            before, own = closed.get(value - 1), closed.get(value)
            if before is None or own is None or not (prev.index < before < own < cand.index):
                continue
            start = next((i for i in range(before + 1, own) if lines[i].text.strip()), None)
            if start is None:
                continue
            text = lines[start].text.strip()
            number = _LEADING_NUMBER.match(text)
            printed = number is not None and int(number.group(1)) == value
            rest = text[number.end():] if printed and number else text
            out.append(Candidate(start, prev.style, value, prev.group, str(value), rest.strip(), lines[start].indent))
        out.append(cand)
    return out

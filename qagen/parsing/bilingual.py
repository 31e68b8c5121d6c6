"""Bilingual papers print each question twice (e.g. Hindi, then English); keep one copy.

Text in legacy-encoded Indic fonts is dropped by the PDF reader and counted in
`Line.foreign`; real Devanagari (or any non-Latin script) counts as foreign here too. A
question whose opening is mostly foreign is dropped when a nearby question of the same
numbering style and number is mostly Latin, and its lines with it.
"""

from __future__ import annotations

from qagen.documents.lines import Line
from qagen.parsing.numbering import Candidate


def foreign_ratio(lines: list[Line]) -> float:
    foreign = sum(line.foreign for line in lines)
    other = latin = 0
    for line in lines:
        for ch in line.text:
            if ch.isalpha():
                if ord(ch) < 0x250:
                    latin += 1
                else:
                    other += 1
    total = foreign + other + latin
    return (foreign + other) / total if total else 0.0


def _opening(lines: list[Line], start: int, end: int, letters: int = 80) -> list[Line]:
    """The first lines of a block, enough to hold `letters` letters (its stem's language)."""
    out: list[Line] = []
    count = 0
    for line in lines[start:end]:
        out.append(line)
        count += line.foreign + sum(ch.isalpha() for ch in line.text)
        if count >= letters:
            break
    return out


def drop_foreign_twins(cands: list[Candidate], lines: list[Line]) -> tuple[list[Candidate], set[int]]:
    """Bilingual papers print each question twice; keep the version in Latin script.

    A candidate whose block is mostly another script (or unreadable legacy-font text) is
    dropped when a nearby candidate of the same style and number is mostly Latin.
    """
    by_style: dict[str, list[Candidate]] = {}
    for cand in cands:
        by_style.setdefault(cand.style, []).append(cand)
    dropped: set[int] = set()
    skipped: set[int] = set()
    for group in by_style.values():
        ends = [c.index for c in group[1:]] + [len(lines)]
        ratios = [foreign_ratio(_opening(lines, c.index, end)) for c, end in zip(group, ends)]
        for i, cand in enumerate(group):
            if ratios[i] < 0.12:
                continue
            for j in range(max(0, i - 60), min(len(group), i + 60)):
                other = group[j]
                if j != i and other.value == cand.value and ratios[j] < 0.4 * ratios[i]:
                    dropped.add(id(cand))
                    page = lines[cand.index].page
                    for k in range(cand.index, ends[i]):
                        line = lines[k]
                        if line.page == page or line.foreign or len(line.text.split()) < 4:
                            skipped.add(k)
                    break
    return [c for c in cands if id(c) not in dropped], skipped

"""The paper's title and instructions: what comes before the first question."""

from __future__ import annotations

import re

from qagen.parsing import marks as M
from qagen.documents.lines import Line
from qagen.parsing.sections import parse_heading

_BOILERPLATE = re.compile(
    r"^(roll|code|series|set|name|date|time|seat|reg|candidate|page|student|id\b|sap|"
    r"q\.?\s*p\.?\s*code|sub(ject)?\s*code|duration|instructions?|note)\b",
    re.IGNORECASE,
)


_HEADER_FIELD = re.compile(r"\b(marks?|time|duration|code|date|roll|hours?|minutes|points)\b", re.IGNORECASE)


def title_and_instructions(lines: list[Line], idx: list[int], cut: int) -> tuple[str, str]:
    """The title (largest type near the top, else the first substantial line) and the
    paper's instructions: the lines before the first section heading or question."""
    texts = [(i, lines[i].text.strip()) for i in idx if lines[i].text.strip()]
    useful = [(i, t) for i, t in texts[:40] if _title_like(t) and not uncertain(lines[i])]
    not_headings = [(i, t) for i, t in useful if not _bare_heading(t)]
    useful = not_headings or useful
    title_at = -1
    title = ""
    if useful:
        if any(lines[i].positioned for i, _ in useful):
            title_at, title = max(useful, key=lambda it: (round(lines[it[0]].height, 3), -it[0]))
        else:
            title_at, title = useful[0]
        kept = [seg.text for seg in lines[title_at].segments if not _HEADER_FIELD.search(seg.text)]
        title = " ".join(" ".join(kept).split()) if kept else " ".join(title.split())
    body = [re.sub(r"\s{3,}", "  ", t) for i, t in texts
            if i != title_at and i < cut and len(re.findall(r"[^\W\d_]", t)) >= 3]
    return title, "\n".join(body)


OCR_TRUSTED = 60.0  # mean word confidence below which an OCR'd line is noise (a logo, a stamp)


def uncertain(line: Line) -> bool:
    """An OCR'd line read with little confidence: never a title or an examination's name."""
    return line.ocr and line.conf < OCR_TRUSTED


def _title_like(text: str) -> bool:
    return (
        len(re.findall(r"[^\W\d_]", text)) >= 4
        and len(text) <= 100
        and not _BOILERPLATE.match(text)
        and not re.match(r"^\(?\d{1,2}[.)]\s", text)  # a numbered instruction
        and not re.match(r"^\s*(?:max(?:imum)?\.?\s*)?(?:marks|time|duration|date)\b", text, re.I)
        and not M.RANGE_RULE.search(text)
        and not (len(text.split()) > 8 and text.rstrip().endswith("."))  # a sentence of prose
    )


def _bare_heading(text: str) -> bool:
    """'SECTION - A', 'Part B:' (a heading with no name of its own)."""
    heading = parse_heading(text)
    return bool(heading) and len(re.findall(r"[^\W\d_]", text)) <= len(heading.keyword) + 3

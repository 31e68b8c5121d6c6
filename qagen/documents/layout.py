"""Page cleanup for papers and notes alike: repeated headers/footers, page numbers, columns.

Functions take pages of `Line`s and return new lists; nothing is mutated in place except
the column bounds (`col_left`, `col_right`, `page_top`) that they are there to set.
"""

from __future__ import annotations

import re
from collections import Counter

from qagen.documents.columns import NUMBERED, order_columns, set_bounds
from qagen.documents.lines import Line

# "(Total for Question 5 is 3 marks)" closes a question at the foot of its page: it repeats,
# digits masked, like a footer, but it is the question's own line.
QUESTION_TOTAL = re.compile(r"\bquestions?\b.*\b(?:marks?|points?)\b")
BAND = 0.12  # top/bottom fraction of a page where headers and footers live
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
PAGE_FURNITURE = re.compile(
    r"^\s*(?:[\[(]?\s*(?:p\.?\s*t\.?\s*o\.?|please\s+turn\s+over|turn\s+over|contd\.*|continued"
    r"|\.\.\.\s*contd\.*)\s*[\])]?|(?:page\s*)?[-–—]?\s*\d{1,3}\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,3})?"
    r"|page\s+\d{1,3}(?:\s*(?:of|/)\s*\d{1,3})?|[ivx]{1,4})\s*[\])]?\s*$",
    re.IGNORECASE,
)


def clean_pages(pages: list[list[Line]]) -> list[list[Line]]:
    """Drop repeated headers/footers and page numbers, order columns, set column bounds."""
    pages = remove_furniture(pages)
    out = []
    for lines in pages:
        positioned = [ln for ln in lines if ln.positioned]
        if positioned and len(positioned) == len(lines):
            lines = order_columns(lines)
        else:
            set_bounds(lines, 0.0, 1.0)
        if lines:
            lines[0].page_top = True
        out.append(lines)
    return out


def furniture_key(text: str) -> str:
    return _SPACES.sub(" ", _DIGITS.sub("#", text.lower())).strip(" .")


def remove_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Remove lines repeated in the top/bottom band of many pages, and bare page numbers."""
    n_pages = len(pages)
    seen: Counter[str] = Counter()
    for lines in pages:
        keys = {furniture_key(ln.text) for ln in _band_lines(lines)}
        seen.update(k for k in keys if k)
    threshold = max(2, int(0.3 * n_pages + 0.999))
    out = []
    for lines in pages:
        band = {id(ln) for ln in _band_lines(lines)}
        kept = []
        for line in lines:
            if id(line) in band:
                key = furniture_key(line.text)
                if n_pages >= 2 and seen[key] >= threshold and _repeatable(key):
                    continue
                if _is_page_number(line):
                    continue
            kept.append(line)
        out.append(kept)
    return out


def _repeatable(key: str) -> bool:
    """A repeated key worth removing: has words or a code ('30/2/1'), not just '#.', and
    is not a numbered question (question texts can coincide once digits are masked)."""
    if NUMBERED.match(key.replace("#", "1")) or QUESTION_TOTAL.search(key):
        return False
    return len(re.findall(r"[^\W\d_]", key)) >= 3 or "/" in key


def _band_lines(lines: list[Line]) -> list[Line]:
    """Lines in the header/footer bands (for text without positions: first/last two lines)."""
    if lines and all(ln.positioned for ln in lines):
        return [ln for ln in lines if ln.top < BAND or ln.bottom > 1 - BAND]
    if len(lines) > 4:
        return lines[:2] + lines[-2:]
    return [lines[0], lines[-1]] if len(lines) > 1 else list(lines)


def _is_page_number(line: Line) -> bool:
    if line.positioned and not (line.top < 0.07 or line.bottom > 0.92):
        return False
    if line.positioned and line.segments and len(line.segments) > 1:
        # "30/2/1    3    P.T.O.": every piece must be furniture or a code-like token.
        return all(PAGE_FURNITURE.match(s.text) or _code_like(s.text) for s in line.segments)
    return bool(PAGE_FURNITURE.match(line.text))


def _code_like(text: str) -> bool:
    return bool(re.fullmatch(r"\.?[\w]{1,6}(?:/[\w]{1,6}){1,3}|set[- ]?\w{1,3}", text.strip(), re.I))

"""Marks as printed: '[5]', '(5 marks)', '[1 Mark]', '5M', '(2+2+1 bod)', a right-hand column
number, and rules in instructions ('Question numbers 1 to 6 carry 1 mark each', '10 × 1 = 10').
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from qagen.documents.lines import Line

WORDS = r"(?:marks?|mks?|points?|pts?|pt|bod(?:a|ova)?|punkte?|pkt|scores?|अंक|m)"
_AMOUNT = r"\d{1,3}(?:\.\d+)?(?:\s*(?:[+,]|\+-|-\+)\s*\d{1,3}(?:\.\d+)?)*"
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "half": 0.5,
}
_NUM = r"(?:\d{1,3}(?:\.\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
NUMBER_PATTERN = _NUM  # a number in digits or words ('4', 'four'), for other modules' patterns

_BRACKETED_END = re.compile(
    rf"(?:(?<=\s)|^)[\[(]{{1,2}}\s*(?P<amount>{_AMOUNT})\s*(?P<word>{WORDS})?\s*[\])]\s*[.?:]?\s*$",
    re.IGNORECASE,
)
# '[2 z+i Marks]': a formula's stray pieces printed inside a wrapped mark tag.
_BRACKETED_JUNK_END = re.compile(
    r"(?:(?<=\s)|^)\[\s*(?P<amount>\d{1,3})\s+(?:\S{1,6}\s+){1,2}(?P<word>marks?|points?)\s*\]\s*[.]?\s*$",
    re.IGNORECASE,
)
# '[Solve any two • 12 Marks]': a note on the question's line that ends with its marks.
_BRACKETED_NOTE_END = re.compile(
    r"(?:(?<=\s)|^)[\[(]\s*[A-Za-z][^\[\]()\d]{0,40}?[\s•·,;:\-–—]\s*(?P<amount>\d{1,3})\s*(?P<word>marks?|points?)\s*[\])]"
    r"\s*[.]?\s*$",
    re.IGNORECASE,
)
# 'stearn for | 2': a ruled table's marks column, its rule read as a bar before the number.
_RULED_END = re.compile(r"(?:(?<=\s)|^)\|\s*(?P<amount>\d{1,2}(?:\.\d)?)\s*[_|]?\s*$")
_WORD_END = re.compile(
    r"(?:(?<=\s)|^)(?P<amount>\d{1,3}(?:\.\d+)?)\s*(?P<word>marks?|points?|pts?)\s*[.]?\s*$", re.I
)
_M_SUFFIX_END = re.compile(r"(?:(?<=\s)|^)[\[(]?(?P<amount>\d{1,3})\s?M[\])]?\s*$")
_LEADING = re.compile(
    rf"^\s*[\[(]\s*(?P<amount>{_AMOUNT})\s*(?P<word>{WORDS})?\s*[\])]\s*(?=\S|$)", re.IGNORECASE
)
_COLUMN_TOKEN = re.compile(rf"^[\[(]?\s*(?P<amount>{_AMOUNT})\s*(?:{WORDS})?\s*[\])]?$", re.I)

RANGE_RULE = re.compile(
    rf"(?:questions?|q\.?|qs\.?)\s*(?:nos?\.?|numbers?|s\.?\s*no\.?)?\s*(?P<lo>\d{{1,3}}|[/lI|](?=\s))\s*"
    rf"(?:to|-|–|—|through|and)\s*(?P<hi>\d{{1,3}})\b(?P<mid>[^.;]{{0,140}}?)\b(?P<m>{_NUM})\s*"
    r"marks?\s*(?:each|for each)",
    re.IGNORECASE,
)
EACH_RULE = re.compile(
    rf"(?:(?:each|every|all(?:\s+the)?)\s+questions?\s*(?:carr(?:y|ies)|is\s+of|are\s+of|of|has|"
    rf"have|:|=|-|–)?\s*(?P<m>{_NUM})\s*(?:{WORDS})\b|\b\d{{1,3}}\s+questions?\s*(?:of|,|carrying)?\s*"
    rf"(?P<m2>{_NUM})\s*(?:{WORDS})\s*each|carr(?:y|ies)\s+(?P<m3>{_NUM})\s*marks?\s+each)",
    re.IGNORECASE,
)
# 'thirteen multiple-choice questions worth three points each, followed by three
# free-response questions worth 12 points each': counts of questions, in order, with marks.
COUNT_RULE = re.compile(
    rf"\b(?P<n>{_NUM})\s+(?:[A-Za-z-]+\s+){{0,2}}questions?\s+(?:(?:each\s+)?(?:worth|carrying|of))\s+"
    rf"(?P<m>{_NUM})\s*(?:{WORDS})\b(?:\s+each)?",
    re.IGNORECASE,
)
SECTION_COUNT_RULE = re.compile(
    rf"(?:section|part)\s+(?P<sec>[A-Z]|[IVX]{{1,4}}|\d)\s+(?:contains|comprises(?:\s+of)?|has|"
    rf"consists\s+of)\s+(?P<n>\d{{1,3}})\s+questions?\s+(?:of|carrying)\s+(?P<m>{_NUM})\s*marks?\s+each",
    re.IGNORECASE,
)
PRODUCT_RULE = re.compile(
    r"(?<![\w.])(?P<n>\d{1,3})\s*(?:q(?:s|uestions?)?)?\s*[x×X*]\s*(?P<m>\d{1,3}(?:\.\d+)?)\s*"
    r"(?:m(?:arks?)?|points?|pts?)?\s*(?:=\s*(?P<t>\d{1,3})\s*(?:m(?:arks?)?|points?|pts?)?)?"
    r"(?![\w.])",
    re.IGNORECASE,
)
TOTAL_RULE = re.compile(
    r"(?:max(?:imum)?\.?|total|full)\s*(?:marks?|points?|score)?\s*[:=\-–]?\s*(?P<t>\d{1,4})(?!\d)"
    r"|\b(?P<t2>\d{1,4})\s*(?:marks|points)\s*\)?\s*$|\(\s*(?P<t3>\d{1,4})\s*marks?\s*\)"
    r"|^\s*marks\s*[:=]\s*(?P<t4>\d{1,4})\b",
    re.IGNORECASE,
)
EXTRA_CREDIT = re.compile(r"extra[\s-]credit|\bbonus\b", re.IGNORECASE)


def amount(text: str) -> float | None:
    """'5' -> 5, '2+2+1' -> 5, '3, 2' -> 5, 'one' -> 1."""
    text = re.sub(r"\+\s*-|-\s*\+", "+", text.strip().lower())  # OCR: '3+-4'
    if text in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[text])
    try:
        parts = [float(p) for p in re.split(r"\s*[+,]\s*", text) if p]
    except ValueError:
        return None
    if not parts or min(parts) <= 0:
        return None  # '[0, 1]' is an interval, not marks
    total = sum(parts)
    return total if 0 < total <= 500 else None


def trailing_marks(text: str) -> tuple[float | None, str]:
    """Marks annotation at the end of `text`, and the text without it."""
    for pattern in (_BRACKETED_END, _BRACKETED_JUNK_END, _BRACKETED_NOTE_END, _RULED_END, _WORD_END, _M_SUFFIX_END):
        match = pattern.search(text)
        if match:
            value = amount(match.group("amount"))
            if value is not None and (pattern is not _BRACKETED_END or _plausible(match)):
                return value, text[: match.start()].rstrip()
    return None, text


def _plausible(match: re.Match[str]) -> bool:
    """A bare '(3)' is a mark; '(2010)' or a decimal list item is not."""
    if match.group("word"):
        return True
    value = amount(match.group("amount"))
    return value is not None and value <= 100


_LEADING_WORD = re.compile(
    r"^\s*[-–—:]?\s*(?P<amount>\d{1,3}(?:\.\d+)?)\s*(?:marks?|points?|pts?)\b\s*[.,:;\-–—]?\s*", re.I
)


def leading_marks(text: str) -> tuple[float | None, str]:
    match = _LEADING.match(text) or _LEADING_WORD.match(text)
    if match:
        value = amount(match.group("amount"))
        if value is not None and value <= 100:
            return value, text[match.end():].lstrip()
    return None, text


_PRODUCT_TOKEN = re.compile(
    r"^[\[(]?\s*(?P<n>\d{1,2})\s*[x×X*]\s*(?P<m>\d{1,3}(?:\.\d+)?)\s*(?:=\s*(?P<t>\d{1,3}))?\s*"
    r"(?:marks?|points?)?\s*[\])]?$", re.I
)
_PRODUCT_END = re.compile(r"(?:[:;]\s*|\s{2,})(?P<tok>\d{1,2}\s*[x×X*]\s*\d{1,3}(?:\s*=\s*\d{1,3})?)\s*$")


def product_total(token: str) -> float | None:
    """'5x2' -> 10, '10 × 1 = 10' -> 10: a question worth n parts of m marks."""
    match = _PRODUCT_TOKEN.match(token.strip())
    if not match:
        return None
    n, m = int(match.group("n")), float(match.group("m"))
    total = float(match.group("t")) if match.group("t") else n * m
    return total if 0 < total <= 200 and abs(total - n * m) < 1e-6 else None


def trailing_product(text: str) -> tuple[float | None, str]:
    match = _PRODUCT_END.search(text)
    if match:
        value = product_total(match.group("tok"))
        if value is not None:
            colon = ":" if ":" in match.group(0) else ""
            return value, text[: match.start()].rstrip(" :;") + colon
    return None, text


def column_token(line: Line) -> tuple[float, bool] | None:
    """(marks, has unit word) when the line's last segment looks like a marks-column entry."""
    if not line.segments:
        return None
    last = line.segments[-1]
    token = last.text.strip()
    match = _COLUMN_TOKEN.match(token)
    misread_one = not match and line.ocr and token in ("l", "I", "|", "]", "!")
    if misread_one:
        # OCR reads a lone '1' in the marks column as l, I or |; column_marks only accepts
        # it where a marks column was found from real digits.
        match = _COLUMN_TOKEN.match("1")
    if not match:
        product = product_total(token)
        if product is not None and (not line.positioned or line.right_fraction(last.x0) >= 0.72):
            return product, True
        return None
    alone = len(line.segments) == 1
    if line.positioned:
        if line.right_fraction(last.x0) < (0.8 if alone else 0.72):
            return None
    elif alone:
        return None
    value = amount(match.group("amount"))
    if value is None or value > 100:
        return None
    return value, bool(re.search(r"[A-Za-z]", token)) and not misread_one


def column_position(line: Line) -> float:
    """Centre of the line's last segment across the page (0 = left edge, 1 = right); on
    scans measured from the text's left margin, since scanned pages sit shifted."""
    last = line.segments[-1]
    centre = (last.x0 + last.x1) / 2
    return centre - line.col_left if line.ocr else centre


def column_marks(line: Line, anchors: list[float] | None = None) -> tuple[float | None, Line]:
    """A number alone in the right-hand marks column of a line, and the line without it.

    Bare numbers count only where `anchors` (the column positions found across the paper)
    say a marks column is; '[2 marks]' and the like count anywhere at the right.
    """
    found = column_token(line)
    if found is None:
        return None, line
    value, worded = found
    if not worded and line.positioned and anchors is not None:
        tol = 0.03 if line.ocr else 0.02
        position = column_position(line)
        if not any(abs(position - a) <= tol for a in anchors):
            return None, line
    rest = line.segments[:-1]
    stripped = Line(**{**line.__dict__, "segments": rest, "text": "   ".join(s.text for s in rest)})
    return value, stripped


def column_anchors(lines: list[Line], block_of: list[int]) -> list[float]:
    """Positions of marks columns: bare numbers at the right that line up across at least
    30% of the questions (a table's last column or a fraction's denominator does not)."""
    points: list[tuple[float, int]] = []
    for line, block in zip(lines, block_of):
        if block >= 0 and line.positioned:
            found = column_token(line)
            if found and not found[1]:
                points.append((column_position(line), block))
    blocks_total = len({b for b in block_of if b >= 0})
    need = max(2, math.ceil(0.3 * blocks_total))
    anchors = []
    for x, _ in points:
        support = {b for y, b in points if abs(y - x) <= 0.025}
        if len(support) >= need:
            anchors.append(x)
    return anchors


@dataclass
class Rules:
    """Marks rules read from instructions and section headings."""

    ranges: list[tuple[int, int, float]]
    each: float | None
    sections: dict[str, tuple[int, float]]
    every_question: bool = False  # 'each question carries N marks' (not '... carry N marks each')
    counts: list[tuple[int, float]] = field(default_factory=list)  # (how many questions, marks each), in order

    @classmethod
    def parse(cls, text: str) -> Rules:
        flat = re.sub(r"\s+", " ", text)
        ranges = []
        for match in RANGE_RULE.finditer(flat):
            value = amount(match.group("m"))
            lo = int(match.group("lo")) if match.group("lo").isdigit() else 1  # OCR: '/ to 8'
            hi = int(match.group("hi"))
            if value is not None and lo <= hi:
                ranges.append((lo, hi, value))
        each = None
        every = False
        for match in EACH_RULE.finditer(flat):
            value = amount(match.group("m") or match.group("m2") or match.group("m3"))
            if value is not None:
                each = value
                every = match.group("m") is not None
                break
        sections = {}
        for match in SECTION_COUNT_RULE.finditer(flat):
            value = amount(match.group("m"))
            if value is not None:
                sections[match.group("sec").upper()] = (int(match.group("n")), value)
        counts = []
        for match in COUNT_RULE.finditer(flat):
            n, value = amount(match.group("n")), amount(match.group("m"))
            if n is not None and value is not None and float(n).is_integer() and n >= 1:
                counts.append((int(n), value))
        return cls(ranges, each, sections, every, counts)

    def for_number(self, number: int) -> float | None:
        for lo, hi, value in self.ranges:
            if lo <= number <= hi:
                return value
        return None


def product_rule(text: str, strict: bool = False) -> tuple[int, float, float | None] | None:
    """'10 × 1 = 10 points', '5x2', '4q x 5m = 20' -> (count, each, total).

    `strict` requires a total or a unit ('q', 'm', 'marks') so '2 × 2 grid' is not a rule.
    """
    for match in PRODUCT_RULE.finditer(text):
        n, m = int(match.group("n")), float(match.group("m"))
        total = float(match.group("t")) if match.group("t") else None
        if n == 0 or m == 0 or m > 100:
            continue
        if strict and total is None and not re.search(r"[a-z]", match.group(0), re.I):
            continue
        if total is not None and abs(n * m - total) > 1e-6 and total not in (n, m):
            if total % m or not 0 < total / m <= 50:
                continue
            n = int(total / m)  # the count was misread ('5q' OCR'd as '54'); trust m and total
        return n, m, total
    return None


def total_marks(text: str) -> float | None:
    for line in text.splitlines():
        match = TOTAL_RULE.search(line)
        if match:
            value = match.group("t") or match.group("t2") or match.group("t3") or match.group("t4")
            if value and 0 < int(value) <= 1000:
                return float(value)
    return None

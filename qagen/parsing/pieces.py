"""Split a question's lines into labelled pieces: '(a) ...', 'ii) ...', 'Part B ...', 'OR'.

A label is taken at the start of a line, or inside a line after a sentence end or a wide
gap ("...below.  (b) ..."), or right after another label on the same line ("(A) 2F (B) F").
Whether a label really opens a sub-part is decided later by the tree builder, which checks
the sequence; this module only finds the possibilities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qagen.parsing.marks import leading_marks

ROMANS = {
    "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
    "xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18,
    "xix": 19, "xx": 20,
}
OR_LINE = re.compile(
    r"^\s*[\[(]?\s*(?:OR|Or|or|अथवा|या|ili|ODER|OU|O)\s*[\])]?\s*[.:]?\s*$"
)
_PAREN = r"\(\s?(?P<p>[a-z]{1,5}|[A-Z]|\d{1,2})\s?\)"
_CLOSE = r"(?<![\w(])(?P<c>[a-z]|[ivx]{2,5}|[A-Z])\)"
_DOT = r"(?P<d>[a-zA-Z]|[ivx]{2,5})\.(?=\s)"
_PART = r"(?:Part|PART|Sub-?part)\s*[-–]?\s*\(?(?P<part>[A-Z]|[a-z]|[IVX]{1,4}|\d)\)?(?=[\s:.\[(]|$)"
_DIGIT_DOT = r"(?P<n>\d{1,2})\.(?=\s)"
_DIGIT_PAREN = r"(?P<n>\d{1,2})\)(?=\s)"
START_LABEL = re.compile(rf"^\s*(?:{_PAREN}|{_CLOSE}|{_PART}|{_DOT})\s*")
START_DIGIT = {
    "any": re.compile(rf"^\s*(?:{_DIGIT_DOT}|{_DIGIT_PAREN.replace('?P<n>', '?P<n2>')})\s*"),
    ".": re.compile(rf"^\s*{_DIGIT_DOT}\s*"),
    ")": re.compile(rf"^\s*{_DIGIT_PAREN}\s*"),
}
INLINE_LABEL = re.compile(rf"(?<=\s){_PAREN}|(?<=\s){_CLOSE}")
_BOUNDARY = re.compile(r"(?:[.?!:;)\]]\s+|\s{2,}|^\s*)$")


@dataclass
class Row:
    """One line of a question, with the marks found in its right-hand column."""

    text: str
    marks: float | None = None
    page_top: bool = False


@dataclass
class Piece:
    text: str
    row: int
    label: str | None = None
    readings: list[tuple[str, int]] = field(default_factory=list)  # (family, value)
    style: str = ""
    line_start: bool = True
    boundary: bool = True
    marks: float | None = None  # leading '(3 points)' after the label
    row_marks: float | None = None  # right-column marks of the row this piece ends
    is_or: bool = False


def readings(token: str, style: str) -> list[tuple[str, int]]:
    """Possible (family, value) readings of a label token; roman/alpha overlap both ways."""
    if token.isdigit():
        return [("digit", int(token))]
    if token.islower():
        out = []
        if token in ROMANS:
            out.append(("roman", ROMANS[token]))
        if len(token) == 1:
            out.append(("alpha", ord(token) - 96))
        return out
    if len(token) == 1 and token.isupper():
        out = [("upper", ord(token) - 64)]
        if token in "IVX":
            out.append(("uroman", ROMANS[token.lower()]))
        return out
    if re.fullmatch(r"[IVX]{1,4}", token) and token.lower() in ROMANS:
        return [("uroman", ROMANS[token.lower()])]
    return []


def _label_of(match: re.Match[str]) -> tuple[str, str] | None:
    groups = match.groupdict()
    for key, style in (("p", "paren"), ("c", "paren"), ("part", "part"), ("d", "dot"), ("n", "digit"),
                       ("n2", "digit")):
        if groups.get(key):
            return groups[key], style
    return None


def split_rows(rows: list[Row], digits: str | None) -> list[Piece]:
    """Pieces in reading order: label + text up to the next label, OR markers.

    `digits` says which numbered labels may open sub-items: "any", "." or ")" (the
    punctuation the question numbers themselves do not use), or None.
    """
    pieces: list[Piece] = []
    for r, row in enumerate(rows):
        text = row.text.strip()
        if OR_LINE.match(text):
            pieces.append(Piece("", r, is_or=True, row_marks=row.marks))
            continue
        start = 0
        while True:
            match = START_LABEL.match(text, start) or (
                START_DIGIT[digits].match(text, start) if digits else None
            )
            found = _label_of(match) if match else None
            reads = readings(*found) if found else []
            if not match or not found or not reads:
                break
            pieces.append(Piece("", r, label=match.group(0).strip(), readings=reads, style=found[1]))
            start = match.end()
        if not pieces or (pieces[-1].is_or and start == 0):
            pieces.append(Piece("", r))  # the stem, or text right after an OR line
        _inline(text[start:], r, pieces)
        if row.marks is not None:
            last = pieces[-1]
            last.row_marks = row.marks + (last.row_marks or 0)
    for piece in pieces:
        if piece.label:
            piece.marks, piece.text = leading_marks(piece.text)
    return pieces


def _inline(text: str, row: int, pieces: list[Piece]) -> None:
    """Append `text` to the last piece, cutting it at inline labels."""
    pos = 0
    for match in INLINE_LABEL.finditer(text):
        found = _label_of(match)
        if not found:
            continue
        reads = readings(found[0], found[1])
        if not reads:
            continue
        before = text[pos:match.start()]
        pieces[-1].text = _join(pieces[-1].text, before)
        boundary = bool(_BOUNDARY.search(text[: match.start()]))
        pieces.append(Piece("", row, label=match.group(0).strip(), readings=reads, style="paren",
                            line_start=False, boundary=boundary))
        pos = match.end()
    pieces[-1].text = _join(pieces[-1].text, text[pos:])


def _join(a: str, b: str) -> str:
    b = b.strip()
    if not b:
        return a
    if not a:
        return b
    return a + "\n" + b

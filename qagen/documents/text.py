"""Read plain text and Markdown into lines (form feeds separate pages)."""

from __future__ import annotations

import re

from qagen.documents.lines import Document, Line, Segment, text_line

_GAP = re.compile(r"\t+| {3,}")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_MD_BULLET = re.compile(r"^(\s*)[-*+]\s+(?=\S)")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def read_text(data: bytes) -> Document:
    text = decode(data).replace("\r\n", "\n").replace("\r", "\n")
    pages = []
    for number, page_text in enumerate(text.split("\f")):
        lines = [_line(raw, number) for raw in page_text.split("\n")]
        pages.append([ln for ln in lines if ln is not None])
    return Document(kind="text", pages=pages, page_count=len(pages))


def _line(raw: str, page: int) -> Line | None:
    raw = raw.expandtabs(4) if "\t" not in raw.strip() else raw
    if _MD_TABLE_RULE.match(raw) and "-" in raw:
        return None
    if raw.strip().startswith("|") and raw.strip().endswith("|"):
        raw = "   ".join(cell.strip() for cell in raw.strip().strip("|").split("|"))
    raw = _MD_HEADING.sub("", raw)
    raw = _MD_EMPHASIS.sub(r"\2", raw)
    raw = _MD_BULLET.sub(r"\1", raw)
    if not raw.strip():
        return None
    indent = (len(raw) - len(raw.lstrip(" "))) * 0.01
    stripped = raw.strip()
    cells = [c for c in _GAP.split(stripped) if c.strip()]
    line = text_line("   ".join(cells), page=page, indent=indent)
    if len(cells) > 1:
        width = max(len(stripped), 60)
        segments = []
        pos = 0
        for cell in cells:
            start = stripped.find(cell, pos)
            segments.append(Segment(indent + start / width, indent + (start + len(cell)) / width, cell))
            pos = start + len(cell)
        line.segments = segments
    return line

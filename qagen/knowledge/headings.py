"""PDF, DOCX and scanned notes -> sections, from the lines `qagen.documents` read.

Headings: a DOCX paragraph's style ("Title", "Heading N"); in a PDF or a scan, a numbered
line ("2.1 Estimators") or a short ALL-CAPS line. Paragraphs: a DOCX paragraph is one; in a
PDF, a vertical gap between two lines clearly wider than the lines' own spacing starts a
new one. A table's rows are kept as "a | b" lines in one block. Bare page numbers and
repeated headers and footers are dropped (`qagen.documents.layout`). A section never spans
two pages of a PDF.
"""

from __future__ import annotations

import re

from qagen.documents.lines import Document, Line
from qagen.knowledge.sections import Block, Section, clean_heading

MAX_HEADING_WORDS = 25  # a "heading" styled paragraph longer than this is body text in a heading style
PARAGRAPH_GAP = 0.7  # a gap above this many line heights starts a new paragraph

_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+([A-Z][^.!?:;]{1,80})$")


def document_sections(document: Document) -> list[Section]:
    from qagen.documents.layout import clean_pages

    paged = document.kind != "docx"  # a DOCX has no pages to cite
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    for number, lines in enumerate(clean_pages(document.pages), 1):
        section = Section(page=number if paged else None, path=tuple(t for _, t in stack))
        sections.append(section)
        paragraph: list[str] = []
        table: list[str] = []

        def flush() -> None:
            if paragraph:
                section.blocks.append(Block(" ".join(paragraph)))
                paragraph.clear()
            if table:
                section.blocks.append(Block("\n".join(table)))
                table.clear()

        previous: Line | None = None
        for line in lines:
            text = " ".join(line.text.split())
            if not text:
                continue
            level = heading_level(line, text)
            if level:
                flush()
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, clean_heading(text)))
                section = Section(page=section.page, path=tuple(t for _, t in stack), heading_line=text)
                sections.append(section)
            elif line.table_row:
                if paragraph:
                    flush()
                table.append(" | ".join(" ".join(s.text.split()) for s in line.segments) if line.segments else text)
            else:
                if table or (paragraph and (not paged or _paragraph_break(previous, line))):
                    flush()
                paragraph.append(text)
            previous = line
        flush()
    return [s for s in sections if s.blocks]


def heading_level(line: Line, text: str) -> int:
    """The heading level of a line (0: body text)."""
    if line.heading_level:
        return line.heading_level if len(text.split()) <= MAX_HEADING_WORDS else 0
    if not line.positioned:  # DOCX body text: only styles make headings
        return 0
    words = text.split()
    if len(words) > 12 or text.endswith((".", ",", ";", ":")):
        return 0
    numbered = _NUMBERED_HEADING.match(text)
    if numbered:
        return numbered.group(1).count(".") + 1
    letters = [c for c in text if c.isalpha()]
    if 3 <= len(letters) and len(words) <= 8 and all(c.isupper() for c in letters):
        return 1
    return 0


def _paragraph_break(previous: Line | None, line: Line) -> bool:
    """A new paragraph in a PDF: a wider gap than the lines' spacing, or a new column."""
    if previous is None or not (previous.positioned and line.positioned):
        return False
    if line.top < previous.top or line.col_left != previous.col_left:  # the next column
        return True
    height = max(previous.bottom - previous.top, line.bottom - line.top, 1e-6)
    return line.top - previous.bottom > PARAGRAPH_GAP * height

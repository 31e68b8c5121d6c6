"""The readers' common output: pages of positioned text lines.

Coordinates are fractions of the page (x of its width, y of its height from the top), so
the layout rules work the same for PDF points, OCR pixels and position-less text.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Segment:
    """A run of a line's text with no wide gap inside (a column cell)."""

    x0: float
    x1: float
    text: str


@dataclass
class Line:
    text: str
    page: int = 0
    x0: float = 0.0
    x1: float = 1.0
    top: float = 0.0
    bottom: float = 0.0
    height: float = 0.0  # font size / glyph height as a fraction of the page height
    segments: list[Segment] = field(default_factory=list)
    foreign: int = 0  # characters dropped as unreadable (legacy-encoded Indic fonts)
    positioned: bool = False  # x/y come from the page (PDF, OCR), not invented
    ocr: bool = False
    conf: float = 100.0  # OCR confidence of the line's words (0-100)
    col_left: float = 0.0  # left edge of the column the line sits in
    col_right: float = 1.0
    page_top: bool = False  # first content line of its page (after header removal)
    heading_level: int = 0  # 1, 2, ... from a DOCX paragraph style ("Title", "Heading N"); 0 = not a heading
    table_row: bool = False  # a row of a table (DOCX): its segments are the cells

    @property
    def indent(self) -> float:
        return self.x0 - self.col_left

    def right_fraction(self, x: float) -> float:
        """Where `x` lies across the line's column, 0 = left edge, 1 = right edge."""
        width = max(self.col_right - self.col_left, 1e-6)
        return (x - self.col_left) / width


@dataclass
class Document:
    """What a reader found: the pages' lines plus facts worth reporting in errors."""

    kind: str
    pages: list[list[Line]]
    page_count: int = 0
    ocr_pages: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[Line]:
        return [line for page in self.pages for line in page]

    def word_count(self) -> int:
        return sum(len(line.text.split()) for line in self.lines())


def text_line(text: str, page: int = 0, indent: float = 0.0) -> Line:
    """A line without page geometry (plain text, DOCX); `indent` mimics its left margin."""
    return Line(text=text, page=page, x0=indent, x1=1.0, segments=[Segment(indent, 1.0, text)])

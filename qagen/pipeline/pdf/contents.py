"""The contents page and the question headings, drawn directly on the canvas.

reportlab's TableOfContents builds a table of paragraphs (with a callback per entry) on
every wrap of every pass; this draws each entry as one line (title, a few grey words of
the question, dot leaders, page number) and makes the whole line a link. Same indexing
protocol, so `multiBuild` treats it like the original.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from qagen.pipeline.pdf.fonts import SANS, SANS_BOLD
from qagen.pipeline.pdf.styles import ACCENT, MUTED, RULE


def fit(text: str, font: str, size: float, width: float) -> str:
    """`text` cut with an ellipsis so it is at most `width` points wide."""
    if width <= 0:
        return ""
    if stringWidth(text, font, size) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if stringWidth(text[:middle] + "…", font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…" if low else ""


@dataclass(frozen=True)
class Entry:
    """What a heading tells the contents: its level, title, grey detail and bookmark key."""

    level: int
    title: str
    detail: str
    key: str


_LEVELS = {0: (SANS_BOLD, 10.0, 14.0, 0.0), 1: (SANS, 9.5, 13.0, 14.0)}  # font, size, line height, indent
PAGE_COLUMN = 28.0
TEXT = colors.HexColor("#26323C")


def _level(level: int):
    return _LEVELS.get(level, (SANS, 9.0, 12.5, 14.0 + 10.0 * (level - 1)))


class _Lines(Flowable):
    """Some lines of the contents: (entry, page) pairs, drawn top to bottom."""

    def __init__(self, rows: list) -> None:
        super().__init__()
        self.rows = rows

    def wrap(self, available_width, available_height):
        self.width = available_width
        self.height = sum(_level(entry.level)[2] for entry, _ in self.rows)
        return self.width, self.height

    def split(self, available_width, available_height):
        used, count = 0.0, 0
        for entry, _ in self.rows:
            step = _level(entry.level)[2]
            if used + step > available_height:
                break
            used, count = used + step, count + 1
        if count == 0 or count == len(self.rows):
            return [] if count == 0 else [self]
        return [_Lines(self.rows[:count]), _Lines(self.rows[count:])]

    def draw(self):
        canvas = self.canv
        y = self.height
        for entry, page in self.rows:
            font, size, height, indent = _level(entry.level)
            y -= height
            baseline = y + (height - size) / 2 + 1
            number = str(page)
            right = self.width
            canvas.setFont(font, size)
            canvas.setFillColor(ACCENT if entry.level == 0 else TEXT)
            canvas.drawRightString(right, baseline, number)
            room = right - PAGE_COLUMN - indent
            title = fit(entry.title, font, size, room)
            canvas.drawString(indent, baseline, title)
            x = indent + stringWidth(title, font, size)
            if entry.detail and x + 20 < indent + room:
                canvas.setFont(SANS, size - 1.5)
                canvas.setFillColor(MUTED)
                detail = fit("  " + entry.detail, SANS, size - 1.5, indent + room - x)
                canvas.drawString(x, baseline, detail)
                x += stringWidth(detail, SANS, size - 1.5)
            dots_from, dots_to = x + 6, right - stringWidth(number, font, size) - 6
            if dots_to - dots_from > 8:
                canvas.setStrokeColor(RULE)
                canvas.setLineWidth(0.8)
                canvas.setDash(0.8, 2.6)
                canvas.line(dots_from, baseline + 1, dots_to, baseline + 1)
                canvas.setDash()
            canvas.linkRect("", entry.key, (indent, y, right, y + height), relative=1, thickness=0)


class Contents(_Lines):
    """An indexing flowable: collects "TOCEntry" notifications (level, Entry, page, key) each pass."""

    def __init__(self) -> None:
        super().__init__([])
        self._entries: list[tuple] = []
        self._lastEntries: list[tuple] = []  # noqa: N815 (the name TableOfContents uses)

    def isIndexing(self):  # noqa: N802
        return 1

    def isSatisfied(self):  # noqa: N802
        return self._entries == self._lastEntries

    def beforeBuild(self):  # noqa: N802
        self._lastEntries = self._entries[:]
        self._entries = []
        self.rows = [(entry, page) for _, entry, page, _ in self._lastEntries]

    def afterBuild(self):  # noqa: N802
        pass

    def notify(self, kind, stuff):
        if kind == "TOCEntry":
            self._entries.append(tuple(stuff))

    def seed(self, entries: list[Entry]) -> None:
        """Entries known before layout (pages unknown): the first pass then reserves the right space."""
        self._entries = [(entry.level, entry, 0, entry.key) for entry in entries]


class QuestionHeading(Flowable):
    """ "Question 12 ............ 4 marks" with a rule below; adds its outline entry when drawn."""

    HEIGHT = 18.0

    def __init__(self, title: str, marks: str, outline) -> None:
        super().__init__()
        self.title, self.marks, self.outline = title, marks, outline

    def wrap(self, available_width, available_height):
        self.width, self.height = available_width, self.HEIGHT
        return self.width, self.height

    def drawOn(self, canvas, x, y, _sW=0):  # noqa: N802
        self.outline.mark(canvas, y + self.height)
        super().drawOn(canvas, x, y, _sW)

    def draw(self):
        canvas = self.canv
        marks_width = stringWidth(self.marks, SANS, 9.5)
        canvas.setFont(SANS_BOLD, 12)
        canvas.setFillColor(ACCENT)
        canvas.drawString(0, 5, fit(self.title, SANS_BOLD, 12, self.width - marks_width - 12))
        canvas.setFont(SANS, 9.5)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(self.width, 5, self.marks)
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(0.7)
        canvas.line(0, 0.5, self.width, 0.5)

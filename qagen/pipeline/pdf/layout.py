"""The page machinery: templates, running header and footer, bookmarks, TOC entries, page totals."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate
from reportlab.platypus import Paragraph as _Paragraph

from qagen.pipeline.pdf.contents import fit
from qagen.pipeline.pdf.fonts import SANS, SANS_BOLD
from qagen.pipeline.pdf.styles import MUTED, RULE

MARGIN_X = 18 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 18 * mm


class Paragraph(_Paragraph):
    """reportlab's Paragraph, except that it draws nothing on the first pass's `DraftCanvas`.

    That pass only measures (layout happens in wrap/split, not in draw), so skipping the
    text drawing there saves a good share of the render time.
    """

    def draw(self):
        if getattr(self.canv, "draft", False):
            return
        super().draw()


MAX_PARAGRAPH_CHARS = 4000


def _chunk_style(style, place: str):
    """`style` without the space above (place="rest"/"last") or below (place="first"/"rest")."""
    from reportlab.lib.styles import ParagraphStyle

    cache = style.__dict__.setdefault("_qagen_chunks", {})
    if place not in cache:
        cache[place] = ParagraphStyle(f"{style.name}~{place}", parent=style,
                                      spaceBefore=style.spaceBefore if place == "first" else 0,
                                      spaceAfter=style.spaceAfter if place == "last" else 0)
    return cache[place]


def paragraphs(markup: str, style, *, bulletText=None, limit: int = MAX_PARAGRAPH_CHARS) -> list:  # noqa: N803
    """One Paragraph, or several when its text is very long.

    reportlab re-breaks the whole remainder of a paragraph at every page split, so one
    100-page paragraph costs O(n²); cutting it into ~4,000-character pieces (at spaces
    where there are any) keeps a huge answer linear. Formatting carries across the cut.
    """
    paragraph = Paragraph(markup, style, bulletText=bulletText)
    frags = paragraph.frags
    if sum(len(getattr(frag, "text", "") or "") for frag in frags) <= limit:
        return [paragraph]
    chunks: list[list] = []
    current: list = []
    size = 0
    for frag in frags:
        text = getattr(frag, "text", "") or ""
        if getattr(frag, "cbDefn", None) is not None or getattr(frag, "lineBreak", False):
            current.append(frag)
            continue
        while size + len(text) > limit:
            room = limit - size
            cut = text.rfind(" ", 0, room)
            if cut <= 0:
                cut = room if not current or room > limit // 4 else 0
            if cut > 0:
                current.append(frag.clone(text=text[:cut]))
                text = text[cut:].lstrip(" ")
            chunks.append(current)
            current, size = [], 0
        if text:
            current.append(frag.clone(text=text))
            size += len(text)
    if current:
        chunks.append(current)
    chunks = [chunk for chunk in chunks if chunk]
    out = []
    for index, chunk in enumerate(chunks):
        place = "first" if index == 0 else "last" if index == len(chunks) - 1 else "rest"
        out.append(Paragraph(None, _chunk_style(paragraph.style, place), bulletText=bulletText if index == 0 else None,
                             frags=chunk))
    return out or [paragraph]


class Outline:
    """Where a heading goes in the PDF outline (bookmarks) and, if `toc` (an Entry) is set, the contents."""

    def __init__(self, level: int, title: str, key: str, toc=None) -> None:
        self.level, self.title, self.key, self.toc = level, title, key, toc

    def mark(self, canvas, top: float) -> None:
        canvas.bookmarkHorizontal(self.key, 0, top + 6)
        # An outline level may go at most one deeper than the entry before it.
        level = min(self.level, getattr(canvas, "_qagen_outline_level", -1) + 1)
        canvas._qagen_outline_level = level
        canvas.addOutlineEntry(self.title, self.key, level=level, closed=level > 0)
        doc = getattr(canvas, "_doctemplate", None)
        if doc is not None and self.toc is not None:
            doc.notify("TOCEntry", (self.level, self.toc, canvas.getPageNumber(), self.key))


class OutlinedParagraph(Paragraph):
    """A heading paragraph that adds itself to the outline and the contents when drawn."""

    def __init__(self, text, style, outline: Outline | None = None, **kwargs) -> None:
        super().__init__(text, style, **kwargs)
        self.outline = outline  # None on the second half of a split heading

    def drawOn(self, canvas, x, y, _sW=0):  # noqa: N802 (reportlab's name)
        if self.outline is not None:
            self.outline.mark(canvas, y + self.height)
        super().drawOn(canvas, x, y, _sW)


class PageTotal(Flowable):
    """Zero-size indexing flowable: remembers the page count of the previous pass for "Page n of m".

    `multiBuild` repeats passes until every indexing flowable is satisfied, so the final pass
    always prints the total it really has.
    """

    def __init__(self, doc: BaseDocTemplate) -> None:
        super().__init__()
        self.doc = doc
        self.previous: int | None = None
        self.current: int | None = None
        self.width = self.height = 0

    def isIndexing(self):  # noqa: N802
        return 1

    def isSatisfied(self):  # noqa: N802
        return self.current is not None and self.current == self.previous

    def beforeBuild(self):  # noqa: N802
        self.previous = self.current

    def afterBuild(self):  # noqa: N802
        self.current = self.doc.page

    def notify(self, kind, stuff):
        pass

    def wrap(self, available_width, available_height):
        return 0, 0

    def draw(self):
        pass


class DraftCanvas(Canvas):
    """The canvas of the first layout pass, which only collects page numbers for the contents.

    That pass is never saved (PageTotal is unsatisfied after it, so multiBuild always runs
    again), so it draws no images and (see Paragraph) no paragraph text.
    """

    draft = True

    def drawImage(self, image, x, y, width=None, height=None, mask=None, **kwargs):  # noqa: N802
        return (width or 0, height or 0)

    def drawInlineImage(self, image, x, y, width=None, height=None, **kwargs):  # noqa: N802
        return (width or 0, height or 0)


class AnswersDoc(BaseDocTemplate):
    """Cover page template (footer only) and body template (running header and footer)."""

    def __init__(self, buffer, *, pagesize, header: str, footer_left: str, **kwargs) -> None:
        super().__init__(buffer, pagesize=pagesize, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                         topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, **kwargs)
        self.header = header
        self.footer_left = footer_left
        self.page_total = PageTotal(self)
        self.passes = 0
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([
            PageTemplate(id="cover", frames=[frame], onPage=self._decorate_cover),
            PageTemplate(id="body", frames=[frame], onPage=self._decorate_body),
        ])

    def build(self, flowables, filename=None, canvasmaker=Canvas):
        # PageTotal is unsatisfied after the first pass, so that pass is never the saved one.
        self.passes += 1
        super().build(flowables, filename, DraftCanvas if self.passes == 1 else canvasmaker)

    def _footer(self, canvas) -> None:
        total = self.page_total.previous
        label = f"Page {self.page} of {total}" if total and total >= self.page else f"Page {self.page}"
        width = self.pagesize[0]
        canvas.setFont(SANS, 8)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(width - self.rightMargin, 10 * mm, label)
        canvas.drawString(self.leftMargin, 10 * mm, fit(self.footer_left, SANS, 8, self.width * 0.7))

    def _decorate_cover(self, canvas, doc) -> None:
        canvas.saveState()
        self._footer(canvas)
        canvas.restoreState()

    def _decorate_body(self, canvas, doc) -> None:
        canvas.saveState()
        width, height = self.pagesize
        y = height - 12 * mm
        canvas.setFont(SANS_BOLD, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(self.leftMargin, y, fit(self.header, SANS_BOLD, 8, self.width * 0.75))
        canvas.setFont(SANS, 8)
        canvas.drawRightString(width - self.rightMargin, y, "Worked answers")
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(self.leftMargin, y - 2.5 * mm, width - self.rightMargin, y - 2.5 * mm)
        self._footer(canvas)
        canvas.restoreState()

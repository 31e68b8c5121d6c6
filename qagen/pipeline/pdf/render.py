"""render_pdf: an answered `Paper` in, PDF bytes out (reportlab platypus, two passes)."""

from __future__ import annotations

import datetime as dt
import io
import logging

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, LETTER

from qagen.model import Paper
from qagen.pipeline.pdf.fonts import SANS, register_fonts
from qagen.pipeline.pdf.layout import AnswersDoc
from qagen.pipeline.pdf.story import Content, StoryBuilder
from qagen.pipeline.pdf.styles import Styles
from qagen.pipeline.pdf.text import shorten

log = logging.getLogger(__name__)

PAGE_SIZES = {"a4": A4, "letter": LETTER}

# Plain Flate streams instead of ASCII85+Flate: ~20% smaller files and less work. This is
# reportlab's process-wide switch; it changes only the encoding of streams, not what they hold.
rl_config.useA85 = 0


def page_size_of(name: str) -> tuple[float, float]:
    try:
        return PAGE_SIZES[str(name).strip().lower()]
    except KeyError:
        raise ValueError(f"page_size must be 'A4' or 'Letter', not {name!r}") from None


def render_pdf(paper: Paper, figures: dict, *, model: str, page_size: str = "A4", subject: str | None = None,
               date: dt.date | None = None) -> bytes:
    """The PDF of worked answers for `paper`.

    `figures` comes from `draw_diagrams` (key "overview", or str(id(item)) for an answer's
    chart). If the full document cannot be built (it should not happen, but the job must
    not fail over typesetting), it is built again in a plain mode: no Markdown, math or
    images, every character still printed.
    """
    from qagen.pipeline.diagrams import OVERVIEW

    size = page_size_of(page_size)
    register_fonts()
    content = Content(model=model or "unknown", subject=subject, date=date or dt.date.today(),
                      figures=dict(figures or {}), overview_key=OVERVIEW)
    try:
        return _build(paper, content, size, rich=True)
    except Exception as exc:
        log.warning("the full PDF could not be built (%s); building the plain version", type(exc).__name__,
                    exc_info=not isinstance(exc, RecursionError))
        return _build(paper, content, size, rich=False)


def _build(paper: Paper, content: Content, size, *, rich: bool) -> bytes:
    buffer = io.BytesIO()
    title = shorten(paper.title, 300) or "Question paper"
    doc = AnswersDoc(buffer, pagesize=size, header=shorten(title, 120), footer_left=f"qagen · {content.model}",
                     title=f"Worked answers: {title}", author="qagen", subject=content.subject or "",
                     creator="qagen", initialFontName=SANS, initialFontSize=10)
    styles = Styles(doc.width)
    builder = StoryBuilder(paper, content, styles, rich=rich)
    try:
        story = [doc.page_total] + builder.build()
        doc.multiBuild(story, maxPasses=6)
    finally:
        builder.math.close()
    return buffer.getvalue()

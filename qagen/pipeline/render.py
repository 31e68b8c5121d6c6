"""Render stage: an answered `Paper` in, PDF bytes out (reportlab platypus).

All text is escaped before it reaches reportlab's mini-markup, so '<', '&' and
control characters in a paper or an answer can never break the document.
"""

from __future__ import annotations

import io
import re
import time
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer

from qagen.model import Answer, Paper, Part, Question
from qagen.pipeline.diagrams import OVERVIEW, Figure

FONT = "DejaVuSans"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    import matplotlib

    base = f"{matplotlib.get_data_path()}/fonts/ttf/"
    variants = {FONT: "DejaVuSans.ttf", f"{FONT}-Bold": "DejaVuSans-Bold.ttf",
                f"{FONT}-Oblique": "DejaVuSans-Oblique.ttf", f"{FONT}-BoldOblique": "DejaVuSans-BoldOblique.ttf"}
    for name, file in variants.items():
        pdfmetrics.registerFont(TTFont(name, base + file))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=f"{FONT}-Bold", italic=f"{FONT}-Oblique",
                                  boldItalic=f"{FONT}-BoldOblique")


def safe(text: str) -> str:
    """Text made safe for a reportlab Paragraph: control characters dropped, markup escaped."""
    return escape(_CONTROL.sub("", text or "")).replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=FONT, fontSize=10, leading=14)
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontName=f"{FONT}-Bold", fontSize=20, leading=26),
        "meta": ParagraphStyle("meta", parent=body, alignment=TA_CENTER, textColor=colors.HexColor("#444444")),
        "question": ParagraphStyle("question", parent=body, fontName=f"{FONT}-Bold", fontSize=11, spaceBefore=10),
        "body": body,
        "part": ParagraphStyle("part", parent=body, leftIndent=8 * mm),
        "answer": ParagraphStyle("answer", parent=body, leftIndent=6 * mm, backColor=colors.HexColor("#F3F6FA"),
                                 borderPadding=(4, 4, 4, 4), spaceBefore=4, spaceAfter=6),
        "note": ParagraphStyle("note", parent=body, fontSize=8.5, textColor=colors.HexColor("#8A4B00"), leftIndent=6 * mm),
    }


def _marks(marks: float | None) -> str:
    return "" if marks is None else f" [{marks:g} mark{'s' if marks != 1 else ''}]"


def _answer_flowables(answer: Answer | None, figure: Figure | None, styles: dict) -> list:
    if answer is None:
        return []
    out = [Paragraph(f"<b>Answer.</b> {safe(answer.text)}", styles["answer"])]
    if figure is not None:
        out.append(Image(io.BytesIO(figure.png), width=150 * mm, height=80 * mm, kind="proportional"))
        out.append(Paragraph(f"<i>{safe(figure.caption)}</i>", styles["meta"]))
    for number, citation in enumerate(answer.citations, start=1):
        page = f", p. {citation.page}" if citation.page else ""
        out.append(Paragraph(f"[{number}] {safe(citation.document)}{page}: “{safe(citation.excerpt)}”", styles["note"]))
    for note in answer.notes:
        out.append(Paragraph(f"Note: {safe(note)}", styles["note"]))
    return out


def _part_flowables(part: Part, figures: dict[str, Figure], styles: dict, depth: int) -> list:
    style = ParagraphStyle(f"part{depth}", parent=styles["part"], leftIndent=8 * mm * depth)
    out = [Paragraph(f"<b>({safe(part.label)})</b> {safe(part.text)}{_marks(part.marks)}", style)]
    out += [Paragraph(f"({safe(o.label)}) {safe(o.text)}", style) for o in part.options]
    for child in part.parts:
        out += _part_flowables(child, figures, styles, depth + 1)
    out += _answer_flowables(part.answer, figures.get(str(id(part))), styles)
    return out


def _question_flowables(question: Question, figures: dict[str, Figure], styles: dict, heading: str) -> list:
    head = Paragraph(f'<a name="q{id(question)}"/>{safe(heading)}{_marks(question.marks)}', styles["question"])
    out = [KeepTogether([head, Paragraph(safe(question.text), styles["body"])])]
    out += [Paragraph(f"({safe(o.label)}) {safe(o.text)}", styles["part"]) for o in question.options]
    for part in question.parts:
        out += _part_flowables(part, figures, styles, 1)
    out += _answer_flowables(question.answer, figures.get(str(id(question))), styles)
    return out


class _Doc(SimpleDocTemplate):
    """Adds a PDF bookmark for every question heading."""

    def afterFlowable(self, flowable) -> None:  # noqa: N802 (reportlab's name)
        if isinstance(flowable, KeepTogether):
            flowable = flowable._content[0]
        if isinstance(flowable, Paragraph) and flowable.style.name == "question":
            key = f"bm{self.page}_{id(flowable)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.getPlainText()[:80], key, level=0)


def _footer(title: str):
    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#666666"))
        width = doc.pagesize[0]
        canvas.drawString(doc.leftMargin, 10 * mm, title[:90])
        canvas.drawRightString(width - doc.rightMargin, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def render_pdf(paper: Paper, figures: dict[str, Figure], *, model: str, page_size: str = "A4") -> bytes:
    _register_fonts()
    styles = _styles()
    title = paper.title or "Question paper"
    buffer = io.BytesIO()
    doc = _Doc(buffer, pagesize=A4 if page_size == "A4" else LETTER, title=f"Answers: {title}", author="qagen",
               leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
               initialFontName=FONT)
    known = [q.marks for q in paper.questions if q.marks is not None]
    total = paper.total_marks if paper.total_marks is not None else (sum(known) if known else None)
    story: list = [
        Spacer(1, 30 * mm),
        Paragraph(safe(title), styles["title"]),
        Paragraph("Worked answers", styles["meta"]),
        Spacer(1, 8 * mm),
        Paragraph(f"{len(paper.questions)} questions" + (f" · {total:g} marks" if total is not None else ""), styles["meta"]),
        Paragraph(f"Answered {time.strftime('%d %B %Y')} · model: {safe(model)}", styles["meta"]),
    ]
    if paper.instructions:
        story += [Spacer(1, 8 * mm), Paragraph(safe(paper.instructions), styles["body"])]
    if OVERVIEW in figures:
        figure = figures[OVERVIEW]
        story += [Spacer(1, 8 * mm), Image(io.BytesIO(figure.png), width=150 * mm, height=80 * mm, kind="proportional"),
                  Paragraph(f"<i>{safe(figure.caption)}</i>", styles["meta"])]
    story.append(PageBreak())
    for question in paper.questions:
        story += _question_flowables(question, figures, styles, f"Question {question.number}")
        for alternative in question.alternatives:
            story.append(Paragraph("OR", styles["meta"]))
            story += _question_flowables(alternative, figures, styles, f"Question {question.number} (alternative)")
    footer = _footer(f"qagen · {title}")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()

"""Paragraph styles: one sans family (DejaVu) for everything, a muted blue accent."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import TableStyle

from qagen.pipeline.pdf.fonts import MONO, SANS, SANS_BOLD, SANS_ITALIC

ACCENT = colors.HexColor("#1F4E79")
MUTED = colors.HexColor("#5F6B76")
RULE = colors.HexColor("#B8C4CE")
SHADE = colors.HexColor("#F2F5F8")
CODE_SHADE = colors.HexColor("#F4F4F4")
NOTE = colors.HexColor("#8A4B00")
CHECK_SHADE = colors.HexColor("#FFF7E8")  # the cover's "Check these" box
KEY = colors.HexColor("#2F5D3A")  # the paper's own answer key
KEY_SHADE = colors.HexColor("#F1F7F2")
BODY_SIZE = 10.0


@dataclass
class Styles:
    width: float  # usable frame width in points

    def __post_init__(self) -> None:
        body = ParagraphStyle("body", fontName=SANS, fontSize=BODY_SIZE, leading=14, spaceAfter=4,
                              bulletFontName=SANS, autoLeading="max", splitLongWords=1, alignment=TA_LEFT)
        self.body = body
        self.cover_kicker = ParagraphStyle("cover_kicker", parent=body, fontName=SANS_BOLD, fontSize=10,
                                           textColor=ACCENT, spaceAfter=6)
        self.cover_title = ParagraphStyle("cover_title", parent=body, fontName=SANS_BOLD, fontSize=22, leading=28,
                                          textColor=colors.HexColor("#14212B"), spaceAfter=6)
        self.cover_subject = ParagraphStyle("cover_subject", parent=body, fontSize=13, leading=17, textColor=MUTED,
                                            spaceAfter=10)
        self.h1 = ParagraphStyle("h1", parent=body, fontName=SANS_BOLD, fontSize=15, leading=19, textColor=ACCENT,
                                 spaceBefore=6, spaceAfter=8, keepWithNext=1)
        self.section = ParagraphStyle("section", parent=self.h1, fontSize=14, spaceBefore=10)
        self.stem = ParagraphStyle("stem", parent=body, spaceBefore=4)
        self.option = ParagraphStyle("option", parent=body, leftIndent=9 * mm, bulletIndent=2 * mm, spaceAfter=1)
        self.answer_label = ParagraphStyle("answer_label", parent=body, fontName=SANS_BOLD, fontSize=9,
                                           textColor=ACCENT, spaceBefore=4, spaceAfter=2, keepWithNext=1)
        self.answer = ParagraphStyle("answer", parent=body)
        self.answer_tight = ParagraphStyle("answer_tight", parent=body, spaceAfter=1)
        self.answer_heading = ParagraphStyle("answer_heading", parent=body, fontName=SANS_BOLD, spaceBefore=4,
                                             spaceAfter=2, keepWithNext=1)
        self.quote = ParagraphStyle("quote", parent=body, leftIndent=6 * mm, textColor=colors.HexColor("#3C4650"),
                                    fontName=SANS_ITALIC)
        self.code = ParagraphStyle("code", parent=body, fontName=MONO, fontSize=8.5, leading=11, backColor=CODE_SHADE,
                                   borderPadding=(3, 4, 3, 4), leftIndent=2, rightIndent=2, spaceBefore=3, spaceAfter=7)
        self.display_math = ParagraphStyle("display_math", parent=body, alignment=TA_CENTER, spaceBefore=3,
                                           spaceAfter=6)
        self.cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0)
        self.cell_head = ParagraphStyle("cell_head", parent=self.cell, fontName=SANS_BOLD)
        self.caption = ParagraphStyle("caption", parent=body, fontSize=8.5, leading=11, textColor=MUTED,
                                      alignment=TA_CENTER, fontName=SANS_ITALIC, spaceBefore=2, spaceAfter=8)
        self.sources_label = ParagraphStyle("sources_label", parent=body, fontName=SANS_BOLD, fontSize=8.5,
                                            leading=11, textColor=MUTED, spaceBefore=4, spaceAfter=1, keepWithNext=1)
        self.source = ParagraphStyle("source", parent=body, fontSize=8.5, leading=11,
                                     textColor=colors.HexColor("#37424C"),
                                     leftIndent=8 * mm, bulletIndent=0, spaceAfter=1)
        self.note = ParagraphStyle("note", parent=body, fontSize=8.5, leading=11, textColor=NOTE, fontName=SANS_ITALIC,
                                   spaceAfter=2)
        self.check_title = ParagraphStyle("check_title", parent=body, fontName=SANS_BOLD, fontSize=10, leading=13,
                                          textColor=NOTE, spaceAfter=2)
        self.check_item = ParagraphStyle("check_item", parent=body, fontSize=9, leading=12, leftIndent=4 * mm,
                                         bulletIndent=0, spaceAfter=1)
        self.key_label = ParagraphStyle("key_label", parent=self.answer_label, textColor=KEY)
        self.key = ParagraphStyle("key", parent=body, fontSize=9.5, leading=13, backColor=KEY_SHADE,
                                  borderPadding=(3, 4, 3, 4), leftIndent=2, rightIndent=2, spaceBefore=1, spaceAfter=6)
        self.caption_left = ParagraphStyle("caption_left", parent=self.caption, alignment=TA_LEFT, spaceBefore=0)
        self.paper = ParagraphStyle("paper", parent=self.h1, fontSize=17, leading=22, spaceBefore=0, spaceAfter=4)
        self.meta_label = ParagraphStyle("meta_label", parent=body, fontSize=9, textColor=MUTED, spaceAfter=0)
        self.meta_value = ParagraphStyle("meta_value", parent=body, fontSize=10, spaceAfter=0)

    def part(self, depth: int) -> ParagraphStyle:
        """Hanging-label style for a part at nesting depth 1, 2, ... (deeper than 4 stops indenting)."""
        depth = min(depth, 4)
        cache = self.__dict__.setdefault("_parts", {})
        if depth not in cache:
            indent = 9 * mm * depth
            cache[depth] = ParagraphStyle(f"part{depth}", parent=self.body, leftIndent=indent,
                                          bulletIndent=indent - 9 * mm, spaceBefore=4)
        return cache[depth]

    def indented(self, style: ParagraphStyle, indent: float) -> ParagraphStyle:
        """`style` moved right by `indent` points (cached, so a long paper makes few styles)."""
        if not indent:
            return style
        cache = self.__dict__.setdefault("_indented", {})
        key = (style.name, round(indent, 2))
        if key not in cache:
            cache[key] = ParagraphStyle(f"{style.name}+{indent:g}", parent=style, leftIndent=style.leftIndent + indent,
                                        bulletIndent=style.bulletIndent + indent)
        return cache[key]


def table_style(commands: list) -> TableStyle:
    """A TableStyle whose cells default to DejaVu (reportlab's default would pull in Helvetica)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), SANS), ("FONTSIZE", (0, 0), (-1, -1), 9)] + list(commands))

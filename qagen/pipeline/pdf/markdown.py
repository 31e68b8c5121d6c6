"""Light Markdown in answers -> reportlab flowables.

Parsing is markdown-it-py (CommonMark, with tables) plus mdit-py-plugins' dollarmath for
`$...$` and `$$...$$`; raw HTML is off, so "<b>" in an answer prints as text. Every piece
of text is escaped with `esc` before it enters paragraph markup; formulas become inline
PNGs (or their plain text when mathtext cannot draw them). Sizes are bounded so no
single flowable can outgrow a page: table cells are cut to what fits, nesting stops
indenting after a few levels, and code lines wrap.
"""

from __future__ import annotations

import logging
import re
import threading

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    Preformatted,
    Spacer,
    Table,
)
from reportlab.platypus.flowables import HRFlowable

from qagen.pipeline.pdf.fonts import MONO, SANS
from qagen.pipeline.pdf.layout import Paragraph, paragraphs
from qagen.pipeline.pdf.math import MathRenderer
from qagen.pipeline.pdf.styles import BODY_SIZE, RULE, SHADE, Styles, table_style
from qagen.pipeline.pdf.text import clean, esc, shorten

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 200_000
MAX_TABLE_ROWS = 300
MAX_TABLE_COLUMNS = 10
MAX_INDENT_DEPTH = 4
LIST_INDENT = 6 * mm
BULLETS = ("•", "–", "◦", "▪")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")

_parser = None
_parser_lock = threading.Lock()


def _markdown():
    global _parser
    if _parser is None:
        with _parser_lock:
            if _parser is None:
                from markdown_it import MarkdownIt
                from mdit_py_plugins.dollarmath import dollarmath_plugin

                # maxNesting: the preset (20) silently drops everything nested deeper; far deeper input
                # ends in a RecursionError instead, and the answer is then printed as plain text.
                md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False,
                                               "maxNesting": 10_000})
                md.enable(["table", "strikethrough"])
                # Pandoc-like rules (no space inside the dollars, no digit after the closing one) keep
                # "costs $5 and $10" as prices, not a formula.
                md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
                _parser = md
    return _parser


def _paragraphs(markup: str, style, plain: str, shared_images: dict | None = None) -> list[Flowable]:
    """Paragraphs from our markup; if reportlab still refuses it, the escaped plain text."""
    try:
        out = paragraphs(markup, style)
    except Exception:
        return paragraphs(esc(plain), style)
    if shared_images is not None:
        # reportlab makes (and later decodes) one ImageReader per <img> occurrence; share one per formula.
        for paragraph in out:
            for frag in paragraph.frags:
                definition = getattr(frag, "cbDefn", None)
                if definition is not None and getattr(definition, "kind", None) == "img":
                    reader = shared_images.setdefault(definition.src, definition.image)
                    definition.image = reader
    return out


class AnswerWriter:
    """Turns answer Markdown into flowables that fit a frame `styles.width` wide."""

    def __init__(self, styles: Styles, math: MathRenderer, *, rich: bool = True) -> None:
        self.styles = styles
        self.math = math
        self.rich = rich
        self.images: dict = {}  # formula file -> the one ImageReader all its occurrences share

    # -- entry point -------------------------------------------------------------------
    def flowables(self, text: str, indent: float = 0.0) -> list[Flowable]:
        text = clean(text)
        notes: list[Flowable] = []
        if len(text) > MAX_ANSWER_CHARS:
            omitted = len(text) - MAX_ANSWER_CHARS
            text = text[:MAX_ANSWER_CHARS]
            notes.append(Paragraph(f"(The answer was cut here; {omitted:,} more characters were not printed.)",
                                   self.styles.indented(self.styles.note, indent)))
        if not text.strip():
            return notes
        if not self.rich:
            return self.plain(text, indent) + notes
        try:
            from markdown_it.tree import SyntaxTreeNode

            tree = SyntaxTreeNode(_markdown().parse(text))
            out = self._blocks(tree.children, indent, 0)
        except Exception as exc:  # a Markdown edge case must never cost the answer
            log.warning("answer Markdown could not be typeset (%s); printing it as plain text", type(exc).__name__,
                        exc_info=not isinstance(exc, RecursionError))
            out = self.plain(text, indent)
        return out + notes

    def plain(self, text: str, indent: float = 0.0) -> list[Flowable]:
        """No Markdown at all: paragraphs split on blank lines, every character printed."""
        style = self.styles.indented(self.styles.answer, indent)
        blocks = [block.strip("\n") for block in clean(text).split("\n\n")]
        return [p for block in blocks if block.strip() for p in paragraphs(esc(block), style)]

    # -- blocks ------------------------------------------------------------------------
    def _blocks(self, nodes, indent: float, depth: int, *, tight: bool = False, quote: bool = False) -> list[Flowable]:
        out: list[Flowable] = []
        for node in nodes:
            out += self._block(node, indent, depth, tight, quote)
        return out

    def _block(self, node, indent: float, depth: int, tight: bool, quote: bool) -> list[Flowable]:
        styles = self.styles
        kind = node.type
        if kind == "paragraph":
            inline = node.children[0] if node.children else None
            if inline is not None and len(inline.children) == 1 and inline.children[0].type == "math_inline_double":
                return [self._display_math(inline.children[0].content, indent)]
            base = styles.quote if quote else styles.answer_tight if tight else styles.answer
            markup = self._inline(inline) if inline is not None else ""
            return _paragraphs(markup, styles.indented(base, indent), node_text(node), self.images)
        if kind == "heading":
            inline = node.children[0] if node.children else None
            markup = self._inline(inline) if inline is not None else ""
            return _paragraphs(markup, styles.indented(styles.answer_heading, indent), node_text(node), self.images)
        if kind in ("bullet_list", "ordered_list"):
            return [self._list(node, indent, depth)]
        if kind in ("fence", "code_block"):
            return [self._code(node.content, indent)]
        if kind in ("math_block", "math_block_label"):
            return [self._display_math(node.content, indent)]
        if kind == "blockquote":
            step = 6 * mm if depth < MAX_INDENT_DEPTH else 0
            return self._blocks(node.children, indent + step, depth + 1, quote=True)
        if kind == "hr":
            return [HRFlowable(width="100%", thickness=0.6, color=RULE, spaceBefore=4, spaceAfter=6)]
        if kind == "table":
            return self._table(node, indent)
        if node.children:
            return self._blocks(node.children, indent, depth, tight=tight, quote=quote)
        return [Paragraph(esc(node.content), styles.indented(styles.answer, indent))] if node.content else []

    def _list(self, node, indent: float, depth: int) -> Flowable:
        ordered = node.type == "ordered_list"
        tight = not any(not getattr(p, "hidden", False) for p in _paragraph_nodes(node))
        items = []
        for item in node.children:
            content = self._blocks(item.children, 0, depth + 1, tight=tight) or [Spacer(1, 1)]
            items.append(ListItem(content))
        start = 1
        if ordered:
            try:
                start = max(0, min(int(node.attrs.get("start", 1) or 1), 10**9))
            except (TypeError, ValueError):
                start = 1
        # The bullet sits `dedent` left of the item text; deep nesting stops indenting further.
        gutter = (max(LIST_INDENT, len(str(start + len(items))) * 6 + 8) if ordered else LIST_INDENT) \
            if depth < MAX_INDENT_DEPTH else 2 * mm
        dedent = gutter - 1.5 * mm if depth < MAX_INDENT_DEPTH else 0
        options = dict(leftIndent=indent + gutter, bulletDedent=dedent, bulletFontName=SANS,
                       bulletFontSize=BODY_SIZE, bulletColor=colors.HexColor("#37424C"), spaceAfter=3)
        if ordered:
            return ListFlowable(items, bulletType="1", start=start, bulletFormat="%s.", **options)
        return ListFlowable(items, bulletType="bullet", start=BULLETS[depth % len(BULLETS)], **options)

    def _code(self, code: str, indent: float) -> Flowable:
        style = self.styles.indented(self.styles.code, indent)
        usable = self.styles.width - style.leftIndent - style.rightIndent - 12
        per_line = max(20, int(usable / (0.602 * style.fontSize)))
        return Preformatted(clean(code).rstrip("\n") or " ", style, maxLineLength=per_line, newLineChars="")

    def _display_math(self, tex: str, indent: float) -> Flowable:
        style = self.styles.indented(self.styles.display_math, indent)
        # mathtext has no display style: \dfrac gives display-size fractions.
        display = re.sub(r"\\frac(?![A-Za-z])", r"\\dfrac", tex)
        image = self.math.image(display, BODY_SIZE * 1.15) if self.rich else None
        if image is None:
            return Paragraph(f'<font face="{MONO}">{esc(" ".join(tex.split()))}</font>', style)
        scale = min(1.0, (self.styles.width - indent - 6) / image.width)
        picture = Image(image.path, width=image.width * scale, height=image.height * scale)
        picture.hAlign = "CENTER"
        return KeepTogether([Spacer(1, style.spaceBefore), picture, Spacer(1, style.spaceAfter)])

    # -- tables ------------------------------------------------------------------------
    def _table(self, node, indent: float) -> list[Flowable]:
        styles = self.styles
        rows: list[list] = []
        header_rows = 0
        for section in node.children:
            for row in section.children:
                rows.append([cell.children[0] if cell.children else None for cell in row.children])
                if section.type == "thead":
                    header_rows += 1
        if not rows:
            return []
        notes = []
        columns = max(len(row) for row in rows)
        if columns > MAX_TABLE_COLUMNS:
            notes.append(f"{columns - MAX_TABLE_COLUMNS} more columns not shown")
            columns = MAX_TABLE_COLUMNS
        if len(rows) > MAX_TABLE_ROWS + header_rows:
            notes.append(f"{len(rows) - MAX_TABLE_ROWS - header_rows:,} more rows not shown")
            rows = rows[: MAX_TABLE_ROWS + header_rows]
        width = styles.width - indent
        lengths = [4] * columns
        for row in rows:
            for index, cell in enumerate(row[:columns]):
                lengths[index] = max(lengths[index], min(len(node_text(cell)) if cell else 0, 40))
        total = sum(lengths)
        widths = [width * length / total for length in lengths]
        data = []
        for number, row in enumerate(rows):
            style = styles.cell_head if number < header_rows else styles.cell
            cells = []
            for index in range(columns):
                cell = row[index] if index < len(row) else None
                cells.append(self._cell(cell, style, widths[index]))
            data.append(cells)
        table = Table(data, colWidths=widths, repeatRows=min(header_rows, 1), hAlign="LEFT")
        commands = [
            ("GRID", (0, 0), (-1, -1), 0.4, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        if header_rows:
            commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), SHADE))
        table.setStyle(table_style(commands))
        out: list[Flowable] = [Spacer(1, 2), _Indent(table, indent) if indent else table, Spacer(1, 6)]
        if notes:
            out.insert(-1, Paragraph(esc("(" + "; ".join(notes) + ".)"), styles.indented(styles.note, indent)))
        return out

    def _cell(self, inline, style, width: float) -> Flowable:
        if inline is None:
            return Paragraph("", style)
        # Bound the text so one row can never be taller than a page (~30 lines per cell).
        per_line = max(4, int((width - 6) / (style.fontSize * 0.55)))
        limit = per_line * 30
        text = node_text(inline)
        if len(text) > limit:
            return Paragraph(esc(shorten(text, limit)), style)
        return _paragraphs(self._inline(inline, size=style.fontSize, max_width=width - 6), style, text, self.images)[0]

    # -- inline ------------------------------------------------------------------------
    def _inline(self, node, *, size: float = BODY_SIZE, max_width: float | None = None) -> str:
        parts: list[str] = []
        limit = max_width or self.styles.width - 12
        for child in node.children or []:
            parts.append(self._inline_node(child, size, limit))
        return "".join(parts)

    def _inline_node(self, node, size: float, limit: float) -> str:
        kind = node.type
        if kind == "text":
            return esc(node.content, breaks=False)
        if kind == "softbreak":
            return " "
        if kind == "hardbreak":
            return "<br/>"
        if kind in ("strong", "em", "s"):
            tag = {"strong": "b", "em": "i", "s": "strike"}[kind]
            inner = "".join(self._inline_node(child, size, limit) for child in node.children)
            return f"<{tag}>{inner}</{tag}>"
        if kind == "code_inline":
            return f'<font face="{MONO}" color="#7A2E0E">{esc(node.content, breaks=False)}</font>'
        if kind in ("math_inline", "math_inline_double"):
            image = self.math.image(node.content, size) if self.rich else None
            if image is None:
                return f'<font face="{MONO}">{esc(node.content, breaks=False)}</font>'
            return self._img(image, limit)
        if kind == "link":
            inner = "".join(self._inline_node(child, size, limit) for child in node.children)
            href = str(node.attrs.get("href", ""))
            if href.lower().startswith(_SAFE_SCHEMES):
                return f'<a href="{esc(href, breaks=False)}" color="#1F4E79"><u>{inner}</u></a>'
            return inner
        if kind == "image":  # never fetched: only its description is printed
            alt = node_text(node) or str(node.attrs.get("alt", "") or "")
            return esc(f"[image: {alt}]" if alt else "[image]", breaks=False)
        return esc(node_text(node), breaks=False)

    @staticmethod
    def _img(image, limit: float) -> str:
        scale = min(1.0, limit / image.width) if image.width > 0 else 1.0
        return (f'<img src="{esc(image.path, breaks=False)}" width="{image.width * scale:.2f}" '
                f'height="{image.height * scale:.2f}" valign="{-image.depth * scale:.2f}"/>')


class _Indent(Flowable):
    """Draws a flowable shifted right by `indent` (tables have no leftIndent of their own)."""

    def __init__(self, inner: Flowable, indent: float) -> None:
        super().__init__()
        self.inner = inner
        self.indent = indent

    def wrap(self, available_width, available_height):
        width, height = self.inner.wrap(available_width - self.indent, available_height)
        self.width, self.height = width + self.indent, height
        return self.width, self.height

    def split(self, available_width, available_height):
        return [_Indent(part, self.indent) for part in self.inner.split(available_width - self.indent,
                                                                        available_height)]

    def draw(self):
        self.inner.drawOn(self.canv, self.indent, 0)


def _paragraph_nodes(node):
    for child in node.children:
        if child.type == "paragraph":
            yield child
        elif child.children:
            yield from _paragraph_nodes(child)


def node_text(node) -> str:
    """The plain text under a syntax-tree node (for fallbacks and length checks)."""
    if node is None:
        return ""
    if node.type in ("text", "code_inline", "math_inline", "math_inline_double", "code_block", "fence",
                     "math_block"):
        return node.content or ""
    if node.type in ("softbreak", "hardbreak"):
        return " "
    if node.children:
        return "".join(node_text(child) for child in node.children)
    return node.content or ""


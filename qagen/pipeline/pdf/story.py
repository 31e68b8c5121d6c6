"""What the PDF says: cover, paper overview, contents, then every question with its answer.

What the parse found (its confidence and warnings, the papers of a file holding several, the
answer key a paper prints) is laid out by `qagen.pipeline.pdf.findings`.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Spacer,
    Table,
)

from qagen.model import Answer, Option, Paper, Part, Question
from qagen.pipeline.diagrams import figure_key, short_section
from qagen.pipeline.pdf.contents import Contents, Entry, QuestionHeading, fit
from qagen.pipeline.pdf import findings
from qagen.pipeline.pdf.fonts import SANS, SANS_BOLD
from qagen.pipeline.pdf.images import image_flowable
from qagen.pipeline.pdf.layout import Outline, OutlinedParagraph, Paragraph, paragraphs
from qagen.pipeline.pdf.markdown import AnswerWriter
from qagen.pipeline.pdf.math import MathRenderer
from qagen.pipeline.pdf.styles import ACCENT, RULE, SHADE, Styles, table_style
from qagen.pipeline.pdf.text import clean, esc, first_words, fmt, items, marks_label, number, shorten

MAX_CHART_WIDTH = 150 * mm
MAX_CHART_HEIGHT = 95 * mm
MAX_CITATION_CHARS = 400
MAX_OVERVIEW_ROWS = 400
KEEP_ROWS = 3  # rows a table keeps together at its start and at its end


@dataclass
class Content:
    """Everything the story needs besides the paper."""

    model: str
    subject: str | None
    date: dt.date
    figures: dict = field(default_factory=dict)
    overview_key: str = "overview"


def _label(label: str) -> str:
    text = shorten(label, 12)
    return text if text.startswith("(") else f"({text.strip(').')})"


def _total_marks(paper: Paper) -> float | None:
    groups = findings.paper_groups(paper)
    if groups:  # several papers: the printed total is the first one's
        if all(group.total_marks is not None for group in groups):
            return sum(group.total_marks for group in groups)
    elif number(paper.total_marks) is not None:
        return number(paper.total_marks)
    known = [number(q.marks) for q in items(paper.questions) if number(q.marks) is not None]
    return sum(known) if known else None


class StoryBuilder:
    def __init__(self, paper: Paper, content: Content, styles: Styles, *, rich: bool = True) -> None:
        self.paper = paper
        self.content = content
        self.styles = styles
        self.rich = rich
        self.math = MathRenderer()
        self.writer = AnswerWriter(styles, self.math, rich=rich)
        self.figure_number = 0
        self.keys = 0
        self.charts = 0
        self.toc: Contents | None = None
        self.toc_entries: list[Entry] = []
        self.groups = findings.paper_groups(paper)

    def _key(self, prefix: str) -> str:
        self.keys += 1
        return f"{prefix}{self.keys}"

    # -- the whole story ---------------------------------------------------------------
    def build(self) -> list[Flowable]:
        story: list[Flowable] = []
        story += self.cover()
        story += self.overview()
        story += [NextPageTemplate("body"), PageBreak()]
        story += self.contents()
        story += [PageBreak()]
        story += self.questions()
        if self.toc is not None:
            # Seed the contents with its entries (pages unknown yet): the first pass then lays
            # out a contents of the final length, so the page numbers it records are final and
            # two passes suffice even when the contents runs to several pages.
            self.toc.seed(self.toc_entries)
        return story

    def _outline(self, level: int, title: str, prefix: str, toc: tuple[str, str] | None) -> Outline:
        outline = Outline(level, title, self._key(prefix))
        if toc is not None:
            outline.toc = Entry(level, toc[0], toc[1], outline.key)
            self.toc_entries.append(outline.toc)
        return outline

    # -- cover ---------------------------------------------------------------------------
    def cover(self) -> list[Flowable]:
        styles, paper, content = self.styles, self.paper, self.content
        title = shorten(paper.title, 300) or "Question paper"
        out: list[Flowable] = [
            Spacer(1, 14 * mm),
            OutlinedParagraph("WORKED ANSWERS", styles.cover_kicker, Outline(0, "Cover and overview", "cover")),
            Paragraph(esc(title), styles.cover_title),
        ]
        if content.subject:
            out.append(Paragraph(esc(shorten(content.subject, 200)), styles.cover_subject))
        questions = items(paper.questions)
        with_parts = sum(1 for q in questions if items(q.parts))
        with_alternatives = sum(1 for q in questions if items(q.alternatives))
        detail = [f"{with_parts} with parts"] if with_parts else []
        if with_alternatives:
            detail.append(f"{with_alternatives} with a choice")
        total = _total_marks(paper)
        facts = [("Questions", f"{len(questions)}" + (f" ({', '.join(detail)})" if detail else ""))]
        facts.append(("Total marks", f"{total:g}" if total is not None else "not printed on the paper"))
        if self.groups:
            facts.append(findings.papers_fact(self.groups))
        if items(paper.sections):
            facts.append(("Sections", shorten(", ".join(clean(s.name) for s in items(paper.sections)), 120)))
        if content.subject:
            facts.append(("Subject", shorten(content.subject, 120)))
        facts.append(("Date", f"{content.date.day} {content.date:%B %Y}"))
        facts.append(("Answered by", shorten(content.model, 120)))
        facts.append(findings.confidence_fact(paper))
        answered = findings.answers_fact(paper)
        if answered is not None:
            facts.append(answered)
        rows = [[Paragraph(esc(k), styles.meta_label), Paragraph(esc(v), styles.meta_value)] for k, v in facts]
        table = Table(rows, colWidths=[32 * mm, styles.width - 32 * mm], hAlign="LEFT")
        table.setStyle(table_style([
            ("LINEABOVE", (0, 0), (-1, 0), 0.8, ACCENT),
            ("LINEBELOW", (0, -1), (-1, -1), 0.8, ACCENT),
            ("LINEBELOW", (0, 0), (-1, -2), 0.3, RULE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ]))
        out += [Spacer(1, 4 * mm), table]
        out += findings.check_box(paper, styles)
        if clean(paper.instructions).strip():
            out += [Spacer(1, 5 * mm), Paragraph("Instructions printed on the paper", styles.meta_label),
                    Paragraph(esc(shorten(paper.instructions, 1500)), styles.body)]
        return out

    # -- overview ------------------------------------------------------------------------
    def overview(self) -> list[Flowable]:
        styles, paper = self.styles, self.paper
        out: list[Flowable] = [Spacer(1, 6 * mm), Paragraph("Paper overview", styles.h1)]
        figure = self.content.figures.get(self.content.overview_key)
        if figure is not None and self.rich:
            out += self.figure(figure, 0, numbered=False, captioned=False, max_height=75 * mm)
        questions = items(paper.questions)
        if any(number(s.marks) is not None for s in items(paper.sections)):
            rows = [["Section", "Questions", "Marks"]]
            for section in items(paper.sections):
                count = sum(1 for q in questions if q.section == section.name)
                rows.append([shorten(section.name, 60), str(count) if count else "–", fmt(section.marks) or "–"])
            out += [self._grid(rows, [0.6, 0.2, 0.2]), Spacer(1, 4 * mm)]
        has_marks = any(number(q.marks) is not None for q in questions)
        has_sections = any(q.section for q in questions)
        owners = findings.paper_of_question(self.groups, len(questions)) if self.groups else []
        header = (["Paper"] if owners else []) + ["Q"] + (["Section"] if has_sections else []) + ["Parts"] + (
            ["Marks"] if has_marks else []) + ["Begins"]
        rows = [header]
        for index, question in enumerate(questions[:MAX_OVERVIEW_ROWS]):
            row = ([str(owners[index] or "–")] if owners else []) + [shorten(question.number, 10)]
            if has_sections:
                row.append(shorten(short_section(question.section) if question.section else "–", 24))
            row.append(str(len(items(question.parts))) if items(question.parts) else "–")
            if has_marks:
                row.append(fmt(question.marks) or "–")
            row.append(first_words(question.text, 12, 80) or "–")
            rows.append(row)
        if has_marks:
            total = _total_marks(paper)
            rows.append(["Total"] + ([""] if owners else []) + ([""] if has_sections else []) + [""] + [fmt(total)]
                        + [""])
        if not questions:
            out.append(Paragraph("No questions were found in this paper.", styles.note))
            return out
        weights = ([0.08] if owners else []) + [0.08] + ([0.13] if has_sections else []) + [0.08] + (
            [0.09] if has_marks else []) + [0.0]
        weights[-1] = 1 - sum(weights)
        out.append(self._grid(rows, weights, total_row=has_marks))
        if len(questions) > MAX_OVERVIEW_ROWS:
            out.append(Paragraph(esc(f"({len(questions) - MAX_OVERVIEW_ROWS} more questions not listed.)"),
                                 styles.note))
        return out

    def _grid(self, rows: list[list[str]], weights: list[float], *, total_row: bool = False) -> Table:
        """A compact table of one-line cells (plain strings, cut to fit: far cheaper than paragraphs)."""
        styles = self.styles
        widths = [styles.width * w for w in weights]
        data = []
        for r, row in enumerate(rows):
            bold = r == 0 or (total_row and r == len(rows) - 1)
            font = SANS_BOLD if bold else SANS
            data.append([fit(clean(cell).replace("\n", " "), font, 8.5, width - 6) for cell, width in zip(row, widths)])
        table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        commands = [
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("FONTNAME", (0, 0), (-1, 0), SANS_BOLD),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
        if total_row:
            commands += [("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT), ("FONTNAME", (0, -1), (-1, -1), SANS_BOLD)]
        # A page break never leaves the header with no rows under it, nor the last rows (a total
        # among them) alone on the next page: the first and the last KEEP_ROWS rows stay together.
        # The header row repeats on every page the table runs onto (repeatRows).
        last = len(data) - 1
        commands += [("NOSPLIT", (0, 0), (-1, min(KEEP_ROWS, last))),
                     ("NOSPLIT", (0, max(1, last - KEEP_ROWS + 1)), (-1, last))]
        table.setStyle(table_style(commands))
        return table

    # -- contents --------------------------------------------------------------------------
    def contents(self) -> list[Flowable]:
        heading = OutlinedParagraph("Contents", self.styles.h1, Outline(0, "Contents", "contents"))
        self.toc = Contents()
        return [heading, self.toc]

    # -- questions -----------------------------------------------------------------------
    def questions(self) -> list[Flowable]:
        out: list[Flowable] = []
        sections = {s.name: s for s in items(self.paper.sections)}
        starts = {group.first: group for group in self.groups}
        current: str | None = None
        base = 0  # outline level of a section heading: 1 under a paper's heading
        for index, question in enumerate(items(self.paper.questions)):
            if index in starts:
                out += self.paper_heading(starts[index], new_page=bool(out))
                current, base = None, 1
            level = base
            if question.section:
                level = base + 1
                if question.section != current:
                    current = question.section
                    out += self.section_heading(sections.get(current), current, base)
            out += self.question(question, level, f"Question {shorten(question.number, 20)}")
            for index, alternative in enumerate(items(question.alternatives), start=1):
                out.append(Paragraph("— OR —", self.styles.caption))
                out += self.question(alternative, level + 1,
                                     f"Question {shorten(question.number, 20)}, alternative {index}", toc=False)
        return out

    def paper_heading(self, group: findings.PaperGroup, *, new_page: bool) -> list[Flowable]:
        """A paper's title over its questions, when the file holds several; each paper starts a page."""
        title = shorten(findings.paper_title(group), 160)
        count = f"{group.count} question{'s' if group.count != 1 else ''}"
        detail = count + (f", {marks_label(group.total_marks)}" if marks_label(group.total_marks) else "")
        outline = self._outline(0, title, "p", (title, detail))
        return ([PageBreak()] if new_page else []) + [OutlinedParagraph(esc(title), self.styles.paper, outline),
                                                      Paragraph(esc(detail), self.styles.caption_left)]

    def section_heading(self, section, name: str, level: int = 0) -> list[Flowable]:
        styles = self.styles
        title = shorten(name, 120)
        marks = f" ({marks_label(section.marks)})" if section is not None and marks_label(section.marks) else ""
        outline = self._outline(level, title + marks, "s", (title + marks, ""))
        out: list[Flowable] = [CondPageBreak(40 * mm), OutlinedParagraph(esc(title) + esc(marks), styles.section,
                                                                          outline)]
        if section is not None and clean(section.instructions).strip():
            out.append(Paragraph(esc(shorten(section.instructions, 2000)), styles.note))
        return out

    def question(self, question: Question, level: int, heading: str, *, toc: bool = True) -> list[Flowable]:
        styles = self.styles
        marks = marks_label(question.marks)
        text = clean(question.text)
        outline_title = shorten(f"{heading}: {first_words(text, 8, 60)}", 90) if text.strip() else heading
        outline = self._outline(level, outline_title, "q", (heading, first_words(text, 9, 60)) if toc else None)
        head = QuestionHeading(heading, marks, outline)
        first: list[Flowable] = [Spacer(1, 5 * mm), head]
        if text.strip():
            first += paragraphs(esc(text), styles.stem)
        # Keep the heading with the start of a short stem; a long stem just follows its heading.
        out: list[Flowable] = [CondPageBreak(30 * mm)] + ([KeepTogether(first)] if len(text) < 1500 else first)
        out += self.options(question.options, 0)
        for part in items(question.parts):
            out += self.part(part, 1)
        out += self.answer(question, question.answer, 0, leaf=not items(question.parts))
        out += findings.answer_key(question, 0, styles)
        return out

    def options(self, options: list[Option], indent: float) -> list[Flowable]:
        style = self.styles.indented(self.styles.option, indent)
        return [p for option in items(options)
                for p in paragraphs(esc(option.text), style, bulletText=esc(_label(option.label)))]

    def part(self, part: Part, depth: int) -> list[Flowable]:
        styles = self.styles
        style = styles.part(depth)
        marks = marks_label(part.marks)
        markup = esc(part.text) + (f' <font color="#5F6B76" size="9">[{esc(marks)}]</font>' if marks else "")
        out: list[Flowable] = paragraphs(markup, style, bulletText=esc(_label(part.label)))
        out += self.options(part.options, style.leftIndent)
        for child in items(part.parts):
            out += self.part(child, depth + 1)
        out += self.answer(part, part.answer, style.leftIndent, leaf=not items(part.parts))
        return out

    # -- answers -------------------------------------------------------------------------
    def answer(self, item, answer: Answer | None, indent: float, *, leaf: bool) -> list[Flowable]:
        styles = self.styles
        if answer is None:
            return [Paragraph("No answer was produced for this item.", styles.indented(styles.note, indent))] if leaf \
                else []
        out: list[Flowable] = [Paragraph("ANSWER", styles.indented(styles.answer_label, indent))]
        out += self.writer.flowables(answer.text, indent)
        figure = self.content.figures.get(figure_key(item))
        if figure is not None:
            if self.rich:
                out += self.figure(figure, indent)
            else:
                out.append(Paragraph("The diagram for this answer was left out.", styles.indented(styles.note, indent)))
        if items(answer.citations):
            out.append(Paragraph("Sources", styles.indented(styles.sources_label, indent)))
            source_style = styles.indented(styles.source, indent)
            for index, citation in enumerate(items(answer.citations), start=1):
                page = f", p. {shorten(citation.page, 20)}" if citation.page not in (None, "") else ""
                excerpt = shorten(citation.excerpt, MAX_CITATION_CHARS)
                text = esc(shorten(citation.document, 200) or "source") + esc(page) + (
                    f": “{esc(excerpt)}”" if excerpt else "")
                out.append(Paragraph(text, source_style, bulletText=f"[{index}]"))
        for note in items(answer.notes):
            out.append(Paragraph("Note: " + esc(shorten(note, 1000)), styles.indented(styles.note, indent)))
        return out

    def figure(self, figure, indent: float, *, numbered: bool = True, captioned: bool = True,
               max_height: float = MAX_CHART_HEIGHT):
        styles = self.styles
        try:
            from PIL import Image as PILImage

            with PILImage.open(io.BytesIO(figure.png)) as probe:
                pixel_width, pixel_height = probe.size
            if pixel_width < 1 or pixel_height < 1:
                raise ValueError("empty image")
        except Exception:
            return [Paragraph("Note: the diagram could not be included.", styles.indented(styles.note, indent))]
        width = min(MAX_CHART_WIDTH, styles.width - indent)
        height = width * pixel_height / pixel_width
        if height > max_height:
            width, height = width * max_height / height, max_height
        image = image_flowable(figure.png, width, height)
        self.charts += 1
        caption = shorten(figure.caption, 200)
        if numbered:
            self.figure_number += 1
            caption = f"Figure {self.figure_number}. {caption}" if caption else f"Figure {self.figure_number}"
        parts: list[Flowable] = [Spacer(1, 2 * mm), _Shift(image, indent / 2)]
        if captioned:
            parts.append(Paragraph(esc(caption), styles.indented(styles.caption, indent)))
        else:
            parts.append(Spacer(1, 3 * mm))
        return [KeepTogether(parts)]


class _Shift(Flowable):
    """Centres a flowable in the part of the frame right of `indent`."""

    def __init__(self, inner: Flowable, shift: float) -> None:
        super().__init__()
        self.inner, self.shift = inner, shift
        self.hAlign = "CENTER"

    def wrap(self, available_width, available_height):
        width, height = self.inner.wrap(available_width, available_height)
        self.width, self.height = width + 2 * self.shift, height
        return self.width, self.height

    def draw(self):
        self.inner.drawOn(self.canv, 2 * self.shift, 0)


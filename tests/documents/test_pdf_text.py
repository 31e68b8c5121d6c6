"""Text as printed: a PDF's words come out as pdftotext reads them, whatever the glyph gaps,
and text turned away from the page's lines (side margins, watermarks) stays out of them."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from qagen.documents import read_document


def pdf(draw) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    draw(page)
    page.showPage()
    page.save()
    return buffer.getvalue()


def lines_of(data: bytes) -> list[str]:
    return [line.text for line in read_document(data, max_pages=5).pages[0]]


def test_a_space_the_pdf_writes_separates_words_even_when_the_glyphs_almost_touch():
    def draw(page):
        text = page.beginText(60, 760)
        text.setFont("Helvetica", 11)
        text.setWordSpace(-2.6)  # the space glyph's advance all but cancelled: no visible gap
        text.textLine("a square matrix of size n and any of the following")
        page.drawText(text)

    assert lines_of(pdf(draw)) == ["a square matrix of size n and any of the following"]


def test_letters_set_close_without_a_space_stay_one_word():
    def draw(page):
        text = page.beginText(60, 760)
        text.setFont("Helvetica", 11)
        text.setCharSpace(0.5)  # letter-spaced, but no space characters
        text.textLine("Matrix")
        page.drawText(text)

    assert lines_of(pdf(draw)) == ["Matrix"]


def test_text_turned_along_the_margin_is_not_read_into_the_questions():
    def draw(page):
        page.setFont("Helvetica", 11)
        for k, line in enumerate(["1. Define a queue. [2]", "2. Define a stack. [2]", "3. What is a heap? [3]"]):
            page.drawString(60, 760 - 40 * k, line)
        page.saveState()
        page.translate(30, 400)
        page.rotate(90)
        page.drawString(0, 0, "DO NOT WRITE IN THIS AREA")
        page.restoreState()

    assert lines_of(pdf(draw)) == ["1. Define a queue. [2]", "2. Define a stack. [2]", "3. What is a heap? [3]"]


def test_slanted_text_is_kept():
    def draw(page):
        page.setFont("Helvetica", 11)
        page.drawString(60, 760, "1. Solve for x:")
        page.saveState()
        page.translate(150, 760)
        page.skew(0, 15)  # a slanted (oblique) variable, as maths italics lean
        page.drawString(0, 0, "x + 2 = 5")
        page.restoreState()

    assert "x + 2 = 5" in " ".join(lines_of(pdf(draw)))


def test_a_font_that_prints_mostly_accented_latin_letters_is_a_legacy_indic_encoding():
    from qagen.documents.pdfchars import Char, legacy_fonts

    def chars(text: str, font: int) -> list[Char]:
        return [Char(ch, 0, 1, 0, 1, False, font=font) for ch in text]

    hindi_in_a_legacy_font = chars("ëö ïöö ãêö ûúêö ÿöêö ²öñö " * 3, font=1)
    french = chars("Démontrer que la fonction dérivée est définie et continue sur l'intervalle " * 2, font=2)
    german = chars("Bestimmen Sie die Bewegungsgleichungen für den Massenpunkt über die Lösung", font=3)

    assert legacy_fonts(hindi_in_a_legacy_font + french + german) == {1}
    assert legacy_fonts(chars("ëöï", font=4)) == set()  # too few letters to judge a font


def test_a_hyphen_that_ends_a_line_is_kept_so_the_word_can_be_joined():
    def draw(page):
        text = page.beginText(60, 760)
        text.setFont("Helvetica", 11)
        text.textLine("independent random variables with prob-")
        text.textLine("ability density function f(x)")
        page.drawText(text)

    assert lines_of(pdf(draw))[0].endswith("with prob-")


def test_a_hyphenated_word_reads_whole_in_the_parsed_question():
    from qagen.parsing import parse_document

    def draw(page):
        text = page.beginText(60, 760)
        text.setFont("Helvetica", 11)
        text.textLine("1. Let X be a random variable with prob-")
        text.textLine("ability density function f(x) = 2x on [0, 1].")
        text.textLine("2. Find the mean of X.")
        page.drawText(text)

    paper = parse_document(pdf(draw), "hyphen.pdf")
    assert "with probability density" in paper.questions[0].text

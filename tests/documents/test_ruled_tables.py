"""A scanned paper set as a ruled table (Q. No | question | marks) keeps its question numbers:
the number column is found from its rules and read on its own (qagen/documents/ruled.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from qagen.documents import ocr, ruled

from tests.parsing.helpers import image_pdf, numbers

pytestmark = pytest.mark.skipif(not ocr.available(), reason="tesseract OCR is not installed")

ROWS = [("1", "Define a control system and give two examples.", "2"),
        ("2", "Explain the difference between open and closed loop systems.", "4"),
        ("3", "State the Routh-Hurwitz stability criterion.", "3")]


def _table_scan(rows: list[tuple[str, str, str]], *, ruled_table: bool = True, faint_numbers: bool = False) -> bytes:
    """A 200-dpi A4 'scan' of a ruled table: number column, question column, marks column."""
    import reportlab
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"), 30)
    image = Image.new("L", (1653, 2339), 250)
    draw = ImageDraw.Draw(image)
    left, number_right, marks_left, right = 150, 200, 1450, 1550
    top, row_height = 400, 260
    bottom = top + row_height * len(rows)
    if ruled_table:
        for x in (left, number_right, marks_left, right):
            draw.line([(x, top), (x, bottom)], fill=30, width=3)
        for k in range(len(rows) + 1):
            y = top + k * row_height
            draw.line([(left, y), (right, y)], fill=30, width=3)
    for k, (number, text, marks) in enumerate(rows):
        y = top + k * row_height + 25
        draw.text((left + 14, y), number, font=font, fill=150 if faint_numbers else 0)
        draw.text((number_right + 20, y), text, font=font, fill=0)
        draw.text((marks_left + 30, y), marks, font=font, fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _gray(png: bytes):  # type: ignore[no-untyped-def]
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def test_the_number_column_lies_between_the_two_leftmost_rules():
    box = ruled.number_column(_gray(_table_scan(ROWS)))

    assert box is not None
    x0, y0, x1, y1 = box
    assert 150 < x0 < x1 < 200
    assert y0 <= 405 and y1 >= 395 + 3 * 260


def test_a_page_without_a_ruled_table_has_no_number_column():
    assert ruled.number_column(_gray(_table_scan(ROWS, ruled_table=False))) is None


def test_each_number_is_read_level_with_its_row():
    found = ruled.read_numbers(_table_scan(ROWS, faint_numbers=True), 30, ocr.tesseract_path())

    assert [value for value, _ in found] == [1, 2, 3]
    assert [round(y * 2339) // 260 for _, y in found] == [1, 2, 3]  # one per row, top to bottom


def test_a_scanned_table_parses_into_its_numbered_questions():
    from qagen.parsing import parse_document

    paper = parse_document(image_pdf(_table_scan(ROWS, faint_numbers=True)), "table.pdf")

    assert numbers(paper) == ["1", "2", "3"]
    assert paper.questions[1].text.startswith("Explain the difference")

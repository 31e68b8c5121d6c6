"""Scans: images and image-only PDF pages are read with Tesseract OCR (skipped when the
`tesseract` program is not installed)."""

from __future__ import annotations

import pytest

from qagen.documents import ocr
from qagen.parsing import parse_document
from tests.parsing.helpers import image_pdf, text_image

pytestmark = pytest.mark.skipif(not ocr.available(), reason="tesseract OCR is not installed")

SCAN = [
    "Physics Class Test                    Max. Marks: 10",
    "1. Define electric potential.                      2",
    "2. State Coulomb's law in vector form.             3",
    "3. Derive the capacitance of a parallel plate",
    "   capacitor.                                      5",
]


def test_png_photo_of_a_paper() -> None:
    paper = parse_document(text_image(SCAN), "photo.png")
    assert [q.number for q in paper.questions] == ["1", "2", "3"]
    assert paper.questions[0].text.startswith("Define electric potential")
    assert paper.total_marks == 10


def test_image_only_pdf_page_is_ocred_automatically() -> None:
    paper = parse_document(image_pdf(text_image(SCAN)), "scan.pdf")
    assert [q.number for q in paper.questions] == ["1", "2", "3"]
    assert "Coulomb" in paper.questions[1].text


def test_a_damaged_image_is_a_clear_error() -> None:
    from qagen.documents.errors import CorruptFile

    with pytest.raises(CorruptFile, match="image could not be decoded"):
        parse_document(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken.png")


def test_ocr_time_per_page_is_bounded() -> None:
    # A zero timeout makes the page fail fast instead of hanging; the reader reports it.
    png = ocr.image_to_png(text_image(SCAN))
    assert ocr.ocr_png(png, 0, "eng", timeout=0.001) == []

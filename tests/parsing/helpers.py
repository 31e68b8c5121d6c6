"""Builders for small test documents: text snippets, PDFs (reportlab), images, DOCX."""

from __future__ import annotations

import io
import os
import textwrap
from pathlib import Path

from qagen.model import Paper
from qagen.parsing import parse_document

REPO = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    return Path(os.environ.get("QAGEN_CORPUS_DIR") or REPO.parent / "shared" / "corpus")


def parse_text(snippet: str) -> Paper:
    """Parse a dedented plain-text snippet."""
    return parse_document(textwrap.dedent(snippet).strip("\n").encode("utf-8"), "snippet.txt")


def numbers(paper: Paper) -> list[str]:
    return [q.number for q in paper.questions]


def make_pdf(pages: list[list], *, encrypt=None, fontsize: float = 11) -> bytes:  # type: ignore[no-untyped-def]
    """A PDF whose pages hold the given items, one per line from the top:

    "text"                    at the left margin
    ("right", text, marks)    text at the left, marks in a right-hand column
    ("cols", left, right)     a two-column line (left column, right column)
    ("at", x, text)           text at x points from the left
    ("gap",)                  an empty line
    ("footer", left, right)   a footer line at the bottom of the page (not a line)
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt)
    width, height = A4
    for items in pages:
        pdf.setFont("Helvetica", fontsize)
        y = height - 60
        for item in items:
            if isinstance(item, str):
                pdf.drawString(60, y, item)
            elif item[0] == "right":
                pdf.drawString(60, y, item[1])
                pdf.drawRightString(width - 50, y, item[2])
            elif item[0] == "cols":
                pdf.drawString(50, y, item[1])
                pdf.drawString(width / 2 + 10, y, item[2])
            elif item[0] == "at":
                pdf.drawString(item[1], y, item[2])
            elif item[0] == "footer":
                pdf.drawString(60, 30, item[1])
                pdf.drawRightString(width - 50, 30, item[2])
                continue
            y -= fontsize * 1.6
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def text_image(lines: list[str], *, width: int = 1700, size: int = 34) -> bytes:
    """A clean PNG 'scan' of the lines, drawn with the Vera font reportlab ships."""
    import reportlab
    from PIL import Image, ImageDraw, ImageFont

    font_path = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    font = ImageFont.truetype(str(font_path), size)
    image = Image.new("L", (width, 140 + len(lines) * int(size * 1.7)), 255)
    draw = ImageDraw.Draw(image)
    y = 80
    for line in lines:
        draw.text((120, y), line, font=font, fill=0)
        y += int(size * 1.7)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def image_pdf(png: bytes) -> bytes:
    """A one-page PDF holding only the image (a scan without a text layer)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    reader = ImageReader(io.BytesIO(png))
    w, h = reader.getSize()
    height = A4[0] * h / w
    pdf.drawImage(reader, 0, A4[1] - height, width=A4[0], height=height)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()

"""Writing the evaluation's generated notes files so that every run gives the same bytes.

Shared by make_notes.py and make_notes_dev2.py (run as scripts from this folder):
- `write_pages_pdf`: one page per (heading, paragraphs), reportlab with invariant=1;
- `write_docx`: paragraphs with Word styles, fixed core properties and zip entry times
  (python-docx stamps each zip entry with the current time).
"""

from __future__ import annotations

import datetime
import io
import textwrap
import zipfile
from pathlib import Path

STYLES = {"h1": "Heading 1", "h2": "Heading 2", "p": None, "number": "List Number", "bullet": "List Bullet"}


def write_pages_pdf(path: Path, pages: list[tuple[str, list[str]]], *, title: str, author: str, wrap: int,
                    keep_hyphenated_words: bool = False) -> None:
    """A4 pages, each a bold heading and wrapped paragraphs, numbered "Page n of N" at the foot."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    options = {"break_on_hyphens": False, "break_long_words": False} if keep_hyphenated_words else {}
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle(title)
    c.setAuthor(author)
    width, height = A4
    for number, (heading, paragraphs) in enumerate(pages, start=1):
        c.setFont("Helvetica-Bold", 15)
        c.drawString(56, height - 70, heading)
        y = height - 105
        c.setFont("Helvetica", 11)
        for paragraph in paragraphs:
            for line in textwrap.wrap(paragraph, wrap, **options):
                c.drawString(56, y, line)
                y -= 15
            y -= 9
        c.setFont("Helvetica", 9)
        c.drawString(width / 2 - 20, 40, f"Page {number} of {len(pages)}")
        c.showPage()
    c.save()


def write_docx(path: Path, blocks: list[tuple[str, str]], *, title: str, fixed_time: datetime.datetime,
               author: str = "CS department") -> None:
    """(kind, text) paragraphs, kind a key of STYLES, with fixed properties and zip times."""
    import docx

    document = docx.Document()
    for kind, text in blocks:
        document.add_paragraph(text, style=STYLES[kind])
    props = document.core_properties
    props.title = title
    props.author = author
    props.last_modified_by = author
    props.revision = 1
    props.created = fixed_time
    props.modified = fixed_time
    buffer = io.BytesIO()
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=fixed_time.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(item.filename))

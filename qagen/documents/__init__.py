"""The one reader of untrusted files: papers and course notes alike come in through here.

    from qagen.documents import read_document
    document = read_document(data, max_pages=60)     # -> Document: pages of positioned lines

- The reader is chosen from the content (`sniff_kind`: PDF, DOCX, PNG/JPEG image or text),
  never from the file name.
- PDF: pdfium's text layer with positions (`pdf`, `pdfchars`); image-only pages are read by
  Tesseract OCR (`ocr`) within a time budget. DOCX: python-docx after zip-bomb checks, with
  Word's list numbers and heading styles (`docx`). Images: OCR (`image`). Text: decoded and
  bounded (`text`). `layout.clean_pages` then puts a page's lines in reading order: repeated
  headers and footers and page numbers dropped, two columns read one after the other.
- Limits: pages (`max_pages`), characters per text page and per line (below), a DOCX's
  unpacked size, characters per PDF page, OCR pixels and time.
- In a process that called `sandbox.configure` (every worker pool process), callers run the
  reading inside `sandbox.bounded`, a forked child with bounded memory and time, so a
  decompression bomb or a pathological file ends as an `InputError`, never a dead worker.

Errors are `qagen.errors.InputError`s (`qagen.documents.errors`) with messages a person can
act on. `import qagen.documents` is light: the readers load their libraries when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qagen.documents.filetypes import DOCX, IMAGE, PDF, TEXT, sniff_kind

if TYPE_CHECKING:
    from qagen.documents.lines import Document

__all__ = ["DOCX", "IMAGE", "MAX_LINE_CHARS", "PDF", "TEXT", "read_document", "sniff_kind"]

# Bounds no paper or notes file comes near, that keep reading hostile files cheap.
MAX_LINE_CHARS = 20_000  # one line (a paragraph of a text file); later stages' cost grows with it
MAX_TEXT_CHARS_PER_PAGE = 10_000  # a text file may hold max_pages times this many characters


def read_document(data: bytes, *, max_pages: int = 60, ocr_lang: str | None = None) -> Document:
    """The pages of positioned lines of a PDF, DOCX, image or text file (see `qagen.documents.lines`).

    `ocr_lang` overrides the OCR languages (default: English, re-read with English+Hindi
    where English reads poorly). Raises `EmptyFile`, `UnsupportedFileType` (qagen.errors)
    or `EncryptedPDF`, `CorruptFile`, `TooManyPages`, `OCRUnavailable`, `TooComplex`
    (qagen.documents.errors).
    """
    kind = sniff_kind(data)
    if kind == PDF:
        from qagen.documents.pdf import read_pdf

        return read_pdf(data, max_pages, ocr_lang)
    if kind == DOCX:
        from qagen.documents.docx import read_docx

        return read_docx(data, max_pages)
    if kind == IMAGE:
        from qagen.documents.image import read_image

        return read_image(data, ocr_lang)
    from qagen.documents.text import decode, read_text

    check_text_bounds(decode(data), max_pages)
    document = read_text(data)
    if len(document.pages) > max_pages:
        from qagen.documents.errors import TooManyPages

        raise TooManyPages(f"The text has {len(document.pages)} pages (form feeds); the limit is {max_pages}.")
    return document


def check_text_bounds(text: str, max_pages: int) -> None:
    """Refuse text longer than `max_pages` pages of text, or with a line past MAX_LINE_CHARS."""
    from qagen.documents.errors import TooComplex

    limit = max_pages * MAX_TEXT_CHARS_PER_PAGE
    if len(text) > limit:
        raise TooComplex(
            f"The text has {len(text):,} characters, more than {max_pages} pages of text ({limit:,} characters, "
            "the limit). Upload a shorter file, or split it."
        )
    longest = max(map(len, text.splitlines()), default=0)
    if longest > MAX_LINE_CHARS:
        raise TooComplex(
            f"The text has a line of {longest:,} characters; the limit is {MAX_LINE_CHARS:,}. Save the file with "
            "its line breaks, or as a PDF, and upload it again."
        )

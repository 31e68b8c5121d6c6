"""Question-paper parsing: bytes of a PDF, DOCX, image or text file -> `qagen.model.Paper`.

    from qagen.parsing import parse_document
    paper = parse_document(data, "paper.pdf", max_pages=60)

The file is read by `qagen.documents` (the one guarded reader of uploads); this package
finds the questions in what it read. Errors are `qagen.errors.InputError` subclasses whose
messages tell the user what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the readers import heavy libraries; keep `import qagen.parsing` light
    from qagen.documents.lines import Document, Line
    from qagen.model import Paper

__all__ = ["MAX_QUESTIONS", "parse_document", "parse_document_with_text"]

MAX_QUESTIONS = 500  # questions answered in one job; a paper with more is refused


def parse_document(
    data: bytes, filename: str = "", *, max_pages: int = 60, ocr_lang: str | None = None
) -> Paper:
    """Parse a question paper into a `qagen.model.Paper`.

    `filename` is used only in messages; `ocr_lang` overrides the OCR languages (default
    'auto': English, re-read with English+Hindi where English reads poorly). Raises `UnsupportedFileType`, `EmptyFile`,
    `NoQuestionsFound` (qagen.errors), `EncryptedPDF`, `CorruptFile`, `TooManyPages`,
    `OCRUnavailable`, `TooComplex` (qagen.documents.errors) or `TooManyQuestions`
    (qagen.parsing.errors), all `InputError`s.

    In a process that called `qagen.documents.sandbox.configure` (the worker), the reading
    runs in a child process with bounded memory and time.
    """
    from qagen.documents.sandbox import bounded

    return bounded(_parse_document, data, filename, max_pages=max_pages, ocr_lang=ocr_lang)


def parse_document_with_text(
    data: bytes, filename: str = "", *, max_pages: int = 60, ocr_lang: str | None = None
) -> tuple[Paper, str]:
    """`parse_document`, and the text it read: the cleaned pages' lines, each page under a
    "--- page N ---" line. One reading (one OCR pass), in the same bounded child process."""
    from qagen.documents.sandbox import bounded

    return bounded(_parse_document_with_text, data, filename, max_pages=max_pages, ocr_lang=ocr_lang)


def _parse_document(data: bytes, filename: str, *, max_pages: int, ocr_lang: str | None) -> Paper:
    return _read_and_segment(data, filename, max_pages=max_pages, ocr_lang=ocr_lang)[0]


def _parse_document_with_text(data: bytes, filename: str, *, max_pages: int, ocr_lang: str | None) -> tuple[Paper, str]:
    paper, pages = _read_and_segment(data, filename, max_pages=max_pages, ocr_lang=ocr_lang)
    text = "\n".join(f"--- page {page[0].page + 1} ---\n" + "\n".join(line.text for line in page)
                     for page in pages if page)
    return paper, text


def _read_and_segment(
    data: bytes, filename: str, *, max_pages: int, ocr_lang: str | None
) -> tuple[Paper, list[list[Line]]]:
    """The paper found in the file, and the cleaned pages it was found in."""
    from qagen.documents import read_document
    from qagen.errors import NoQuestionsFound
    from qagen.parsing.errors import TooManyQuestions
    from qagen.documents.layout import clean_pages
    from qagen.parsing.segment import segment

    document = read_document(data, max_pages=max_pages, ocr_lang=ocr_lang)
    _check_line_lengths(document)
    pages = clean_pages(document.pages)
    lines = [line for page in pages for line in page]
    paper = segment(lines, document.notes) if lines else None
    if paper is None or not paper.questions:
        raise NoQuestionsFound(_nothing_found(document, filename))
    if len(paper.questions) > MAX_QUESTIONS:
        raise TooManyQuestions(
            f"The paper has more than {MAX_QUESTIONS} questions ({len(paper.questions):,} found); qagen answers at "
            f"most {MAX_QUESTIONS} in one upload. Split it into several papers and upload each."
        )
    return paper, pages


def _check_line_lengths(document: Document) -> None:
    from qagen.documents import MAX_LINE_CHARS
    from qagen.documents.errors import TooComplex

    longest = max((len(line.text) for page in document.pages for line in page), default=0)
    if longest > MAX_LINE_CHARS:
        raise TooComplex(
            f"The document has a line of {longest:,} characters; a question paper's lines are far shorter (the "
            f"limit is {MAX_LINE_CHARS:,}). Re-export it as a plain PDF and upload it again."
        )


def _nothing_found(document: Document, filename: str) -> str:
    name = f"'{filename}'" if filename else "the file"
    words = document.word_count()
    pages = len(document.pages)
    unit = "page" if pages == 1 else "pages"
    if words == 0:
        what = "scanned" if document.ocr_pages else "empty or image-only"
        return (
            f"Read {pages} {unit} of {name} but found no text at all ({what} pages). "
            "If it is a scan, upload a clearer scan or a PDF with selectable text."
        )
    sample = next((ln.text.strip() for ln in document.lines() if len(ln.text.split()) >= 3), "")
    sample = f' It begins: "{sample[:80]}".' if sample else ""
    via = f" ({document.ocr_pages} by OCR)" if document.ocr_pages else ""
    notes = f" Note: {'; '.join(document.notes)}." if document.notes else ""
    return (
        f"Read {pages} {unit} of text{via} ({words:,} words) from {name} but found no "
        "numbered questions; qagen expects questions numbered like '1.', 'Q1', 'Question 1' "
        f"or 'I.' at the start of a line.{sample}{notes}"
    )

"""Read a PDF into lines: pdfium's text layer per page, Tesseract OCR for scanned pages."""

from __future__ import annotations

import ctypes
import io
import re
from collections.abc import Callable, Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from qagen.documents import ocr
from qagen.documents.errors import CorruptFile, EncryptedPDF, OCRUnavailable, TooManyPages
from qagen.documents.lines import Document, Line
from qagen.documents.pdfchars import FontCache, build_lines, page_chars

MIN_TEXT_CHARS = 25  # fewer visible characters than this on an image page: OCR it
_WORD = re.compile(r"[A-Za-z]{2,}")


def read_pdf(data: bytes, max_pages: int, ocr_lang: str | None = None) -> Document:
    pdf = _open(data)
    try:
        count = len(pdf)
        if count == 0:
            raise CorruptFile("The PDF has no pages.")
        if count > max_pages:
            raise TooManyPages(
                f"The PDF has {count} pages; the limit is {max_pages}. Upload only the "
                "pages needed (split the file), or ask for a higher limit."
            )
        fonts = FontCache()
        pages: list[list[Line]] = []
        need_ocr: list[int] = []
        for index in range(count):
            lines, wants_ocr = _read_page(pdf, index, fonts)
            pages.append(lines)
            if wants_ocr:
                need_ocr.append(index)
        document = Document(kind="pdf", pages=pages, page_count=count)
        if need_ocr:
            _ocr_into(document, pdf, need_ocr, ocr_lang)
        return document
    finally:
        pdf.close()


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(io.BytesIO(data))
    except pdfium.PdfiumError as exc:
        code = pdfium_c.FPDF_GetLastError()
        if code == pdfium_c.FPDF_ERR_PASSWORD or "password" in str(exc).lower():
            raise EncryptedPDF(
                "The PDF is password-protected. Remove the password (print or export it "
                "to a new PDF) and upload it again."
            ) from exc
        raise CorruptFile(
            "The PDF could not be opened: the file is damaged or incomplete (was the "
            "upload or download cut short?). Re-export it and upload it again."
        ) from exc


def _read_page(pdf: pdfium.PdfDocument, index: int, fonts: FontCache) -> tuple[list[Line], bool]:
    try:
        page = pdf[index]
    except pdfium.PdfiumError as exc:
        raise CorruptFile(
            f"Page {index + 1} of the PDF is damaged and could not be read. "
            "Re-export the file and upload it again."
        ) from exc
    try:
        width, height = page.get_size()
        if width <= 1 or height <= 1:
            return [], False  # a degenerate page box: nothing to read
        textpage = page.get_textpage()
        try:
            chars, _invisible = page_chars(textpage, height, fonts)
        finally:
            textpage.close()
        lines = build_lines(chars, index, width, height)
        visible = len(chars)
        image_cover = _image_cover(page, width, height)
        if visible < MIN_TEXT_CHARS and image_cover > 0.05:
            return lines, True
        if image_cover > 0.8 and _garbled(lines):
            # A scan with someone else's OCR layer underneath that glues words together.
            return lines, True
        return lines, False
    finally:
        page.close()


def _image_cover(page: pdfium.PdfPage, width: float, height: float) -> float:
    """Largest fraction of the page covered by a single image object."""
    best = 0.0
    area = max(width * height, 1.0)
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    count = pdfium_c.FPDFPage_CountObjects(page.raw)
    for i in range(min(count, 2000)):
        obj = pdfium_c.FPDFPage_GetObject(page.raw, i)
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            continue
        if pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            w = min(right.value, width) - max(left.value, 0.0)
            h = min(top.value, height) - max(bottom.value, 0.0)
            if w > 0 and h > 0:
                best = max(best, w * h / area)
    return best


def _garbled(lines: list[Line]) -> bool:
    """An OCR layer that glues words together ("givenaccess", "densityfunction(PDF)")."""
    words = [w for line in lines for w in _WORD.findall(line.text)]
    if len(words) < 40:
        return False
    long_words = sum(len(w) >= 13 for w in words)
    return long_words / len(words) > 0.04


def _ocr_into(document: Document, pdf: pdfium.PdfDocument, indexes: list[int], lang: str | None) -> None:
    if not ocr.available():
        if all(not document.pages[i] for i in indexes) and len(indexes) == len(document.pages):
            raise OCRUnavailable(
                "This PDF is a scan (its pages are images without text) and OCR is not "
                "installed on this server. Upload a PDF with selectable text instead."
            )
        document.notes.append(f"{len(indexes)} scanned page(s) skipped: OCR not installed")
        return
    results, skipped = ocr.ocr_pages(_renders(pdf, indexes), lang=lang)
    for index, lines in results.items():
        if lines or not document.pages[index]:
            document.pages[index] = lines
    document.ocr_pages = len(results)
    if skipped:
        document.notes.append(f"OCR time budget used up: {len(skipped)} scanned page(s) not read")


def _renders(pdf: pdfium.PdfDocument, indexes: list[int]) -> Iterator[tuple[int, Callable[[], bytes]]]:
    for index in indexes:
        yield index, _renderer(pdf, index)


def _renderer(pdf: pdfium.PdfDocument, index: int) -> Callable[[], bytes]:
    def render() -> bytes:
        page = pdf[index]
        try:
            width, height = page.get_size()
            scale = ocr.DEFAULT_DPI / 72
            pixels = width * height * scale * scale
            if pixels > ocr.MAX_PIXELS:
                scale *= (ocr.MAX_PIXELS / pixels) ** 0.5
            bitmap = page.render(scale=scale, grayscale=True)
            image = bitmap.to_pil()
            out = io.BytesIO()
            image.save(out, format="PNG")
            return out.getvalue()
        finally:
            page.close()

    return render

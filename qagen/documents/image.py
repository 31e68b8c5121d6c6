"""Read a PNG/JPEG photo or scan (of a paper, or of notes) with OCR."""

from __future__ import annotations

from qagen.documents import ocr
from qagen.documents.errors import CorruptFile, OCRUnavailable
from qagen.documents.lines import Document


def read_image(data: bytes, lang: str | None = None) -> Document:
    if not ocr.available():
        raise OCRUnavailable(
            "This file is an image, and OCR is not installed on this server, so its text "
            "cannot be read. Upload a PDF or .docx with selectable text instead."
        )
    from PIL import Image

    try:
        png = ocr.image_to_png(data)
    except Image.DecompressionBombError as exc:
        raise CorruptFile("The image is too large to read (over 350 megapixels); scale it down.") from exc
    except Exception as exc:  # PIL raises many types for damaged images
        raise CorruptFile(
            "The image could not be decoded: the file is damaged or incomplete. "
            "Save it again (PNG or JPEG) and upload the new file."
        ) from exc
    lines = ocr.ocr_pages([(0, lambda: png)], lang=lang)[0].get(0, [])
    return Document(kind="image", pages=[lines], page_count=1, ocr_pages=1)

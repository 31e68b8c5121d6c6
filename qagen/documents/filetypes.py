"""Decide what kind of document a byte string is, by its content (never by its name).

Standard library only: the API imports this module to reject uploads early, so it must
not pull in pdfplumber, pypdfium2 or python-docx.
"""

from __future__ import annotations

import io
import zipfile

PDF = "pdf"
DOCX = "docx"
IMAGE = "image"
TEXT = "text"
KINDS = (PDF, DOCX, IMAGE, TEXT)

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
# Binary signatures of formats we recognise only to give a precise refusal.
_KNOWN_BINARY = {
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"\xd0\xcf\x11\xe0": "a legacy Microsoft Office file (.doc/.xls/.ppt)",
    b"{\\rtf": "an RTF document",
    b"Rar!": "a RAR archive",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"RIFF": "a RIFF (WebP/AVI/WAV) file",
}


def sniff_kind(data: bytes) -> str:
    """Return "pdf", "docx", "image" or "text"; raise UnsupportedFileType/EmptyFile otherwise."""
    from qagen.errors import EmptyFile, UnsupportedFileType

    if not data or not data.strip():
        raise EmptyFile("The file is empty: it has no content to read.")
    head = data[:1024]
    if b"%PDF-" in head:
        return PDF
    if data.startswith(_PNG) or data.startswith(_JPEG):
        return IMAGE
    if data.startswith(b"PK\x03\x04"):
        if _is_docx(data):
            return DOCX
        raise UnsupportedFileType(
            "This is a ZIP-based file but not a Word .docx document (no word/document.xml "
            "inside). Upload a PDF, a .docx, an image or a plain-text file."
        )
    for magic, what in _KNOWN_BINARY.items():
        if data.startswith(magic):
            raise UnsupportedFileType(
                f"This file looks like {what}, which qagen does not read. "
                "Upload a PDF, a .docx, a PNG/JPEG image or a plain-text file."
            )
    if looks_like_text(data):
        return TEXT
    raise UnsupportedFileType(
        "The file's content is not a PDF, a .docx, a PNG/JPEG image or readable text. "
        "If it is a paper or notes in another format, export it to PDF first."
    )


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def looks_like_text(data: bytes) -> bool:
    """True when the bytes decode as text: UTF-8/UTF-16 (with BOM) or mostly printable Latin-1."""
    sample = data[:65536]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample boundary is still text.
        if exc.start >= len(sample) - 4 and len(data) > len(sample):
            return True
    text = sample.decode("latin-1")
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    return printable >= 0.95 * len(text)

"""Hostile inputs, generated on the fly: each is a (name, filename, bytes) a test uploads.

Nothing here is stored in the repository: every file is built from a few lines of code, so
the suite documents exactly what each attack is.
"""

from __future__ import annotations

import io
import zipfile
import zlib


def _pdf(objects: list[bytes], root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF from raw object bodies (numbered from 1), with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, root, trailer_extra, xref))
    return out.getvalue()


def _stream(data: bytes, dictionary: bytes = b"", compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        dictionary += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), dictionary) + data + b"\nendstream"


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with the given lines of text (Helvetica), from raw objects."""
    content = b"BT /F1 11 Tf 60 780 Td 14 TL " + b" ".join(
        b"(" + line.encode("latin-1").replace(b"(", b"\\(").replace(b")", b"\\)") + b") '" for line in lines) + b" ET"
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(content),
    ])


SAMPLE_LINES = ["Physics test", "1. State Newton's second law. [2]", "2. Define momentum. [2]",
                "3. What is the unit of force? [1]"]


def valid_pdf() -> bytes:
    return text_pdf(SAMPLE_LINES)


def truncated_pdf() -> bytes:
    data = valid_pdf()
    return data[: len(data) // 3]


def corrupt_pdf() -> bytes:
    data = bytearray(valid_pdf())
    # Keep the header, scramble everything after it (xref, objects, trailer).
    for i in range(20, len(data), 3):
        data[i] = (data[i] * 7 + 13) % 256
    return bytes(data)


def encrypted_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, encrypt=StandardEncryption("user-secret", "owner-secret"))
    for i, line in enumerate(SAMPLE_LINES):
        pdf.drawString(60, 780 - 14 * i, line)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def huge_page_count_pdf(count: int = 2_000_000_000) -> bytes:
    """A page tree that claims two billion pages and holds one."""
    data = valid_pdf()
    return data.replace(b"/Count 1 >>", b"/Count %d >>" % count)


def deep_nesting_pdf(depth: int = 200_000) -> bytes:
    """A page whose resources hold an array nested `depth` levels deep (a parser recursion attack)."""
    nested = b"[" * depth + b"]" * depth
    content = b"BT /F1 11 Tf 60 780 Td (1. A question? [1]) Tj ET"
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> /X 6 0 R >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(content),
        nested,
    ])


def deep_dictionary_pdf(depth: int = 100_000) -> bytes:
    """The catalog nested in `depth` dictionaries, each pointing to the next by reference."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R /Deep 3 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    for i in range(depth):
        objects.append(b"<< /Next %d 0 R >>" % (i + 4))
    objects.append(b"<< >>")
    return _pdf(objects)


def decompression_bomb_pdf(megabytes: int = 1024) -> bytes:
    """A page whose content stream is ~1 MB compressed and `megabytes` MB inflated (spaces)."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    body = b"".join(compressor.compress(chunk) for _ in range(megabytes)) + compressor.flush()
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream"
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        stream,
    ])


def image_bomb_pdf(side: int = 60_000) -> bytes:
    """A full-page image declared `side` x `side` pixels (3.6 gigapixels), a few KB compressed:
    a page with no text, so the reader wants to render it for OCR."""
    row = b"\x00" + b"\xff" * side  # PNG-style predictor byte is not used: plain 8-bit gray
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(b"\xff" * side) for _ in range(64)) + compressor.flush()
    del row
    image = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
             b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (side, side, len(body))
             + body + b"\nendstream")
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        image,
        _stream(b"q 595 0 0 842 0 0 cm /Im1 Do Q"),
    ])


def _docx_parts(document_xml: bytes) -> dict[str, bytes]:
    return {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
            b'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'wordprocessingml.document.main+xml"/></Types>'),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
        "word/document.xml": document_xml,
    }


def _document_xml(paragraphs: list[bytes], padding: bytes = b"") -> bytes:
    body = b"".join(b"<w:p><w:r><w:t>" + p + b"</w:t></w:r></w:p>" for p in paragraphs)
    return (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            b'wordprocessingml/2006/main"><w:body>' + body + padding + b"</w:body></w:document>")


def docx_zip_bomb(megabytes: int = 2048) -> bytes:
    """A .docx whose document.xml inflates to `megabytes` MB (an XML comment of spaces); ~2 MB zipped."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _docx_parts(b"").items():
            if name != "word/document.xml":
                archive.writestr(name, data)
        head, tail = _document_xml([b"1. A question? [1]"]).split(b"</w:body>")
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(head + b"<!--")
            chunk = b" " * (1 << 20)
            for _ in range(megabytes):
                part.write(chunk)
            part.write(b"-->" + b"</w:body>" + tail)
    return buf.getvalue()


def docx_lying_zip_bomb(megabytes: int = 1024) -> bytes:
    """A zip bomb whose central directory declares tiny sizes for document.xml (the sizes lie)."""
    data = bytearray(docx_zip_bomb(megabytes))
    # Rewrite the declared uncompressed size of word/document.xml to 1 KB in the central directory.
    name = b"word/document.xml"
    at = data.rfind(b"PK\x01\x02")
    while at != -1:
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        if bytes(data[at + 46:at + 46 + name_len]) == name:
            data[at + 24:at + 28] = (1024).to_bytes(4, "little")
            break
        at = data.rfind(b"PK\x01\x02", 0, at)
    return bytes(data)


def binary_named_pdf() -> bytes:
    """ELF-like bytes (a binary) that a user named paper.pdf."""
    return b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64


def huge_single_line(megabytes: int = 15) -> bytes:
    """Plain text: one line of `megabytes` MB with question-like fragments and markdown markers."""
    unit = b"1. What is ** the answer __ to (a) this? [2] "
    return unit * (megabytes * (1 << 20) // len(unit))


def long_line(kilobytes: int = 300) -> bytes:
    """A short paper whose second line is `kilobytes` KB long (under the total-size bound)."""
    unit = b"and what is ** the answer __ to (a) this? [2] "
    return b"Paper\n1. " + unit * (kilobytes * 1024 // len(unit)) + b"\n2. Why? [1]\n"


def non_utf8_text() -> bytes:
    """A paper in Windows-1252 with bytes that are invalid UTF-8, plus stray control and NUL-free junk."""
    text = "Examen de physique \u2013 \u00e9t\u00e9\n1. D\u00e9finir la force. [2]\n2. \u00c9nergie \u2018cin\u00e9tique\u2019 ? [3]\n"
    return text.encode("cp1252") + b"\x81\x8d\x8f\x90\x9d\n3. Dernier point. [1]\n"


def polyglot_pdf_zip() -> bytes:
    """Bytes that are a PDF at the front and a ZIP (docx-looking) at the back."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in _docx_parts(_document_xml([b"1. Hidden question? [1]"])).items():
            archive.writestr(name, data)
    return valid_pdf() + buf.getvalue()


def polyglot_png_pdf() -> bytes:
    """A PNG signature followed by a PDF header within the first KB: sniffed as PDF, not a valid one."""
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 100 + valid_pdf()


def many_questions_text(count: int = 10_000) -> bytes:
    return ("Big paper\n" + "".join(f"{i}. What is {i} plus {i}? [1]\n" for i in range(1, count + 1))).encode()


def empty() -> bytes:
    return b""


def whitespace_only() -> bytes:
    return b" \n\t\n   \n"

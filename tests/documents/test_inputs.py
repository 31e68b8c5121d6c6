"""Input kinds, chosen from the content: PDF, DOCX (with Word's automatic numbering), text,
Markdown, images; and the errors for input that cannot be read."""

from __future__ import annotations

import io
import zipfile

import pytest

from qagen.errors import EmptyFile, InputError, NoQuestionsFound, UnsupportedFileType
from qagen.documents import sniff_kind
from qagen.parsing import parse_document
from qagen.documents.errors import CorruptFile, EncryptedPDF, TooManyPages
from tests.parsing.helpers import make_pdf

QUESTIONS = ["1. Define entropy. [2]", "2. State Hess's law. [3]"]


def _docx(build) -> bytes:  # type: ignore[no-untyped-def]
    import docx

    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- sniffing -----------------------------------------------------------------------


def test_sniff_by_content_not_name() -> None:
    assert sniff_kind(make_pdf([QUESTIONS])) == "pdf"
    assert sniff_kind(_docx(lambda d: d.add_paragraph("1. Hi"))) == "docx"
    assert sniff_kind(b"\x89PNG\r\n\x1a\n" + b"\0" * 20) == "image"
    assert sniff_kind(b"\xff\xd8\xff\xe0" + b"\0" * 20) == "image"
    assert sniff_kind("1. Définir l'entropie.".encode()) == "text"
    assert sniff_kind("1. Définir l'entropie.".encode("latin-1")) == "text"
    assert sniff_kind("1. Define entropy.".encode("utf-16")) == "text"


def test_sniffing_imports_no_heavy_library() -> None:
    import subprocess
    import sys

    code = ("import sys; from qagen.documents.filetypes import sniff_kind; sniff_kind(b'%PDF-1.4');"
            "print([m for m in ('pdfplumber', 'pypdfium2', 'docx', 'PIL') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("data", [b"", b"   \n\t "])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(EmptyFile):
        parse_document(data, "empty.pdf")


@pytest.mark.parametrize(
    "data, words",
    [
        (b"GIF89a" + b"\0" * 50, "GIF"),
        (b"\xd0\xcf\x11\xe0" + b"\0" * 50, "legacy Microsoft Office"),
        (b"\x00\x01\x02\x03\xff\xfe\x00" * 20, "not a PDF"),
    ],
)
def test_unsupported_types_say_what_they_are(data: bytes, words: str) -> None:
    with pytest.raises(UnsupportedFileType, match=words):
        parse_document(data, "upload.bin")


def test_a_zip_that_is_not_docx_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(UnsupportedFileType, match="not a Word .docx"):
        parse_document(buf.getvalue(), "paper.docx")


# --- readers ------------------------------------------------------------------------


def test_plain_text_and_latin1() -> None:
    paper = parse_document("1. Définir l'entropie. [2]\n2. Énoncer la loi de Hess.".encode("latin-1"))
    assert [q.text for q in paper.questions] == ["Définir l'entropie.", "Énoncer la loi de Hess."]


def test_markdown_headings_emphasis_and_lists() -> None:
    md = "# Physics Final\n\n## Section A\n\n1. **Define** entropy. [2]\n2. State Hess's law. [3]\n"
    paper = parse_document(md.encode())
    assert paper.title == "Physics Final"
    assert [q.text for q in paper.questions] == ["Define entropy.", "State Hess's law."]
    assert [s.name for s in paper.sections] == ["Section A"]


def test_text_pdf() -> None:
    paper = parse_document(make_pdf([["Chemistry Test", *QUESTIONS]]), "t.pdf")
    assert paper.title == "Chemistry Test"
    assert [(q.number, q.marks) for q in paper.questions] == [("1", 2), ("2", 3)]


def test_docx_paragraphs_and_word_automatic_numbering() -> None:
    def build(document):  # type: ignore[no-untyped-def]
        document.add_paragraph("Biology Mid-term")
        document.add_paragraph("Define osmosis. [2]", style="List Number")
        document.add_paragraph("Explain diffusion. [3]", style="List Number")
        document.add_paragraph("Name two enzymes. [1]", style="List Number")

    paper = parse_document(_docx(build), "bio.docx")
    assert [q.number for q in paper.questions] == ["1", "2", "3"]
    assert [q.text for q in paper.questions][0] == "Define osmosis."
    assert [q.marks for q in paper.questions] == [2, 3, 1]


def test_docx_tables_with_a_marks_column() -> None:
    def build(document):  # type: ignore[no-untyped-def]
        table = document.add_table(rows=3, cols=3)
        for row, cells in zip(table.rows, [("Q", "Question", "Marks"), ("1.", "Define osmosis.", "2"),
                                            ("2.", "Explain diffusion.", "3")]):
            for cell, text in zip(row.cells, cells):
                cell.text = text

    paper = parse_document(_docx(build), "table.docx")
    assert [(q.number, q.text, q.marks) for q in paper.questions] == [
        ("1", "Define osmosis.", 2), ("2", "Explain diffusion.", 3)
    ]


# --- bad input ----------------------------------------------------------------------


def test_password_protected_pdf() -> None:
    from reportlab.lib import pdfencrypt

    data = make_pdf([QUESTIONS], encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    with pytest.raises(EncryptedPDF, match="password"):
        parse_document(data, "locked.pdf")


def test_pdf_with_only_an_owner_password_opens() -> None:
    from reportlab.lib import pdfencrypt

    data = make_pdf([QUESTIONS], encrypt=pdfencrypt.StandardEncryption("", ownerPassword="owner"))
    assert len(parse_document(data, "owner.pdf").questions) == 2


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.9])
def test_truncated_pdf(fraction: float) -> None:
    data = make_pdf([QUESTIONS])
    with pytest.raises(CorruptFile, match="damaged or incomplete"):
        parse_document(data[: int(len(data) * fraction)], "cut.pdf")


def test_corrupt_pdf() -> None:
    with pytest.raises(CorruptFile):
        parse_document(b"%PDF-1.7\n" + bytes(range(256)) * 40, "corrupt.pdf")


def test_corrupt_docx() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<not-closed")
    with pytest.raises(CorruptFile):
        parse_document(buf.getvalue(), "broken.docx")


def test_too_many_pages_is_refused_with_the_limit() -> None:
    data = make_pdf([QUESTIONS] * 5)
    with pytest.raises(TooManyPages, match="5 pages; the limit is 3"):
        parse_document(data, "long.pdf", max_pages=3)


def test_no_questions_says_what_was_found() -> None:
    data = make_pdf([["Dear students,", "the exam is postponed to next week.", "Regards"]] * 2)
    with pytest.raises(NoQuestionsFound) as info:
        parse_document(data, "notice.pdf")
    message = str(info.value)
    assert "2 pages" in message and "words" in message and "no numbered questions" in message
    assert "the exam is postponed" in message


def test_all_errors_are_input_errors() -> None:
    for error in (EncryptedPDF, CorruptFile, TooManyPages, NoQuestionsFound, EmptyFile, UnsupportedFileType):
        assert issubclass(error, InputError)


def test_docx_longer_than_the_page_limit_is_refused() -> None:
    def build(document):  # type: ignore[no-untyped-def]
        document.add_paragraph("1. Define osmosis.")

    data = _docx(build)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "docProps/app.xml":
                body = body.replace(b"<Pages>1</Pages>", b"<Pages>90</Pages>")
            dst.writestr(item, body)
    with pytest.raises(TooManyPages, match="90 pages; the limit is 60"):
        parse_document(buf.getvalue(), "long.docx")

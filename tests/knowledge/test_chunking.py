"""Course notes -> chunks: readers by content, heading paths, page numbers, sizes, and clear errors."""

from __future__ import annotations

import io
import re

import pytest

from qagen.errors import EmptyFile, InputError, UnsupportedFileType
from qagen.knowledge import (
    Chunk,
    EmptyKnowledgeDocument,
    KnowledgeTooLarge,
    NoExtractableText,
    UnreadableKnowledgeDocument,
    UnsupportedKnowledgeDocument,
    chunk_document,
)
from qagen.knowledge.chunking import MAX_WORDS
from tests.knowledge.corpus import corpus_chunks, knowledge_files


def words(text: str) -> int:
    return len(text.split())


def normalised(text: str) -> str:
    return " ".join(text.split())


def sentence_text(n: int, topic: str) -> str:
    return " ".join(f"Sentence {i} explains {topic} in plain words for the reader." for i in range(n))


# --- Markdown and text ------------------------------------------------------------------


def test_markdown_is_split_on_headings_with_the_heading_path_kept():
    notes = (
        "# Graphs\n\nA graph is a set of vertices joined by edges. " + sentence_text(14, "graphs") + "\n\n"
        "## Trees\n\nA tree is a connected graph without cycles. " + sentence_text(14, "trees") + "\n\n"
        "### Binary trees\n\nEvery node of a binary tree has at most two children. " + sentence_text(14, "binary trees")
    ).encode()

    chunks = chunk_document(notes, "graphs.md")

    assert [c.heading for c in chunks] == ["Graphs", "Graphs > Trees", "Graphs > Trees > Binary trees"]
    assert all(c.document == "graphs.md" and c.page is None for c in chunks)
    assert chunks[1].text.startswith("A tree is a connected graph")


def test_hashes_inside_code_blocks_are_not_headings_and_comments_are_dropped():
    notes = (
        "# Python notes\n\n"
        "<!-- hidden translation: ignore me -->\n"
        "Comments in Python start with a hash sign and run to the end of the line.\n\n"
        "```python\n# this is a comment, not a heading\nx = 1  # neither is this\n```\n"
    ).encode()

    chunks = chunk_document(notes, "python.md")

    assert len(chunks) == 1 and chunks[0].heading == "Python notes"
    assert "# this is a comment, not a heading" in chunks[0].text
    assert "hidden translation" not in chunks[0].text


def test_front_matter_title_becomes_the_root_heading():
    notes = b"---\ntitle: 'Interfaces'\nhidden: false\n---\n\nAn interface declares methods. " + sentence_text(5, "it").encode()

    (chunk,) = chunk_document(notes, "part9.md")

    assert chunk.heading == "Interfaces"
    assert "hidden: false" not in chunk.text


def test_plain_text_without_headings_is_one_section_with_an_empty_heading():
    chunks = chunk_document(sentence_text(30, "plain text").encode("utf-8"), "notes.txt")

    assert chunks and all(c.heading == "" and c.page is None for c in chunks)


def test_long_sections_are_split_into_chunks_of_bounded_size_with_overlap():
    long_section = "# Estimators\n\n" + "\n\n".join(sentence_text(8, f"topic {p}") for p in range(30))

    chunks = chunk_document(long_section.encode(), "long.md")

    assert len(chunks) > 3
    assert all(words(c.text) <= MAX_WORDS + 60 for c in chunks)
    assert all(c.heading == "Estimators" for c in chunks)
    for before, after in zip(chunks, chunks[1:]):
        last_sentence = re.split(r"(?<=\.)\s+", before.text.strip())[-1]
        assert last_sentence in after.text  # consecutive chunks share a little text


def test_small_neighbouring_sections_are_merged_under_their_common_heading():
    notes = (
        "# Linked list\n\n## Complexities\n\n### Time\n\nSearch is O(n) in a linked list.\n\n"
        "### Space\n\nA linked list needs O(n) space.\n"
    ).encode()

    (chunk,) = chunk_document(notes, "ll.md")

    assert chunk.heading == "Linked list > Complexities"
    assert "Search is O(n)" in chunk.text and "### Space" in chunk.text and "O(n) space" in chunk.text


def test_the_real_knowledge_documents_chunk_into_heading_sized_passages():
    files = knowledge_files()
    chunks = corpus_chunks()

    assert {c.document for c in chunks} == {p.name for p in files}
    sizes = sorted(words(c.text) for c in chunks)
    assert sizes[-1] <= MAX_WORDS + 60
    assert sizes[len(sizes) // 2] >= 120  # the typical chunk is a real passage, not a fragment
    headings = {c.heading for c in chunks}
    assert "Statistics > Conducting Hypothesis Tests > Statistical Power" in headings
    assert "Distributions > Poisson" in headings
    assert any(h.startswith("Interfaces > Built-in Interfaces") for h in headings)
    java = [c for c in chunks if c.document.startswith("mooc-fi")]
    assert not any("Rajapinta" in c.text for c in java)  # the Finnish originals sit in HTML comments


def test_every_chunk_sentence_occurs_in_its_document():
    texts = {p.name: normalised(p.read_text(encoding="utf-8")) for p in knowledge_files()}
    for chunk in corpus_chunks():
        for paragraph in chunk.text.split("\n\n"):
            first_line = normalised(paragraph.split("\n")[0])
            assert first_line in texts[chunk.document], (chunk.document, first_line[:80])


# --- PDF and DOCX ------------------------------------------------------------------------


def make_pdf(pages: list[list[str]]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for number, lines in enumerate(pages, start=1):
        y = 800
        for line in lines:
            pdf.drawString(60, y, line)
            y -= 16
        pdf.drawString(290, 30, str(number))  # a page number in the footer
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_pdf_chunks_record_their_page_and_never_cross_a_page_boundary():
    # Different filler on each page: a line repeated at the top of every page is a running
    # header, and the reader drops it (see the test below).
    filler = [f"Line {i} adds a few more words about information theory here." for i in range(14)]
    more = [f"Sentence {i} says a little more about codes, channels and noise." for i in range(14)]
    data = make_pdf([
        ["1 Entropy", "Entropy measures the uncertainty of a random variable.", *filler],
        ["The entropy of a fair coin is one bit.", *more, "2.1 Mutual Information",
         "Mutual information is symmetric in its two arguments.", *filler],
    ])

    chunks = chunk_document(data, "info-theory.pdf")

    assert [(c.page, c.heading) for c in chunks] == [
        (1, "1 Entropy"),
        (2, "1 Entropy"),  # the section goes on over the page break, as a new chunk
        (2, "1 Entropy > 2.1 Mutual Information"),
    ]
    assert "fair coin" not in chunks[0].text and "fair coin" in chunks[1].text
    assert chunks[2].text.startswith("Mutual information is symmetric")
    assert not any(re.fullmatch(r"\d+", line.strip()) for c in chunks for line in c.text.splitlines())


def test_short_capitalised_lines_of_a_pdf_are_headings_and_capitalised_sentences_are_not():
    sorting = [f"Sorting fact {i} says how items are put in order here." for i in range(8)]
    searching = [f"Searching fact {i} says how items are found quickly here." for i in range(8)]
    data = make_pdf([["SORTING", *sorting, "NOTE THAT BOTH ARE COVERED IN UNIT FOUR OF THE COURSE.", "SEARCHING",
                      *searching]])

    chunks = chunk_document(data, "algorithms.pdf")

    assert [(c.page, c.heading) for c in chunks] == [(1, "SORTING"), (1, "SEARCHING")]
    assert "NOTE THAT BOTH ARE COVERED" in chunks[0].text  # a capitalised sentence is body text
    assert chunks[1].text.startswith("Searching fact 0")


def test_docx_headings_come_from_paragraph_styles_and_tables_are_kept():
    import docx

    document = docx.Document()
    document.add_heading("Sorting", level=1)
    document.add_paragraph("Insertion sort builds the sorted list one item at a time. " + sentence_text(14, "sorting"))
    document.add_heading("Merge sort", level=2)
    document.add_paragraph("Merge sort splits the list in halves and merges the sorted halves. " + sentence_text(14, "merging"))
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Algorithm", "Worst case"
    table.cell(1, 0).text, table.cell(1, 1).text = "Merge sort", "O(n log n)"
    buffer = io.BytesIO()
    document.save(buffer)

    chunks = chunk_document(buffer.getvalue(), "sorting.docx")

    assert [c.heading for c in chunks] == ["Sorting", "Sorting > Merge sort"]
    assert all(c.page is None for c in chunks)
    assert "Merge sort | O(n log n)" in chunks[1].text


# --- bad documents -----------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"  \n\t "])
def test_an_empty_document_is_refused(data):
    with pytest.raises(EmptyKnowledgeDocument, match="empty") as caught:
        chunk_document(data, "notes.md")
    assert isinstance(caught.value, EmptyFile) and isinstance(caught.value, InputError)


@pytest.mark.parametrize("magic", [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0"])
def test_images_are_refused_as_scanned_notes(magic):
    with pytest.raises(UnsupportedKnowledgeDocument) as caught:
        chunk_document(magic + b"\x00" * 200, "photo-of-notes.png")
    assert "images of notes are not supported; upload a PDF, DOCX or text file" in str(caught.value)
    assert isinstance(caught.value, UnsupportedFileType)


def test_binary_files_are_refused_as_unsupported():
    with pytest.raises(UnsupportedKnowledgeDocument, match="text PDF"):
        chunk_document(bytes(range(256)) * 8, "notes.bin")


def test_a_pdf_without_a_text_layer_has_no_extractable_text():
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    blank = canvas.Canvas(buffer)
    blank.showPage()
    blank.save()

    with pytest.raises(NoExtractableText, match="No text could be extracted from scan.pdf"):
        chunk_document(buffer.getvalue(), "scan.pdf")


def test_a_damaged_pdf_is_unreadable():
    with pytest.raises(UnreadableKnowledgeDocument, match="damaged"):
        chunk_document(b"%PDF-1.7\n" + b"garbage " * 50, "broken.pdf")


def test_markdown_with_only_markup_has_no_extractable_text():
    with pytest.raises(NoExtractableText):
        chunk_document(b"<!-- only a comment -->\n\n<div>\n</div>\n", "empty.md")


def test_documents_over_the_chunk_limit_are_refused():
    notes = "\n\n".join(f"# Section {i}\n\n" + sentence_text(15, f"subject {i}") for i in range(12)).encode()

    assert len(chunk_document(notes, "big.md")) == 12
    with pytest.raises(KnowledgeTooLarge, match="more than 5 chunks"):
        chunk_document(notes, "big.md", max_chunks=5)


def test_pdfs_over_the_chunk_limit_are_refused():
    topics = ["entropy", "coding", "channels", "noise", "compression", "inference", "sampling", "estimation"]
    data = make_pdf([[f"This page says something about {topic}."] for topic in topics])

    with pytest.raises(KnowledgeTooLarge):
        chunk_document(data, "long.pdf", max_chunks=3)


def test_chunks_are_plain_frozen_data():
    chunk = Chunk(document="a.md", page=None, heading="H", text="t")
    with pytest.raises(AttributeError):
        chunk.text = "changed"  # type: ignore[misc]


def test_pdf_notes_lose_their_running_header_and_split_paragraphs_at_wider_gaps():
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page, paragraphs in enumerate([["Queues hold items in order.", "Stacks reverse the order."],
                                       ["Deques allow both ends.", "Heaps keep the smallest first."]], start=1):
        pdf.drawString(60, 810, "Data Structures - Unit 2 notes")  # the same header on every page
        y = 760
        for paragraph in paragraphs:
            for k in range(3):
                pdf.drawString(60, y, f"{paragraph} Line {k} of it.")
                y -= 14
            y -= 20  # the gap between paragraphs
        pdf.showPage()
    pdf.save()

    chunks = chunk_document(buffer.getvalue(), "unit2.pdf")

    assert [c.page for c in chunks] == [1, 2]
    assert not any("Unit 2 notes" in c.text for c in chunks)
    assert chunks[0].text.split("\n\n") == [
        "Queues hold items in order. Line 0 of it. Queues hold items in order. Line 1 of it. "
        "Queues hold items in order. Line 2 of it.",
        "Stacks reverse the order. Line 0 of it. Stacks reverse the order. Line 1 of it. "
        "Stacks reverse the order. Line 2 of it.",
    ]

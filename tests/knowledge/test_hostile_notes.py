"""Course notes are read by the same guarded reader as papers: every defence papers have,
notes have too, and each attack ends as a clear error about that notes file."""

from __future__ import annotations

import os

import pytest

from qagen.documents import sandbox
from qagen.knowledge import UnreadableKnowledgeDocument, chunk_document
from qagen.knowledge.errors import KnowledgeDocumentError
from tests.reliability import hostile


@pytest.fixture
def bounded_reading():
    """As in a worker pool process: reading runs in a forked child with 256 MB and 60 s."""
    sandbox.configure(256 * 1024 * 1024, 60)
    try:
        yield
    finally:
        sandbox.disable()


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (hostile.truncated_pdf, "damaged or incomplete"),
        (hostile.corrupt_pdf, "damaged"),
        (hostile.encrypted_pdf, "password"),
        (lambda: hostile.docx_zip_bomb(300), "200 MB"),
        (lambda: hostile.docx_lying_zip_bomb(300), "damaged"),
    ],
    ids=["truncated PDF", "corrupt PDF", "encrypted PDF", "DOCX zip bomb", "lying DOCX zip bomb"],
)
def test_a_hostile_notes_file_is_refused_with_a_message_naming_it(build, says):
    with pytest.raises(UnreadableKnowledgeDocument) as refused:
        chunk_document(build(), "unit-3-notes.pdf")

    message = str(refused.value)
    assert message.startswith("unit-3-notes.pdf could not be read as course notes:")
    assert says in message


def test_a_decompression_bomb_in_notes_is_stopped_in_the_sandbox_not_in_the_worker(bounded_reading):
    pid = os.getpid()

    with pytest.raises(UnreadableKnowledgeDocument, match="memory") as refused:
        chunk_document(hostile.decompression_bomb_pdf(1024), "bomb.pdf")

    assert os.getpid() == pid and "bomb.pdf could not be read as course notes" in str(refused.value)


def test_notes_are_split_in_the_sandbox_child_when_it_is_configured(bounded_reading, monkeypatch):
    """The whole of the reading and splitting runs in the child: a failure there is the child's."""
    import qagen.knowledge.markdown as markdown

    parent = os.getpid()
    seen = []
    real = markdown.markdown_sections

    def spy(text):
        seen.append(os.getpid())
        if os.getpid() != parent:
            raise MemoryError  # as an allocation past the child's address-space limit would
        return real(text)

    monkeypatch.setattr(markdown, "markdown_sections", spy)

    with pytest.raises(UnreadableKnowledgeDocument, match="memory"):
        chunk_document(b"# Notes\n\nSome text about queues.", "notes.md")
    assert seen == []  # the spy ran in the child (its list there), never in this process


def test_notes_errors_are_all_knowledge_document_errors():
    for build in (hostile.truncated_pdf, hostile.encrypted_pdf, hostile.empty, hostile.binary_named_pdf):
        with pytest.raises(KnowledgeDocumentError):
            chunk_document(build(), "notes.pdf")


@pytest.mark.parametrize(
    ("data", "refusal", "says"),
    [
        (b"  \n ", "EmptyKnowledgeDocument", "notes.md is empty"),
        (b"<!-- only a comment -->\n", "NoExtractableText", "No text could be extracted from notes.md"),
        (b"# Queues\n\n" + (b"A queue serves items in arrival order. " * 40 + b"\n\n") * 50, "KnowledgeTooLarge",
         "notes.md is too large for one knowledge base"),
    ],
    ids=["empty", "markup only", "too many chunks"],
)
def test_a_refusal_decided_in_the_sandbox_child_reaches_the_caller_as_itself(bounded_reading, data, refusal, says):
    """The child's error crosses the pipe with its class and message, not as a generic failure."""
    import qagen.knowledge.errors as errors

    with pytest.raises(getattr(errors, refusal)) as refused:
        chunk_document(data, "notes.md", max_chunks=3)

    assert says in str(refused.value)

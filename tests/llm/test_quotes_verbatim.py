"""Every passage the offline engine can quote, and every excerpt shown for a citation, occurs
verbatim in the cited document at the cited page, read independently of qagen's reader
(pypdfium2 for PDFs, python-docx for DOCX, the file's own text otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.answer_scoring import quote_in
from devtools.evaluate_answers import HERE, page_texts
from qagen.knowledge import chunk_document
from qagen.knowledge.analysis import analyzer_name
from qagen.llm.offline_sources import _sentences, quote_of
from qagen.llm.prompt import Prompt, SourceText, _excerpt

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([*(HERE / "notes" / "dev").iterdir(), *(REPO / "docs").glob("*.md"), REPO / "README.md"])


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_every_quotable_sentence_and_excerpt_is_verbatim_in_its_page(path):
    pages = page_texts(path)
    not_verbatim = []
    for chunk in chunk_document(path.read_bytes(), path.name):
        page = pages.get(chunk.page, pages.get(None, ""))
        prompt = Prompt(question="-", sources=[SourceText("S1", path.name, chunk.heading, chunk.text)])
        quotes = [quote_of(s.text) for s in _sentences(prompt, analyzer_name())] + [_excerpt(chunk.text, None)]
        not_verbatim += [q for q in quotes if not quote_in(page, q)]

    assert not_verbatim == []


def test_a_bullet_the_reader_added_is_not_part_of_the_quote():
    assert quote_of("• TCP is reliable.") == "TCP is reliable."
    assert quote_of("2. Push adds an item.") == "Push adds an item."
    assert quote_of("Version 2. is out.") == "Version 2. is out."

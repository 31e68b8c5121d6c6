"""Notes are uploaded by anyone: reading them must take time linear in their size.

Each case is a pattern's worst input (issue 16: "# a" and 50,000 blanks made the old heading
pattern run for minutes). The bound is generous (a second for 100 KB that is read in
milliseconds); the old patterns took minutes on the same input.
"""

from __future__ import annotations

import time

import pytest

from qagen.knowledge.markdown import atx_heading, front_matter, markdown_sections, strip_comments

BLANKS = " \t" * 50_000  # 100 KB

WORST_CASES = {
    "a heading followed by blanks, then text": "# a" + BLANKS + "x",
    "a heading followed by blanks only": "# a" + BLANKS,
    "a tag line that never closes": "<a" + BLANKS + "x",
    "comments that open and never close": "<!--" * 25_000,
    "front matter whose title is blanks": "---\ntitle:" + BLANKS + "x\n---\ntext",
    "an image line that never closes": "![" + "a" * 100_000,
    "a directive that never closes": ":label:`" + "a" * 100_000,
    "a setext underline with trailing blanks": "Title\n" + "=" * 50_000 + BLANKS + "x",
    "sentences of blanks": ". " * 50_000 + "a",
}


@pytest.mark.parametrize("name", WORST_CASES)
def test_every_pattern_reads_its_worst_case_in_linear_time(name):
    started = time.perf_counter()
    markdown_sections(WORST_CASES[name])
    assert time.perf_counter() - started < 1.0, name


def test_a_whole_worst_case_note_is_read_quickly_and_an_overlong_line_is_refused():
    from qagen.knowledge.chunking import chunk_document
    from qagen.knowledge.errors import UnreadableKnowledgeDocument

    line = "# a" + " \t" * 9_000 + "x"  # just under the reader's 20,000-character line limit
    started = time.perf_counter()
    chunk_document("\n".join([line] * 5 + ["A queue is first in, first out."]).encode(), "notes.md")
    assert time.perf_counter() - started < 3.0
    with pytest.raises(UnreadableKnowledgeDocument, match="line of 100,004 characters"):
        chunk_document(("# a" + BLANKS + "x").encode(), "notes.md")


def test_headings_are_read_as_before():
    assert atx_heading("## Queues ##") == (2, "Queues")
    assert atx_heading("# C#") == (1, "C#")
    assert atx_heading("   ### Deep") == (3, "Deep")
    assert atx_heading("#hashtag") is None
    assert atx_heading("####### seven") is None
    assert atx_heading("#") is None


def test_comments_are_removed_and_an_unclosed_one_is_kept():
    assert strip_comments("a<!-- x -->b<!-- y -->c") == "abc"
    assert strip_comments("a<!-- open") == "a<!-- open"


def test_front_matter_gives_its_title_and_the_text_after_it():
    assert front_matter("---\ntitle: 'Queues'\nauthor: x\n---\nBody") == ("Queues", "Body")
    assert front_matter("No front matter") == ("", "No front matter")

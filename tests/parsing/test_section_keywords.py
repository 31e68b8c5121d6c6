"""A section heading in the paper's own language lets numbering restart at 1 as new questions."""

from __future__ import annotations

import pytest

from qagen.parsing import parse_document


@pytest.mark.parametrize("keyword", ["Section", "Teil", "Partie", "Parte", "Sección", "Sezione", "Deel", "Dio"])
def test_numbering_restarting_after_a_section_heading_counts_new_questions(keyword):
    paper = parse_document((
        f"{keyword} 1\n"
        "1. Define momentum. [2]\n"
        "2. State Newton's third law. [2]\n"
        f"{keyword} 2\n"
        "1. Derive the equation of motion of a pendulum. [5]\n"
        "2. Explain resonance. [3]\n"
    ).encode(), "paper.txt")

    assert [(q.number, q.marks) for q in paper.questions] == [("1", 2), ("2", 2), ("1", 5), ("2", 3)]
    assert [s.name for s in paper.sections] == [f"{keyword} 1", f"{keyword} 2"]


def test_a_word_that_only_begins_like_a_keyword_is_not_a_heading():
    paper = parse_document((
        "1. Particles move in a field. [2]\n"
        "2. Teilchen bewegen sich. [2]\n"
        "3. Parts of a cell. [1]\n"
    ).encode(), "paper.txt")

    assert [q.number for q in paper.questions] == ["1", "2", "3"] and paper.sections == []

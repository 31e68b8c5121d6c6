"""A keyword numbering ("Question No. 1", "Q2", "Problem 3") that counts without restarting
numbers the questions when a plainer numbering starts again at 1 under each of them: those
are parts, or the points of a worked answer, not questions."""

from __future__ import annotations

from qagen.parsing import parse_document
from qagen.parsing.numbering import Candidate, nested_in


def parse(text: str):
    return parse_document(text.encode(), "paper.txt")


def test_lists_restarting_under_each_keyword_question_stay_inside_it():
    paper = parse(
        "QUESTION NO. 1 [6 Marks]\n"
        "Explain the layers of the TCP/IP model.\n"
        "1. Application layer: talks to programs.\n"
        "2. Transport layer: carries segments end to end.\n"
        "3. Internet layer: routes packets.\n"
        "QUESTION NO. 2 [6 Marks]\n"
        "Compare two routing methods.\n"
        "1. Distance vector: neighbours share tables.\n"
        "2. Link state: every node floods its links.\n"
        "QUESTION NO. 3 [6 Marks]\n"
        "Name two application protocols.\n"
        "1. DNS resolves names.\n"
        "2. HTTP fetches pages.\n"
    )

    assert [q.number for q in paper.questions] == ["QUESTION NO. 1", "QUESTION NO. 2", "QUESTION NO. 3"]
    second = paper.questions[1]
    assert "Distance vector" in " ".join([second.text, *(p.text for p in second.parts), *(o.text for o in second.options)])


def cands(style: str, pairs: list[tuple[int, int]]) -> list[Candidate]:
    return [Candidate(index, style, value, "q" if style == "kw" else "", str(value), "", 0.0) for index, value in pairs]


def test_the_rule_needs_the_inner_numbering_to_restart_under_two_questions():
    outer = cands("kw", [(0, 1), (10, 2), (20, 3)])

    assert nested_in(cands("num", [(1, 1), (2, 2), (11, 1), (12, 2)]), outer)
    assert not nested_in(cands("num", [(1, 1), (2, 2), (11, 3), (12, 4)]), outer)  # one restart only: no


def test_the_rule_does_not_apply_when_the_plain_numbers_begin_before_the_keywords():
    outer = cands("kw", [(5, 1), (10, 2), (20, 3)])

    assert not nested_in(cands("num", [(1, 1), (2, 2), (6, 1), (11, 1), (21, 1)]), outer)


def test_the_rule_does_not_apply_to_a_keyword_numbering_that_restarts_or_skips():
    inner = cands("num", [(1, 1), (11, 1), (21, 1)])

    assert not nested_in(inner, cands("kw", [(0, 1), (10, 3), (20, 4)]))
    assert not nested_in(inner, cands("kw", [(0, 1), (10, 2), (20, 1)]))


def test_a_plain_numbering_that_never_restarts_is_not_taken_for_parts():
    paper = parse(
        "Q1 Attempt all parts.\n"
        "1. Define entropy. [2]\n"
        "2. Define enthalpy. [2]\n"
        "3. Define a reversible process. [2]\n"
        "4. State the second law. [2]\n"
    )

    assert [q.number for q in paper.questions] == ["1", "2", "3", "4"]


def test_plain_questions_before_the_first_keyword_question_stay_questions():
    paper = parse(
        "1. What is a star? [2]\n"
        "2. What is a planet? [2]\n"
        "3. What is a comet? [2]\n"
        "Free-Response Question 1\n"
        "1. Describe the orbit.\n"
        "2. Describe the tail.\n"
        "Free-Response Question 2\n"
        "1. Define parallax.\n"
        "2. Define a parsec.\n"
    )

    assert [q.number for q in paper.questions] == ["1", "2", "3", "Question 1", "Question 2"]
    last = paper.questions[4]
    inside = " ".join([last.text, *(p.text for p in last.parts), *(o.text for o in last.options)])
    assert "Define parallax." in inside and "Define a parsec." in inside  # its items stay inside it


def test_a_question_heading_is_a_line_of_its_own():
    from qagen.parsing.numbering import QUESTION_HEADING

    for heading in ("Question 3", "Free-Response Question 1", "Bonus Problem 2:", "QUESTION NO. 4", "Aufgabe 5"):
        assert QUESTION_HEADING.match(heading), heading
    for sentence in ("Question 5 carries 4 marks", "Answer Question 2 or 3.", "The question 4 is optional"):
        assert not QUESTION_HEADING.match(sentence), sentence

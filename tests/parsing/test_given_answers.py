"""Answers printed in the paper are kept as each question's given answer, never taken for
questions (docs/parsing.md, "Answers in the paper")."""

from __future__ import annotations

import pytest

from qagen.parsing.answers import is_answer_label

from tests.parsing.helpers import numbers, parse_text


def test_a_worked_answer_is_the_questions_given_answer_not_its_text():
    paper = parse_text("""
        1. Define a queue. [2]
        Answer: A linear data structure that follows the FIFO principle.
        2. Define a stack. [2]
        Ans. A linear data structure that follows the LIFO principle.
    """)

    assert numbers(paper) == ["1", "2"]
    assert paper.questions[0].text == "Define a queue."
    assert paper.questions[0].given_answer == "A linear data structure that follows the FIFO principle."
    assert paper.questions[1].given_answer == "A linear data structure that follows the LIFO principle."
    assert [q.marks for q in paper.questions] == [2, 2]


def test_numbered_points_of_an_answer_are_not_questions():
    paper = parse_text("""
        1. What are the layers of the TCP/IP model? [4]
        Solution:
        1. Application layer
        2. Transport layer
        3. Internet layer
        4. Link layer
        2. What does a router do? [2]
        Solution: It forwards packets between networks.
        3. What is a MAC address? [2]
    """)

    assert numbers(paper) == ["1", "2", "3"]
    assert "Transport layer" in (paper.questions[0].given_answer or "")
    assert paper.questions[2].given_answer is None


def test_an_answer_after_a_part_ends_where_the_next_part_begins():
    paper = parse_text("""
        1. Answer the following.
        (a) What is 2 + 2? [1]
        Answer: 4
        (b) What is 3 x 3? [1]
        Answer: 9
    """)

    [question] = paper.questions
    assert [p.label for p in question.parts] == ["a", "b"]
    assert [p.text for p in question.parts] == ["What is 2 + 2?", "What is 3 x 3?"]
    assert question.given_answer == "(a) 4\n(b) 9"


def test_items_labelled_question_without_numbers_are_numbered_in_order():
    paper = parse_text("""
        Quiz 2 answer key
        Question: What is a language model?
        Answer: A probability distribution over word sequences.
        Question: Define perplexity.
        Answer: The exponentiated average negative log-likelihood per word.
        Question: What is smoothing?
        Answer: Moving probability mass to unseen events.
    """)

    assert numbers(paper) == ["1", "2", "3"]
    assert paper.questions[1].text == "Define perplexity."
    assert any("answer key" in w for w in paper.warnings)


def test_a_space_left_to_write_the_answer_in_is_not_an_answer():
    paper = parse_text("""
        1. Name the capital of France. [1]
        Answer: ______________
        2. Name the largest planet. [1]
        Answer: ______________
    """)

    assert numbers(paper) == ["1", "2"]
    assert all(q.given_answer is None for q in paper.questions)


@pytest.mark.parametrize("line", ["Answer: 42", "Ans. (b)", "Solution:", "Sol. x = 2", "Marking scheme",
                                  "RUBRIC: 1 mark each", "Model answer: ...", "Examiner's notes:", "Answers"])
def test_answer_labels(line):
    assert is_answer_label(line)


@pytest.mark.parametrize("line", ["Answer all questions.", "Answer any five of the following",
                                  "Solve the equation.", "Answers must be written in ink."])
def test_instructions_are_not_answer_labels(line):
    assert not is_answer_label(line)


def test_an_answer_printed_on_the_questions_own_line_is_its_given_answer():
    paper = parse_text("""
        1. What is the capital of France? Ans: Paris [1]
        2. Which gas do plants take in? Answer - Carbon dioxide [1]
        3. Name a noble gas. [1]
    """)

    assert [q.text for q in paper.questions] == ["What is the capital of France?", "Which gas do plants take in?",
                                                 "Name a noble gas."]
    assert [q.given_answer for q in paper.questions] == ["Paris", "Carbon dioxide", None]
    assert [q.marks for q in paper.questions] == [1, 1, 1]

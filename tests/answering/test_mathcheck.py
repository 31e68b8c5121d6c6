"""A real model's computational answers are checked against sympy's exact result."""

from __future__ import annotations

import pytest

from qagen.answering.mathcheck import check_answer
from qagen.model import Answer


@pytest.mark.parametrize("question, answer", [
    ("Solve for x: 2x + 3 = 11", "Subtract 3 and divide by 2, so x = 4."),
    ("Differentiate f(x) = x^3 + 2x with respect to x.", "The derivative is $3x^2 + 2$."),
    ("Evaluate the integral of 2x from 0 to 3.", "The value is 9."),
    ("The marks of five students are 12, 15, 9, 18 and 14. Find their mean.", "Mean = 68/5 = 13.6"),
])
def test_an_answer_that_states_sympys_result_is_marked_as_agreeing(question, answer):
    notes = check_answer(question, "", Answer(text=answer)).notes

    assert len(notes) == 1 and notes[0].startswith("Checked with sympy: agrees")


@pytest.mark.parametrize("question, answer, expected", [
    ("Solve for x: 2x + 3 = 11", "x = 5", "4"),
    ("Differentiate f(x) = x^3 + 2x with respect to x.", "It is 3x^2.", "3*x^2 + 2"),
])
def test_a_disagreement_is_flagged_with_the_exact_value(question, answer, expected):
    notes = check_answer(question, "", Answer(text=answer)).notes

    assert notes == [f"Check this answer: sympy computes {expected}, which the answer does not state."]


def test_a_question_sympy_cannot_compute_is_left_alone():
    answer = Answer(text="Light is scattered more at short wavelengths.")

    assert check_answer("Explain why the sky appears blue.", "", answer).notes == []

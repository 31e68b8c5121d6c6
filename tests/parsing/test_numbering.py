"""Top-level question numbers: the printed styles, and which numbered lines are not questions."""

from __future__ import annotations

import pytest

from tests.parsing.helpers import numbers, parse_text


@pytest.mark.parametrize(
    "snippet, expected",
    [
        ("1. Define entropy.\n2. State Hess's law.\n3. What is enthalpy?", ["1", "2", "3"]),
        ("1) Define entropy.\n2) State Hess's law.", ["1", "2"]),
        ("Q1. Define entropy.\nQ2. State Hess's law.", ["Q1", "Q2"]),
        ("Q.1 Define entropy.\nQ.2 State Hess's law.", ["Q.1", "Q.2"]),
        ("Q. 1. Define entropy.\nQ. 2. State Hess's law.", ["Q. 1", "Q. 2"]),
        ("Question 1: Define entropy.\nQuestion 2: State Hess's law.", ["Question 1", "Question 2"]),
        ("I. Define entropy.\nII. State Hess's law.\nIII. Explain.\nIV. Derive.", ["I", "II", "III", "IV"]),
        ("A.1 - 7 Points\nWrite a method.\nA.2 - 7 Points\nWrite a loop.\nB.1 - 5 Points\nExplain.",
         ["A.1", "A.2", "B.1"]),
        ("Problem 1. Sort the list.\nProblem 2. Reverse it.", ["Problem 1", "Problem 2"]),
        ("Zadatak 1 (2+2 bod).\nNapišite razred.\nZadatak 2 (3 boda).\nNapišite sučelje.",
         ["Zadatak 1", "Zadatak 2"]),
    ],
)
def test_numbering_styles(snippet: str, expected: list[str]) -> None:
    assert numbers(parse_text(snippet)) == expected


def test_the_text_after_the_number_is_the_question() -> None:
    paper = parse_text("Q1. Define entropy.\nQ2. State Hess's law.")
    assert [q.text for q in paper.questions] == ["Define entropy.", "State Hess's law."]


def test_numbers_must_follow_in_sequence() -> None:
    paper = parse_text(
        """
        1. In 1998 the population was measured.
        2021 was a dry year.
        2. Compute the mean of the data below:
        12  14  15
        3. Explain the result.
        """
    )
    assert numbers(paper) == ["1", "2", "3"]


def test_durations_and_marks_after_a_number_are_not_questions() -> None:
    paper = parse_text(
        """
        Time allowed: 3 hours
        1 hour is given for reading.
        1. Define entropy.
        2. State Hess's law.
        """
    )
    assert numbers(paper) == ["1", "2"]


def test_an_indented_numbered_list_inside_a_question_is_not_a_question() -> None:
    paper = parse_text(
        """
        1. Use the following rules:
            1. Savings are exempt.
            2. Tax is 20%.
        2. Compute the tax.
        """
    )
    assert numbers(paper) == ["1", "2"]
    assert "Savings are exempt" in paper.questions[0].text


def test_a_list_in_another_style_inside_questions_is_not_a_question() -> None:
    paper = parse_text(
        """
        Q1. Prove the following:
        1. The sum is even.
        2. The product is odd.
        Q2. Sort the array.
        """
    )
    assert numbers(paper) == ["Q1", "Q2"]


def test_numbering_restarts_after_a_section_heading() -> None:
    paper = parse_text(
        """
        General Aptitude
        Q1. Choose the synonym.
        Q2. Find the next term.
        Technical Section
        Q1. Find the eigenvalues.
        Q2. Evaluate the integral.
        Q3. Solve the equation.
        """
    )
    assert numbers(paper) == ["Q1", "Q2", "Q1", "Q2", "Q3"]


def test_numbered_instructions_before_the_questions_are_not_questions() -> None:
    paper = parse_text(
        """
        General Instructions:
        1. All questions are compulsory.
        2. Use of calculators is not permitted.
        SECTION A
        1. Define entropy.
        2. State Hess's law.
        3. What is enthalpy?
        """
    )
    assert numbers(paper) == ["1", "2", "3"]
    assert "calculators" in paper.instructions


def test_page_numbers_and_repeated_footers_are_dropped() -> None:
    snippet = "\f".join(
        f"Physics Final 2024\n{n}. Question number {n} asks something.\nPage {n} of 3" for n in (1, 2, 3)
    )
    paper = parse_text(snippet)
    assert numbers(paper) == ["1", "2", "3"]
    assert all("Page" not in q.text and "Physics Final" not in q.text for q in paper.questions)


def test_duplicate_number_in_keyword_style_is_kept() -> None:
    # Setters do repeat a label by mistake; both items are questions.
    paper = parse_text("B.1 - 10 Points\nExplain A.\nB.2 - 10 Points\nExplain B.\nB.2 - 10 Points\nExplain C.")
    assert numbers(paper) == ["B.1", "B.2", "B.2"]


def test_a_paper_that_starts_mid_way_keeps_its_numbers() -> None:
    paper = parse_text("11. Define entropy.\n12. State Hess's law.\n13. Explain.")
    assert numbers(paper) == ["11", "12", "13"]

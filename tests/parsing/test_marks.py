"""Marks as printed: brackets, words, a right-hand column, split marks, and rules."""

from __future__ import annotations

import pytest

from qagen.parsing import parse_document
from tests.parsing.helpers import make_pdf, parse_text


@pytest.mark.parametrize(
    "line, marks",
    [
        ("1. Define entropy. [5]", 5),
        ("1. Define entropy. (5 marks)", 5),
        ("1. Define entropy. [1 Mark]", 1),
        ("1. Define entropy. (10 points)", 10),
        ("1. Define entropy. 5M", 5),
        ("1. Define entropy. [2+3]", 5),
        ("1. Define entropy.            3, 2", 5),  # split marks in a right-hand column
        ("1. (3 points) Define entropy.", 3),  # marks right after the number
        ("1. (2) Define entropy.", 2),
        ("Zadatak 1 (2+2+1 bod).\nNapišite razred.", 5),
        ("C.3 - 5 Points Why would you use a try-catch statement?", 5),
        ("1. Define entropy.            4", 4),  # right-hand column in plain text
    ],
)
def test_marks_notations(line: str, marks: float) -> None:
    paper = parse_text(line)
    assert paper.questions[0].marks == marks
    assert "Define entropy" in paper.questions[0].text or paper.questions[0].text


def test_marks_annotation_is_removed_from_the_text() -> None:
    paper = parse_text("1. Define entropy. [5 marks]")
    assert paper.questions[0].text == "Define entropy."


def test_a_mark_tag_wrapped_onto_the_next_line() -> None:
    paper = parse_text("Q1. Find the value of the integral below to two decimal places [1\nMark]\nQ2. Next. [2 Marks]")
    assert [q.marks for q in paper.questions] == [1, 2]


def test_question_marks_are_the_sum_of_its_parts() -> None:
    paper = parse_text(
        """
        1. (a) Define entropy. [2]
           (b) State Hess's law. [3]
        2. Next. [4]
        """
    )
    assert paper.questions[0].marks == 5
    assert [p.marks for p in paper.questions[0].parts] == [2, 3]


def test_extra_credit_parts_are_not_counted() -> None:
    paper = parse_text(
        """
        9). Consider the output below:
        a) (2) What does the F-statistic test?
        b) (2) What do you conclude?
        c) (3) Extra Credit: What's going on here?
        """
    )
    assert paper.questions[0].marks == 4


def test_marks_per_question_range_rule() -> None:
    paper = parse_text(
        """
        SECTION A
        Question numbers 1 to 2 carry 1 mark each.
        1. Define entropy.
        2. Define enthalpy.
        SECTION B
        Question numbers 3 to 4 carry 3 marks each.
        3. Derive the Clausius inequality.
        4. Explain the Carnot cycle.
        """
    )
    assert [q.marks for q in paper.questions] == [1, 1, 3, 3]
    assert [q.section for q in paper.questions] == ["SECTION A", "SECTION A", "SECTION B", "SECTION B"]


def test_marks_from_a_section_product_rule() -> None:
    paper = parse_text(
        """
        Part A: True/False (3 × 1 = 3 points)
        1. Entropy is a state function.
        2. Work is a state function.
        3. Heat is a path function.
        Part B: Short Answer (2 x 5 = 10 points)
        4. Define the Gibbs energy.
        5. Define the Helmholtz energy.
        """
    )
    assert [q.marks for q in paper.questions] == [1, 1, 1, 5, 5]
    assert [s.marks for s in paper.sections] == [3, 10]


def test_answer_any_rule_gives_each_questions_marks() -> None:
    paper = parse_text(
        """
        Part-B
        Answer any two questions.   2q x 5m = 10
        1. Explain A.
        2. Explain B.
        3. Explain C.
        """
    )
    assert [q.marks for q in paper.questions] == [5, 5, 5]


def test_one_question_under_a_n_times_m_rule_gets_the_total() -> None:
    paper = parse_text(
        """
        Section A:                                    5x2
        1. Identify the fallacies.
        (a) one
        (b) two
        """
    )
    assert paper.questions[0].marks == 10


def test_each_question_rule() -> None:
    paper = parse_text("Each question: 10 marks\n1. Derive A.\n2. Derive B.")
    assert [q.marks for q in paper.questions] == [10, 10]


def test_no_marks_printed_means_none() -> None:
    paper = parse_text("1. Define entropy.\n2. Define enthalpy.")
    assert [q.marks for q in paper.questions] == [None, None]


def test_total_marks_from_the_header() -> None:
    paper = parse_text("Physics    Maximum Marks : 70\n1. Define entropy.")
    assert paper.total_marks == 70


def test_right_column_marks_in_a_pdf() -> None:
    pdf = make_pdf([[
        "Answer all questions.",
        ("right", "1. Define entropy and state its SI unit.", "2"),
        ("right", "2. State the second law of thermodynamics in words.", "3"),
        "3. Derive the efficiency of a Carnot engine running between",
        ("right", "   two reservoirs at temperatures T1 and T2.", "5"),
        ("right", "4. Explain why a perpetual motion machine is impossible.", "2"),
    ]])
    paper = parse_document(pdf, "marks.pdf")
    assert [q.marks for q in paper.questions] == [2, 3, 5, 2]
    assert not paper.questions[0].text.endswith("2")


def test_numbers_at_the_right_of_a_table_are_not_marks() -> None:
    pdf = make_pdf([[
        "1. Find the mode of the following distribution:",
        ("right", "   Class 10-20  20-30  30-40", "40-50"),
        ("right", "   Frequency 5  8  12", "7"),
        "2. Find the median of the same distribution.",
        "3. Find the mean of the same distribution.",
        "4. Draw an ogive for the distribution.",
    ]])
    paper = parse_document(pdf, "table.pdf")
    assert [q.marks for q in paper.questions] == [None, None, None, None]


def test_a_bracketed_note_that_ends_with_marks_gives_the_questions_marks():
    from qagen.parsing.marks import trailing_marks

    assert trailing_marks("Routing protocols [Solve any two • 12 Marks]") == (12.0, "Routing protocols")
    assert trailing_marks("Explain TCP. (Answer any one, 5 marks)") == (5.0, "Explain TCP.")
    assert trailing_marks("Prove it (use 4 steps)") == (None, "Prove it (use 4 steps)")


def test_a_number_after_a_bar_at_the_end_of_a_scanned_line_is_the_marks_column():
    from qagen.parsing.marks import trailing_marks

    assert trailing_marks("heat is used to generate steam for | 2") == (2.0, "heat is used to generate steam for")
    assert trailing_marks("use the Routh-Hurwitz criterion | 1.5") == (1.5, "use the Routh-Hurwitz criterion")
    assert trailing_marks("evaluate x = |a - b| 2")[0] is None


def test_a_rules_factor_equal_to_the_number_of_questions_is_the_count_whichever_side_it_is_on():
    from qagen.parsing.assign import each_of

    assert each_of(1, 10, count=10) == 1  # '1 × 10 = 10' over ten questions
    assert each_of(10, 4, count=4) == 10  # '10 × 4 = 40' over four questions
    assert each_of(4, 5, count=6) == 5  # 'answer any four': 4 × 5 over six questions
    assert each_of(5, 2, count=5) == 2  # '5 × 2 = 10' over five questions, count first


def test_a_section_rule_written_marks_times_count_gives_each_question_its_marks():
    from tests.parsing.helpers import parse_text

    paper = parse_text("""
        Part-A (1x3=3M)
        1. Define RAM.
        2. Define ROM.
        3. Define cache.
        Part-B (10x2=20M)
        4. Explain paging.
        5. Explain segmentation.
    """)

    assert [q.marks for q in paper.questions] == [1, 1, 1, 10, 10]


def test_counts_of_questions_stated_in_words_give_each_run_its_marks():
    from tests.parsing.helpers import parse_text

    paper = parse_text("""
        Astronomy Exam 2
        This exam has four multiple-choice questions worth three points each, followed by
        two free-response questions worth 12 points each.
        1. Which planet is largest?
        2. Which planet is nearest the Sun?
        3. What is a light-year?
        4. What causes the seasons?
        5. Explain Kepler's second law.
        6. Describe how a star forms.
    """)

    assert [q.marks for q in paper.questions] == [3, 3, 3, 3, 12, 12]


def test_stated_counts_that_do_not_add_up_to_the_questions_found_are_not_used():
    from tests.parsing.helpers import parse_text

    paper = parse_text("""
        This exam has ten questions worth two points each.
        1. Which planet is largest?
        2. Which planet is nearest the Sun?
    """)

    assert [q.marks for q in paper.questions] == [None, None]


def test_a_choice_among_parts_of_equal_marks_counts_only_the_parts_chosen():
    from tests.parsing.helpers import parse_text

    paper = parse_text("""
        1. Attempt any two of the following.
        (a) Define a heap. [5]
        (b) Define a trie. [5]
        (c) Define a B-tree. [5]
        2. Define a graph. [5]
    """)

    assert [q.marks for q in paper.questions] == [10, 5]

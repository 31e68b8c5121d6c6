"""Several papers in one file: a header stating the time or the maximum marks after questions
have begun, followed by numbering from 1 again, starts a new paper (docs/parsing.md)."""

from __future__ import annotations

from qagen.parsing.papers import PAPER_HEADER

from tests.parsing.helpers import numbers, parse_text

TWO_TESTS = """
    Internal Test 1: Compiler Design
    Time: 1 hour                         Max. Marks: 15
    1. Define a token. [5]
    2. What is a regular expression? [5]
    3. Draw the phases of a compiler. [5]
    Internal Test 1: Cloud Computing
    Time: 1 hour                         Max. Marks: 20
    1. What is virtualisation? [10]
    2. Explain the service models of cloud computing. [10]
"""


def test_a_second_header_and_a_restart_begin_a_second_paper():
    paper = parse_text(TWO_TESTS)

    assert numbers(paper) == ["1", "2", "3", "1", "2"]
    assert [(p.title, p.first, p.count, p.total_marks) for p in paper.papers] == [
        ("Internal Test 1: Compiler Design", 0, 3, 15.0),
        ("Internal Test 1: Cloud Computing", 3, 2, 20.0),
    ]


def test_the_next_papers_header_is_not_part_of_the_last_question():
    paper = parse_text(TWO_TESTS)

    assert paper.questions[2].text == "Draw the phases of a compiler."
    assert paper.questions[2].marks == 5


def test_the_warnings_say_the_file_holds_several_papers_and_no_numbering_jump_is_reported():
    paper = parse_text(TWO_TESTS)

    assert "The file holds 2 papers; their questions are listed one paper after another." in paper.warnings
    assert not any("numbering" in w for w in paper.warnings)


def test_a_restart_without_a_header_is_one_paper():
    paper = parse_text("""
        Physics Test                    Max. Marks: 20
        SECTION A
        1. Define work. [2]
        2. Define power. [2]
        SECTION B
        1. Derive the work-energy theorem. [8]
        2. State the law of conservation of energy. [8]
    """)

    assert numbers(paper) == ["1", "2", "1", "2"]
    assert paper.papers == []


def test_header_lines_state_a_time_or_a_maximum():
    for line in ["Time: 3 hours   Max. Marks: 70", "Time allowed: 2 hours", "Duration: 90 min",
                 "Maximum Marks : 100", "Full Marks - 50", "Total marks: 60", "3 Hours"]:
        assert PAPER_HEADER.search(line), line
    for line in ["1. How much time does the ball take to fall?", "Marks are shown in brackets.",
                 "The total of the marks is shown."]:
        assert not PAPER_HEADER.search(line), line


def test_each_papers_title_is_the_line_that_names_its_examination():
    paper = parse_text("""
        City Engineering College
        Mid-Term Examination
        Maximum Marks: 10        Time allowed: 1 hour
        1. Define feedback. [5]
        2. What is a transfer function? [5]
        City Engineering College
        End-Term Examination
        Maximum Marks: 20        Time allowed: 2 hours
        1. State the Nyquist criterion. [10]
        2. Draw a Bode plot of 1/(s+1). [10]
    """)

    assert [p.title for p in paper.papers] == ["Mid-Term Examination", "End-Term Examination"]

"""A line that closes a question ('(Total for Question 5 is 3 marks)') finds the question the
numbering missed, and is never taken for page furniture."""

from __future__ import annotations

from qagen.documents.layout import remove_furniture
from qagen.documents.lines import Line, text_line
from qagen.parsing.closures import closures, fill_from_closures
from qagen.parsing.numbering import Candidate


def test_closing_lines_are_read_with_their_question_number():
    lines = [text_line(t) for t in ["1 Work out 3 + 4.", "(Total for Question 1 is 1 mark)", "x",
                                    "(Total for Question 2 is 12 marks)"]]

    assert closures(lines) == {1: 1, 2: 3}


def test_a_question_whose_number_was_missed_starts_after_the_close_of_the_one_before():
    texts = ["1 Work out 3 + 4.", "(Total for Question 1 is 1 mark)",
             "2", "[a diagram]", "The diagram shows a triangle. Find x.", "(Total for Question 2 is 3 marks)",
             "3 Expand (x + 1)(x + 2).", "(Total for Question 3 is 2 marks)"]
    lines = [text_line(t) for t in texts]
    chain = [Candidate(0, "bare", 1, "", "1", "Work out 3 + 4.", 0.0), Candidate(6, "bare", 3, "", "3", "Expand", 0.0)]

    found = fill_from_closures(chain, lines)

    assert [(c.value, c.index) for c in found] == [(1, 0), (2, 2), (3, 6)]


def test_no_question_is_invented_without_both_closes():
    lines = [text_line(t) for t in ["1 A.", "(Total for Question 1 is 1 mark)", "B.", "3 C.",
                                    "(Total for Question 3 is 1 mark)"]]
    chain = [Candidate(0, "bare", 1, "", "1", "A.", 0.0), Candidate(3, "bare", 3, "", "3", "C.", 0.0)]

    assert [c.value for c in fill_from_closures(chain, lines)] == [1, 3]


def test_a_question_total_at_the_foot_of_every_page_is_not_a_footer():
    def page(n: int) -> list[Line]:
        return [Line(f"{n} Question text number {n}.", page=n, top=0.2, bottom=0.22, positioned=True),
                Line(f"(Total for Question {n} is 4 marks)", page=n, top=0.9, bottom=0.92, positioned=True),
                Line("Turn over", page=n, top=0.95, bottom=0.97, positioned=True)]

    kept = remove_furniture([page(n) for n in range(1, 5)])

    assert all(any("Total for Question" in line.text for line in lines) for lines in kept)
    assert not any("Turn over" in line.text for lines in kept for line in lines)


def test_the_total_a_closing_line_states_is_the_questions_marks():
    from qagen.parsing import parse_document

    paper = parse_document((
        "1 (a) Work out 3 + 4. (1)\n"
        "(b) Work out 5 x 6. (1)\n"
        "(Total for Question 1 is 3 marks)\n"
        "2 Expand (x + 1)(x + 2). (2)\n"
        "(Total for Question 2 is 2 marks)\n"
    ).encode(), "paper.txt")

    assert [(q.number, q.marks) for q in paper.questions] == [("1", 3.0), ("2", 2.0)]

"""Inside a question: sub-parts (nested), MCQ options, OR alternatives, joined lines."""

from __future__ import annotations

from tests.parsing.helpers import parse_text


def test_subparts_nest_by_label_family() -> None:
    paper = parse_text(
        """
        1. Answer the following:
           (a) Define a reversible process.
           (b) Explain the following:
               (i) an isothermal process
               (ii) an adiabatic process
           (c) State the second law.
        2. Next question.
        """
    )
    q = paper.questions[0]
    assert q.text == "Answer the following:"
    assert [p.label for p in q.parts] == ["a", "b", "c"]
    assert [p.label for p in q.parts[1].parts] == ["i", "ii"]
    assert q.parts[1].parts[0].text == "an isothermal process"


def test_subparts_three_levels_deep() -> None:
    paper = parse_text(
        """
        1. (a) First part
              (i) first point
                 A. detail one, explained at length for the student
                 B. detail two, explained at length for the student
                 C. detail three, explained at length for the student
                 D. detail four, explained at length for the student
                 E. detail five, explained at length for the student
                 F. detail six, explained at length for the student
                 G. detail seven, explained at length for the student
              (ii) second point
           (b) Second part
        """
    )
    part_a = paper.questions[0].parts[0]
    assert [p.label for p in part_a.parts] == ["i", "ii"]
    assert [p.label for p in part_a.parts[0].parts][:2] == ["A", "B"]


def test_letter_i_after_h_is_a_letter_not_roman_one() -> None:
    lines = "\n".join(f"({ch}) Statement {ch} is true or false." for ch in "abcdefghij")
    paper = parse_text("1. State True or False:\n" + lines)
    assert [p.label for p in paper.questions[0].parts] == list("abcdefghij")


def test_inline_subparts_in_one_paragraph() -> None:
    paper = parse_text(
        "1. (6 points) (a) Find the change in internal energy. (b) Calculate the work done. "
        "(c) Show that TV^c is constant."
    )
    q = paper.questions[0]
    assert [p.label for p in q.parts] == ["a", "b", "c"]
    assert q.parts[1].text == "Calculate the work done."


def test_a_reference_to_a_part_is_not_a_new_part() -> None:
    paper = parse_text("1. (a) Prove the lemma.\n(b) Using the result of (a) above, prove the theorem.")
    assert [p.label for p in paper.questions[0].parts] == ["a", "b"]


def test_part_words_as_subparts() -> None:
    paper = parse_text(
        """
        Q1. Matrix Problem [10 marks]
        You are given a matrix.
        Part A [8 marks]
        Design an algorithm.
        Part B [2 marks]
        Analyse it.
        Q2. Graph Problem [5 marks]
        Prove it.
        """
    )
    q = paper.questions[0]
    assert [p.label for p in q.parts] == ["Part A", "Part B"]
    assert [p.marks for p in q.parts] == [8, 2]
    assert q.marks == 10


def test_mcq_options_on_one_line() -> None:
    paper = parse_text("1. Which is prime? (a) 4 (b) 6 (c) 7 (d) 9\n2. Next.")
    q = paper.questions[0]
    assert q.text == "Which is prime?"
    assert [(o.label, o.text) for o in q.options] == [("a", "4"), ("b", "6"), ("c", "7"), ("d", "9")]
    assert q.parts == []


def test_mcq_options_on_their_own_lines() -> None:
    paper = parse_text(
        """
        Q1. The dress ___ her so well. [1 Mark]
         (A) complemented
         (B) complimented
         (C) completed
         (D) competed
        Q2. Next.
        """
    )
    q = paper.questions[0]
    assert [o.label for o in q.options] == ["A", "B", "C", "D"]
    assert q.options[1].text == "complimented"
    assert q.marks == 1


def test_mcq_options_in_two_columns() -> None:
    paper = parse_text(
        """
        1. The mobility of the electrons in the conductor
           (A)  is doubled.           (B)  is halved.
           (C)  remains unchanged.    (D)  becomes four times.
        2. Next.
        """
    )
    assert [o.text for o in paper.questions[0].options] == [
        "is doubled.", "is halved.", "remains unchanged.", "becomes four times."
    ]


def test_or_between_whole_questions_makes_an_alternative() -> None:
    paper = parse_text(
        """
        4. Prove that the Carnot efficiency depends only on temperatures. [5]
                                   OR
           Derive the work done in an isothermal expansion. [5]
        5. Next question.
        """
    )
    q = paper.questions[0]
    assert len(paper.questions) == 2
    assert q.text.startswith("Prove that")
    assert [a.text for a in q.alternatives] == ["Derive the work done in an isothermal expansion."]
    assert q.alternatives[0].number == "4"
    assert q.marks == 5


def test_or_between_subparts_gives_an_alternative_part() -> None:
    paper = parse_text(
        """
        1. (a) Write a class. [2]
           (b) What is a destructor? [2]
                     OR
           (b) Explain polymorphism. [2]
           (c) Write a function. [4]
        """
    )
    q = paper.questions[0]
    assert [p.label for p in q.parts] == ["a", "b", "OR b", "c"]
    assert q.marks == 8  # the alternative is not counted twice


def test_or_after_the_whole_question_with_parts() -> None:
    paper = parse_text(
        """
        1. (a) Derive the lens formula. [3]
            (b) Find the focal length. [2]
                          OR
            (a) State Huygens' principle. [3]
            (b) Find the fringe width. [2]
        """
    )
    q = paper.questions[0]
    assert [p.label for p in q.parts] == ["a", "b"]
    assert len(q.alternatives) == 1
    assert [p.label for p in q.alternatives[0].parts] == ["a", "b"]
    assert q.marks == 5


def test_lettered_alternatives_a_or_b() -> None:
    paper = parse_text(
        """
        1. A) Write a letter placing an order for books.
            OR
            B) Write a letter cancelling the order.
        2. Next.
        """
    )
    q = paper.questions[0]
    assert q.text == "Write a letter placing an order for books."
    assert [a.text for a in q.alternatives] == ["Write a letter cancelling the order."]


def test_hindi_or_word_separates_alternatives() -> None:
    paper = parse_text("1. पहला प्रश्न लिखिए।\nअथवा\nदूसरा प्रश्न लिखिए।\n2. अगला प्रश्न।")
    assert len(paper.questions[0].alternatives) == 1


def test_wrapped_lines_are_joined_and_hyphenation_undone() -> None:
    paper = parse_text(
        """
        1. State the zeroth law of thermo-
           dynamics and explain its
           significance.
        2. Next.
        """
    )
    assert paper.questions[0].text == "State the zeroth law of thermodynamics and explain its significance."


def test_options_numbered_like_questions_are_options_not_questions() -> None:
    paper = parse_text(
        "\n".join(f"{n}. Which city is the capital of country {n}?\n1) Paris\n2) Rome\n3) Delhi\n4) Tokyo"
                  for n in range(1, 8))
    )
    assert [q.number for q in paper.questions] == [str(n) for n in range(1, 8)]
    assert [o.text for o in paper.questions[0].options] == ["Paris", "Rome", "Delhi", "Tokyo"]

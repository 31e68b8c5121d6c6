"""Every parse reports warnings a person can act on and a confidence (docs/parsing.md, "Checks")."""

from __future__ import annotations

from qagen.model import Paper, PaperInFile, Question
from qagen.parsing.checks import Findings, check

from tests.parsing.helpers import parse_text


def _paper(*numbers: str, marks: float | None = 2.0, section: str | None = None) -> Paper:
    return Paper(title="T", questions=[Question(number=n, text=f"Question {n}.", marks=marks, section=section)
                                       for n in numbers])


def test_a_clean_paper_has_high_confidence_and_no_warnings():
    assert check(_paper("1", "2", "3"), Findings()) == ([], "high")


def test_a_jump_in_the_numbering_names_the_missing_question_and_lowers_confidence():
    warnings, confidence = check(_paper("6", "7", "9"), Findings())

    assert warnings == ["The numbering jumps from 7 to 9: check whether question 8 is on the paper."]
    assert confidence == "low"


def test_numbering_that_starts_again_in_a_new_section_or_paper_is_not_a_jump():
    paper = _paper("1", "2")
    paper.questions += [Question(number="1", text="x", marks=2.0, section="B"),
                        Question(number="2", text="y", marks=2.0, section="B")]
    assert check(paper, Findings()) == ([], "high")

    two = _paper("1", "2", "5", "6")
    two.papers = [PaperInFile("Test 1", 0, 2), PaperInFile("Test 2", 2, 2)]
    warnings, confidence = check(two, Findings())
    assert not any("numbering" in w for w in warnings)
    assert confidence == "high"


def test_pages_read_with_ocr_are_named():
    warnings, confidence = check(_paper("1"), Findings(ocr_pages=[1, 3]))

    assert warnings == ["Pages 1 and 3 have no text layer and were read with OCR: check the questions' wording."]
    assert confidence == "medium"


def test_questions_without_text_or_marks_are_named():
    paper = _paper("1", "2", "3", "4", "5", "6")
    paper.questions[1].text = ""
    paper.questions[2].marks = None

    warnings, confidence = check(paper, Findings())

    assert any("No text was found for question 2" in w for w in warnings)
    assert "No marks were found for question 3." in warnings
    assert confidence == "medium"
    paper.questions[3].text = paper.questions[4].text = ""
    assert check(paper, Findings())[1] == "low"  # more than a fifth of the questions are empty


def test_a_parse_of_a_bilingual_paper_says_which_language_was_kept_as_translation():
    paper = parse_text("""
        1. वेग को परिभाषित कीजिए।
        1. Define velocity.
        2. जड़त्व क्या है?
        2. What is inertia?
    """)

    assert any("also in Hindi" in w for w in paper.warnings)


def test_a_parse_reports_a_jump_it_could_not_explain():
    paper = parse_text("""
        1. Define velocity.
        2. State Newton's first law.
        4. What is inertia?
        5. Define momentum.
    """)

    assert "The numbering jumps from 2 to 4: check whether question 3 is on the paper." in paper.warnings
    assert paper.confidence == "low"

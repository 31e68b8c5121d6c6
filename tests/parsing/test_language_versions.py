"""A paper printed in two languages gives each question once: the Latin-script text as the
question, the other language's text as its translation (docs/parsing.md, "Two languages")."""

from __future__ import annotations

from qagen.documents.lines import Line, text_line
from qagen.parsing.bilingual import leading_version
from qagen.parsing.gaps import fill_skipped_numbers
from qagen.parsing.languages import language_of, other_script_letters
from qagen.parsing.numbering import Candidate

from tests.parsing.helpers import numbers, parse_text


def test_each_question_printed_in_hindi_then_english_is_kept_once_with_its_translation():
    paper = parse_text("""
        Science Test
        1. निम्नलिखित में से कौन सा एक सदिश राशि है?
        1. Which of the following is a vector quantity?
        2. प्रकाश की चाल का मान लिखिए।
        2. Write the value of the speed of light.
        3. ओम का नियम लिखिए।
        3. State Ohm's law.
    """)

    assert numbers(paper) == ["1", "2", "3"]
    assert paper.questions[1].text == "Write the value of the speed of light."
    [translation] = paper.questions[1].translations
    assert translation.language == "Hindi"
    assert translation.text == "प्रकाश की चाल का मान लिखिए।"


def test_a_whole_second_copy_in_another_script_adds_no_questions():
    english = ["1. Define velocity.", "2. State Newton's first law.", "3. What is inertia?"]
    hindi = ["1. वेग को परिभाषित कीजिए।", "2. न्यूटन का प्रथम नियम लिखिए।", "3. जड़त्व क्या है?"]
    paper = parse_text("\n".join(["Physics", *english, *hindi]))

    assert numbers(paper) == ["1", "2", "3"]
    assert [q.text for q in paper.questions] == ["Define velocity.", "State Newton's first law.", "What is inertia?"]
    assert [t.text for t in paper.questions[2].translations] == ["जड़त्व क्या है?"]


def test_devanagari_numerals_number_the_same_question():
    paper = parse_text("""
        Physics
        १. वेग को परिभाषित कीजिए।
        २. न्यूटन का प्रथम नियम लिखिए।
        1. Define velocity.
        2. State Newton's first law.
    """)

    assert numbers(paper) == ["1", "2"]
    assert paper.questions[0].translations[0].text == "वेग को परिभाषित कीजिए।"


def test_a_paper_in_one_script_only_has_no_translations():
    paper = parse_text("""
        1. प्रेमचंद की किसी एक कहानी का सारांश लिखिए।
        2. कबीर के दोहों की विशेषताएँ बताइए।
    """)

    assert numbers(paper) == ["1", "2"]
    assert all(q.translations == [] for q in paper.questions)


def _lines(texts: list[str], foreign: dict[int, int] | None = None) -> list[Line]:
    lines = [text_line(t) for t in texts]
    for i, count in (foreign or {}).items():
        lines[i].foreign = count
    return lines


def test_the_english_version_begins_at_the_first_latin_sentence_after_a_foreign_opening():
    # Question 4 printed once: its Hindi version (in a font the reader drops, counted as
    # foreign) quotes a formula, then the English version follows.
    lines = _lines(["4.   x2 + 3x = 0", "", "Solve the equation x2 + 3x = 0.", "5. Next."], {0: 40, 1: 25})

    assert leading_version(lines, 0, 3) == 2


def test_formulas_alone_do_not_make_an_opening_foreign():
    lines = _lines(["4.   Evaluate the integral", "x2 + 3x", "Find the roots."])

    assert leading_version(lines, 0, 3) is None


def test_the_search_for_the_english_version_stops_at_an_or():
    lines = _lines(["7.   x = 2", "OR", "Prove that x = 2."], {0: 30})

    assert leading_version(lines, 0, 3) is None


def test_a_lone_greek_letter_is_maths_not_another_language():
    assert other_script_letters("For what value of λ is f continuous") == 0
    assert other_script_letters("Ποια είναι η ταχύτητα") > 10
    assert language_of("Ποια είναι η ταχύτητα") == "Greek"


def test_a_number_the_numbering_skipped_is_found_where_it_is_printed_alone():
    texts = ["21. Find the area.", "22   x = 1", "Solve the equation.", "23. Find the plane.",
             "24", "In answering a question ...", "25   2", "A manufacturer ...", "Notes: 26 pages"]
    lines = _lines(texts, {1: 40, 4: 50, 6: 60})
    chain = [Candidate(0, "num", 21, "", "21", "Find the area.", 0.0),
             Candidate(3, "num", 23, "", "23", "Find the plane.", 0.0)]

    found = fill_skipped_numbers(chain, lines)

    assert [(c.value, c.index) for c in found] == [(21, 0), (22, 1), (23, 3), (24, 4), (25, 6)]


def test_after_the_last_question_a_number_must_open_a_question():
    # '6 5' is a row of figures, not question 6: nothing foreign, no capitalised word.
    lines = _lines(["5. Find x.", "6   5   4", "7. Also."])
    chain = [Candidate(0, "num", 5, "", "5", "Find x.", 0.0)]

    assert [c.value for c in fill_skipped_numbers(chain, lines)] == [5]


def test_a_gap_is_filled_only_when_every_missing_number_is_printed():
    lines = _lines(["1. A.", "2   x", "4. D."])
    chain = [Candidate(0, "num", 1, "", "1", "A.", 0.0), Candidate(2, "num", 4, "", "4", "D.", 0.0)]

    assert [c.value for c in fill_skipped_numbers(chain, lines)] == [1, 4]


def _page(texts: list[str], page: int, foreign: int = 0) -> list[Line]:
    lines = [text_line(t, page=page) for t in texts]
    lines[0].page_top = True
    for line in lines:
        line.foreign = foreign
    return lines


def test_a_page_in_a_legacy_font_followed_by_its_english_page_gives_each_question_once():
    from qagen.parsing.segment import segment

    # The reader drops a legacy-font Hindi page's letters and counts them (Line.foreign);
    # its numbers and formulas remain.
    hindi = _page(["1.", "2.   x + 2 = 5", "3."], page=0, foreign=45)
    english = _page(["1. Define velocity.", "2. Solve x + 2 = 5.", "3. State Ohm's law."], page=1)

    paper = segment(hindi + english)

    assert paper is not None
    assert [q.number for q in paper.questions] == ["1", "2", "3"]
    assert paper.questions[1].text == "Solve x + 2 = 5."
    assert any("cannot be read" in w for w in paper.warnings)


def test_a_whole_paper_repeated_in_a_legacy_font_adds_no_questions():
    from qagen.parsing.segment import segment

    english = _page([f"{n}. Question {n} in English, with enough words to read." for n in range(1, 9)], page=0)
    repeat = _page([f"{n}." for n in range(1, 9)], page=1, foreign=60)

    paper = segment(english + repeat)

    assert paper is not None
    assert [q.number for q in paper.questions] == [str(n) for n in range(1, 9)]

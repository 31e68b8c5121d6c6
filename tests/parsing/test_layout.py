"""Page layout in PDFs: repeated headers/footers, page numbers, two-column pages, bilingual
duplicates, and the reading order of lines."""

from __future__ import annotations

from qagen.parsing import parse_document
from qagen.documents.columns import order_columns
from qagen.documents.layout import clean_pages
from qagen.documents.lines import Line, Segment
from qagen.parsing.segment import segment
from tests.parsing.helpers import make_pdf


def test_repeated_headers_footers_and_page_numbers_are_removed() -> None:
    pages = []
    for n in range(1, 4):
        pages.append([
            "Physics (Theory) 55/1/3",
            ("gap",),
            f"{n}. This is question {n}; it asks about the physics of",
            "   ideal gases under constant pressure.",
            ("footer", f"55/1/3    {n}", "P.T.O."),
        ])
    paper = parse_document(make_pdf(pages), "furniture.pdf")
    assert [q.number for q in paper.questions] == ["1", "2", "3"]
    for q in paper.questions:
        assert q.text.endswith("ideal gases under constant pressure.")
        assert "55/1/3" not in q.text and "P.T.O" not in q.text


def test_two_column_page_is_read_column_by_column() -> None:
    left = ["1. What is the output of", "   the first program?", "2. What does the second", "   function return?",
            "3. Which loop runs", "   forever?"]
    right = ["4. What is a pointer", "   to a pointer?", "5. Why is gets unsafe", "   in C programs?",
             "6. What does static", "   mean for a local?"]
    items: list = ["Computer Programming End Semester"]
    items += [("cols", a, b) for a, b in zip(left, right)]
    items += [("cols", f"   line {k} of the left code", f"   line {k} of the right code") for k in range(8)]
    paper = parse_document(make_pdf([items]), "columns.pdf")
    assert [q.number for q in paper.questions] == ["1", "2", "3", "4", "5", "6"]
    assert paper.questions[0].text == "What is the output of the first program?"
    assert paper.questions[3].text == "What is a pointer to a pointer?"


def _line(text: str, x0: float, top: float, x1: float | None = None) -> Line:
    x1 = x1 if x1 is not None else min(0.98, x0 + 0.012 * len(text))
    return Line(text=text, x0=x0, x1=x1, top=top, bottom=top + 0.015, height=0.015,
                segments=[Segment(x0, x1, text)], positioned=True)


def test_columns_that_each_continue_the_numbering_are_merged_in_number_order() -> None:
    # Left column holds 1, 2, 5; right column 3, 4, 6 (two multicolumn blocks on a page).
    lines = []
    for k, (left, right) in enumerate([("1. First question here", "3. Third question here"),
                                       ("   more of the first", "   more of the third"),
                                       ("2. Second question", "4. Fourth question"),
                                       ("   more of the second", "   more of the fourth"),
                                       ("5. Fifth question here", "6. Sixth question here"),
                                       ("   more of the fifth", "   more of the sixth"),
                                       ("   and the fifth", "   and the sixth")]):
        lines.append(_line(left, 0.06, 0.1 + 0.05 * k, 0.44))
        lines.append(_line(right, 0.54, 0.1 + 0.05 * k, 0.92))
    ordered = order_columns(lines)
    starts = [ln.text.split(".")[0] for ln in ordered if ln.text[0].isdigit()]
    assert starts == ["1", "2", "3", "4", "5", "6"]


def test_bilingual_duplicate_questions_keep_the_latin_version() -> None:
    # A Hindi block typeset in a legacy font (its characters dropped and counted as foreign)
    # precedes the English block with the same numbers.
    lines = [
        _line("1.", 0.05, 0.10), _line("(A)  (B)", 0.1, 0.12),
        _line("2.", 0.05, 0.15), _line("(A)  (B)", 0.1, 0.17),
        _line("1. The potential difference across a conductor is doubled.", 0.05, 0.30),
        _line("2. A charge is placed between the plates of a capacitor.", 0.05, 0.35),
    ]
    for line in lines[:4]:
        line.foreign = 60
    pages = clean_pages([lines])
    paper = segment(pages[0])
    assert paper is not None
    assert [q.text for q in paper.questions] == [
        "The potential difference across a conductor is doubled.",
        "A charge is placed between the plates of a capacitor.",
    ]


def test_lines_are_ordered_top_to_bottom_even_if_drawn_out_of_order() -> None:
    pdf = make_pdf([["2. Second question, drawn first?"]])  # one line only: trivial
    paper = parse_document(pdf, "one.pdf")
    assert [q.number for q in paper.questions] == ["2"]

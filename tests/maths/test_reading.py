"""Finding the maths in exam English."""

from __future__ import annotations

from qagen.maths.reading import spans, strip_label


def test_spans_find_the_maths_in_exam_english():
    assert spans("Solve for x: 2x + 3 = 11") == ["x", "2x + 3 = 11"]
    assert spans("Find dy/dx if y = 3x^2 + sin x") == ["y = 3x^2 + sin x"]
    assert spans("Solve 2x + y = 7 and x - y = 2") == ["2x + y = 7", "x - y = 2"]


def test_a_part_label_is_not_part_of_the_question():
    assert strip_label("(a) Differentiate f.") == "Differentiate f."

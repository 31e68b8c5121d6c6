"""A score as a percentage, a probability from counts, areas and perimeters, as school papers ask them."""

from __future__ import annotations

import pytest

from qagen.maths.solve import solve_question


def test_a_score_out_of_a_total_as_a_percentage():
    result = solve_question("Riya scored 42 marks out of 60 in a test. What percentage of the marks did she score?")

    assert result.final == "$70\\%$"


def test_a_probability_from_counts_of_kinds():
    result = solve_question("A bag contains 5 red, 3 blue and 2 green balls. One ball is drawn at random. "
                            "What is the probability that it is blue?")

    assert result.final == "$\\frac{3}{10}$" and "Total outcomes $= 5 + 3 + 2 = 10$" in result.markdown()


def test_area_and_perimeter_of_a_rectangle():
    result = solve_question("A rectangular garden is 25 m long and 18 m wide. Find its area and its perimeter.")

    assert result.final == "Area $= 450\\ \\text{m}^2$, perimeter $= 86\\ \\text{m}$"


def test_area_of_a_circle_from_its_diameter():
    result = solve_question("Find the area of a circle whose diameter is 14 cm.")

    assert result.final.startswith("Area $= 49 \\pi \\approx 153.938")


@pytest.mark.parametrize("question", [
    "Find the area of the shaded region in the figure.",  # no measures given
    "What is the probability of an event that is certain?",  # no counts
    "What percentage of the Earth is covered by water?",  # no score
])
def test_without_its_quantities_nothing_is_computed(question):
    result = solve_question(question)

    assert result is None or result.kind not in ("percentage", "probability", "mensuration")

"""Profit and loss per cent, simple and compound interest, as school papers ask them."""

from __future__ import annotations

import pytest

from qagen.maths.solve import solve_question


@pytest.mark.parametrize(("question", "final"), [
    ("A shopkeeper buys an article for ₹640 and sells it for ₹800. Find his profit per cent.", "Profit of $25\\%$"),
    ("A man bought a cycle for Rs. 1,200 and sold it for Rs. 1,080. Find his loss percentage.", "Loss of $10\\%$"),
    ("The cost price of a pen is $20 and its selling price is $25. Find the gain percent.", "Profit of $25\\%$"),
])
def test_profit_and_loss_per_cent(question, final):
    result = solve_question(question)

    assert result is not None and result.final == final


def test_simple_interest_and_amount():
    result = solve_question("Find the simple interest and the amount on ₹5000 at 8% per annum for 3 years.")

    assert result.final == "Simple interest $= 1200$, amount $= 6200$"
    assert "\\frac{P \\times R \\times T}{100}" in result.markdown()


def test_simple_interest_for_months_counts_them_as_part_of_a_year():
    result = solve_question("Calculate the simple interest on a sum of Rs 2400 at 5 per cent per annum for 6 months.")

    assert result.final == "Simple interest $= 60$"


def test_compound_interest_compounded_annually():
    result = solve_question("Find the compound interest on ₹10000 at 10% per annum for 2 years, compounded annually.")

    assert result.final == "Compound interest $= 2100$, amount $= 12100$"


@pytest.mark.parametrize("question", [
    "Explain what simple interest is.",
    "Find the profit per cent.",  # no prices given
    "Find the compound interest on ₹1000 at 5% per annum.",  # no time given
])
def test_without_its_quantities_it_is_not_computed(question):
    result = solve_question(question)

    assert result is None or result.kind not in ("profit-loss", "simple-interest", "compound-interest")

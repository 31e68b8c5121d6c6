"""Function plots: the expression is read by the shared restricted parser (tests/maths/test_expressions.py)
and sampled with numpy; a refused one is a ChartSpecError naming 'expression'."""

from __future__ import annotations

import time

import numpy as np
import pytest

from charts import ChartSpecError, parse_spec
from charts.function import MAX_FUNCTION_CHARS, sample
from qagen.maths.expressions import ExpressionError


def function(expression: str, x_min: float = -2, x_max: float = 2) -> dict:
    return {"kind": "function", "title": "", "x_label": "x", "y_label": "y", "expression": expression,
            "x_min": x_min, "x_max": x_max}


@pytest.mark.parametrize(("expression", "x", "expected"), [
    ("x**2 - 3*x", 4.0, 4.0),
    ("x^2 - 3x", 4.0, 4.0),  # ^ is power, 3x is 3*x
    ("2x(x+1)", 1.0, 4.0),
    ("sin(pi*x/2)", 1.0, 1.0),
    ("exp(-x^2/2)", 0.0, 1.0),
    ("sqrt(x) + abs(x - 5)", 4.0, 3.0),
    ("ln(x) + log10(x) + log(x, 2)", 1.0, 0.0),
    ("e^x", 1.0, np.e),
    ("5", 3.0, 5.0),
])
def test_allowed_expressions_are_evaluated_with_numpy(expression, x, expected):
    xs, ys = sample(expression, x, x + 1, samples=2)

    assert ys[0] == pytest.approx(expected)


def test_undefined_points_become_gaps_not_errors():
    xs, ys = sample("log(x)", -1, 1, samples=5)

    assert np.isnan(ys[0]) and np.isfinite(ys[-1])


HOSTILE = [  # the parser's full list is in tests/maths/test_expressions.py
    "__import__('os').system('x')",
    "x.__class__",
    "x.real",
    "(lambda: 1)()",
    "lambda x: x",
    "open('/etc/passwd')",
    "eval('1')",
    "[x for x in ()]",
    "x if x else 1",
    "'abc'",
    "x; import os",
    "x % 2",
    "x[0]",
    "1j * x",
    "Symbol('y')",
    "exec",
    "globals()",
]


@pytest.mark.parametrize("expression", HOSTILE)
def test_hostile_expressions_are_refused_in_the_spec(expression):
    with pytest.raises(ChartSpecError) as caught:
        parse_spec(function(expression))
    assert "'expression'" in str(caught.value)


@pytest.mark.parametrize("expression", ["9**9**9**9", "(9**9)**(9**9)", "10**400", "x**10**10", "2^2^2^2^2^2"])
def test_huge_powers_are_bounded_quickly(expression):
    started = time.perf_counter()
    try:
        xs, ys = sample(expression, -2, 2)
    except ExpressionError as exc:  # refused: too large to evaluate, or nothing finite to draw
        assert "too large" in str(exc) or "exponent above" in str(exc) or "finite" in str(exc)
    else:
        assert ys.shape == xs.shape
    assert time.perf_counter() - started < 2


def test_long_expressions_are_refused_without_parsing():
    started = time.perf_counter()
    with pytest.raises(ChartSpecError, match="at most 200"):
        parse_spec(function("x+" * 5000 + "x"))
    assert time.perf_counter() - started < 2  # refused before parsing: bounded, not a speed target


def test_deeply_nested_expressions_are_refused_or_parsed_quickly():
    text = "(" * (MAX_FUNCTION_CHARS // 2 - 1) + "x" + ")" * (MAX_FUNCTION_CHARS // 2 - 1)
    started = time.perf_counter()
    try:
        parse_spec(function(text))
    except ChartSpecError:
        pass
    assert time.perf_counter() - started < 2

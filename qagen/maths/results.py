"""A computation's result (steps and final answer) and the TeX helpers every solver handler writes with."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any


@dataclass
class MathResult:
    """Steps (Markdown, maths in $...$) and the final answer of one computation."""

    kind: str
    steps: list[str] = field(default_factory=list)
    final: str = ""
    values: list[Any] = field(default_factory=list)  # sympy values, for matching MCQ options
    failed: bool = False

    def markdown(self) -> str:
        if self.failed:
            return self.final
        lines = [f"{n}. {step}" for n, step in enumerate(self.steps, start=1)]
        lines.append(f"**Answer:** {self.final}")
        return "\n".join(lines)


def rational(value: Fraction) -> Any:
    """A Fraction as an exact sympy Rational (for MathResult.values)."""
    import sympy

    return sympy.Rational(value.numerator, value.denominator)


def plain_number(value: Fraction, places: int) -> str:
    """A Fraction as a reader writes it: a whole number as such, else a decimal rounded to
    `places` places with trailing zeros dropped ("12.5", not "12.50")."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.{places}f}".rstrip("0").rstrip(".")


def tex(expr: Any) -> str:
    import sympy

    return sympy.latex(expr)


def decimal_note(value: Any) -> str:
    """' $\\approx 1.41421$' for an exact non-integer number, else ''."""
    import sympy

    if value.free_symbols or value.is_Integer or not value.is_number:
        return ""
    try:
        number = sympy.N(value, 6)
    except (TypeError, ValueError):
        return ""
    return f" $\\approx {number}$" if number.is_real else ""


def decimals_note(values: list[Any]) -> str:
    parts = [decimal_note(v) for v in values]
    if all(not p for p in parts):
        return ""
    return " (" + ", ".join(p.strip() for p in parts if p) + ")"

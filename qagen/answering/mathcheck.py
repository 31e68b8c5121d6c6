"""A model's answer to a pure computation, checked against sympy's exact result.

A language model can state a wrong number fluently. When sympy can work a question out
(the offline engine's solver), each value it finds must appear in the model's answer:
as a number (to 4 significant figures) or as an expression equal to it. A missing value
is flagged on the answer for the teacher; agreement is noted too.
"""

from __future__ import annotations

import re
from typing import Any

from qagen.maths.expressions import ExpressionError, parse, run_with_budget
from qagen.maths.reading import candidates
from qagen.maths.solve import solve_question
from qagen.model import Answer

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?")


def _stated(text: str) -> list[Any]:
    """Numbers and expressions the answer states, parsed (unparseable spans are skipped)."""
    plain = text.replace("$", " ").replace("\\frac", " ").replace("**", " ")
    found: list[Any] = []
    for span in [*(m.group().replace(",", "") for m in _NUMBER.finditer(plain)), *candidates(plain)]:
        for side in span.split("="):
            try:
                found.append(parse(side.strip()))
            except (ExpressionError, ValueError, TypeError):
                continue
    return found


def _equal(expected: Any, stated: Any) -> bool:
    try:
        if expected.is_number and stated.is_number:
            a, b = complex(expected.evalf()), complex(stated.evalf())
            return abs(a - b) <= 5e-4 * max(1.0, abs(a))
        return (expected - stated).simplify() == 0
    except (AttributeError, TypeError, ValueError):
        return False


def check_answer(question: str, context: str, answer: Answer, budget_seconds: float = 3.0) -> Answer:
    """Add a note saying whether sympy agrees with the answer; unchanged when sympy cannot compute it."""
    result = solve_question(question, context)
    if result is None or result.failed or not result.values:
        return answer

    def all_found() -> bool:
        stated = _stated(answer.text)
        return all(any(_equal(value, s) for s in stated) for value in result.values)

    try:
        agrees = run_with_budget(all_found, budget_seconds)
    except Exception:  # a check that cannot finish must not cost the answer
        return answer
    values = ", ".join(str(value).replace("**", "^") for value in result.values)
    if agrees:
        answer.notes.append(f"Checked with sympy: agrees ({values}).")
    else:
        answer.notes.append(f"Check this answer: sympy computes {values}, which the answer does not state.")
    return answer

"""y = f(x) for a function plot: the expression read by the one restricted parser, then sampled with numpy.

The text goes through `qagen.maths.expressions.parse` with `x` as its only variable and at
most `MAX_FUNCTION_CHARS` characters (see there for every check: allowed characters,
names and operators, work bombs, the time budget); it is never run as Python. `lambdify`
prints every integer as a float, so a large constant overflows to inf at once instead of
computing a huge integer, and the function is evaluated on a bounded number of points.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from qagen.maths.expressions import DEFAULT_BUDGET_SECONDS, ExpressionError, MathTimeout, parse

MAX_FUNCTION_CHARS = 200
SAMPLES = 400
VARIABLE = "x"


@functools.lru_cache(maxsize=128)
def compile_function(text: str) -> Callable[[Any], Any]:
    """A numpy function of x for `text`; raises ExpressionError for anything unsafe or malformed."""
    import sympy
    from sympy.printing.numpy import NumPyPrinter

    class FloatPrinter(NumPyPrinter):
        """Integers become floats, so constant powers overflow instead of computing huge integers."""

        def _print_Integer(self, expr):  # noqa: N802 (sympy's name)
            return repr(float(expr.p)) if abs(expr.p) < 10**300 else "inf"

    try:
        expr = parse(text, variables=(VARIABLE,), max_chars=MAX_FUNCTION_CHARS)
    except MathTimeout:
        raise ExpressionError(f"could not be read within {DEFAULT_BUDGET_SECONDS:g} s") from None
    x = sympy.Symbol(VARIABLE, real=True)  # the symbol `parse` gives a named variable
    try:
        return sympy.lambdify(x, expr, "numpy", printer=FloatPrinter({"fully_qualified_modules": False}))
    except Exception as exc:
        raise ExpressionError(f"could not be compiled ({type(exc).__name__})") from None


def sample(text: str, x_min: float, x_max: float, samples: int = SAMPLES):
    """(xs, ys) on `samples` points; undefined points are NaN. Raises ExpressionError if nothing is finite."""
    import numpy as np

    function = compile_function(text)
    xs = np.linspace(x_min, x_max, samples)
    with np.errstate(all="ignore"):
        try:
            ys = function(xs)
        except (OverflowError, ZeroDivisionError, FloatingPointError):
            ys = np.full_like(xs, np.nan)
        except Exception as exc:
            raise ExpressionError(f"could not be evaluated ({type(exc).__name__})") from None
        ys = np.asarray(ys)
        if np.iscomplexobj(ys):
            ys = np.where(np.abs(ys.imag) < 1e-12, ys.real, np.nan)
        try:
            ys = np.broadcast_to(ys.astype(float), xs.shape).copy()
        except (TypeError, ValueError):
            raise ExpressionError("does not give a number for each x") from None
    ys[~np.isfinite(ys)] = np.nan
    if not np.isfinite(ys).any():
        raise ExpressionError(f"has no finite value between x_min={x_min:g} and x_max={x_max:g}")
    return xs, ys

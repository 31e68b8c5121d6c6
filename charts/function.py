"""Function expressions such as "x**2 - 3*x" parsed safely with sympy, never run as Python.

The text is checked token by token first: only the variable `x`, a short list of maths
functions and constants, numbers and the operators + - * / ** ^ ( ) , may appear. Only
then does sympy's `parse_expr` see it, with `evaluate=False` (so "9**9**9**9" is never
computed as an integer) and a namespace holding nothing but those names. `lambdify`
prints every integer as a float, so constant towers overflow at once instead of running
for ever, and the function is evaluated on a bounded number of sample points.
"""

from __future__ import annotations

import functools
import io
import re
import tokenize
from typing import Any, Callable

MAX_EXPRESSION_CHARS = 200
SAMPLES = 400

# Names the model may use, mapped to sympy names (resolved lazily so importing charts stays cheap).
FUNCTIONS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
    "asin": "asin", "acos": "acos", "atan": "atan", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "exp": "exp", "log": "log", "ln": "log", "log10": "log10", "log2": "log2", "sqrt": "sqrt",
    "abs": "Abs", "Abs": "Abs",
    "floor": "floor", "ceil": "ceiling", "ceiling": "ceiling", "sign": "sign",
}
CONSTANTS = {"pi": "pi", "e": "E", "E": "E"}
VARIABLE = "x"
_OPERATORS = {"+", "-", "*", "/", "**", "^", "(", ")", ","}
_ATTRIBUTE = re.compile(r"\.\s*[A-Za-z_]")


class ExpressionError(ValueError):
    """The expression is not a safe, well-formed function of x."""


def check_tokens(text: str) -> None:
    """Refuse anything but x, known functions and constants, numbers and arithmetic."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"is {len(text)} characters long; at most {MAX_EXPRESSION_CHARS} are allowed")
    if not text.strip():
        raise ExpressionError("is empty")
    if "__" in text:
        raise ExpressionError("may not contain '__'")
    if _ATTRIBUTE.search(text):
        raise ExpressionError("may not use attribute access ('.name')")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise ExpressionError(f"could not be read ({exc.args[0] if exc.args else exc})") from None
    depth = 0
    for token in tokens:
        kind, value = token.type, token.string
        if kind in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
            continue
        if kind == tokenize.NAME:
            if value == "lambda":
                raise ExpressionError("may not contain 'lambda'")
            if value != VARIABLE and value not in FUNCTIONS and value not in CONSTANTS:
                raise ExpressionError(f"uses unknown name {value!r}; only x, pi, e and the functions "
                                      f"{', '.join(sorted(FUNCTIONS))} are allowed")
        elif kind == tokenize.NUMBER:
            if value[-1] in "jJ":
                raise ExpressionError(f"may not use the imaginary number {value!r}")
        elif kind == tokenize.OP and value in _OPERATORS:
            depth += value == "("
            depth -= value == ")"
            if depth < 0:
                raise ExpressionError("has a ')' without a matching '('")
        else:
            raise ExpressionError(f"may not contain {value!r}")
    if depth:
        raise ExpressionError("has unbalanced parentheses")


@functools.lru_cache(maxsize=128)
def compile_expression(text: str) -> Callable[[Any], Any]:
    """A numpy function of x for `text`; raises ExpressionError for anything unsafe or malformed."""
    check_tokens(text)
    text = " ".join(text.split())
    import sympy
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication,
        parse_expr,
        standard_transformations,
    )
    from sympy.printing.numpy import NumPyPrinter

    class FloatPrinter(NumPyPrinter):
        """Integers become floats, so constant powers overflow instead of computing huge integers."""

        def _print_Integer(self, expr):  # noqa: N802 (sympy's name)
            return repr(float(expr.p)) if abs(expr.p) < 10**300 else "inf"

    x = sympy.Symbol(VARIABLE, real=True)
    namespace: dict[str, Any] = {"__builtins__": {}}
    for name in ("Integer", "Float", "Rational", "Symbol", "Add", "Mul", "Pow"):
        namespace[name] = getattr(sympy, name)
    local = {VARIABLE: x}
    local.update({name: _sympy_function(sympy, target) for name, target in FUNCTIONS.items()})
    local.update({name: getattr(sympy, target) for name, target in CONSTANTS.items()})
    try:
        expr = parse_expr(text, local_dict=local, global_dict=namespace, evaluate=False,
                          transformations=standard_transformations + (implicit_multiplication, convert_xor))
    except Exception as exc:  # sympy raises many kinds for malformed input
        raise ExpressionError(f"could not be parsed ({type(exc).__name__})") from None
    if not isinstance(expr, sympy.Expr):
        raise ExpressionError("is not a single expression in x")
    extra = {str(s) for s in expr.free_symbols} - {VARIABLE}
    if extra:
        raise ExpressionError(f"uses unknown symbols {sorted(extra)}")
    try:
        return sympy.lambdify(x, expr, "numpy", printer=FloatPrinter({"fully_qualified_modules": False}))
    except Exception as exc:
        raise ExpressionError(f"could not be compiled ({type(exc).__name__})") from None


def _sympy_function(sympy, name: str):
    """sympy's function `name`; logarithms also take a base (log(x, 2)), and log10/log2 exist."""
    if name in ("log", "log10", "log2"):
        fixed = {"log": None, "log10": 10, "log2": 2}[name]

        def log(argument, base=None, **_ignored):
            base = fixed if base is None else base
            if base is None:
                return sympy.log(argument, evaluate=False)
            return sympy.Mul(sympy.log(argument, evaluate=False),
                             sympy.Pow(sympy.log(base, evaluate=False), -1, evaluate=False), evaluate=False)

        return log
    return getattr(sympy, name)


def sample(text: str, x_min: float, x_max: float, samples: int = SAMPLES):
    """(xs, ys) on `samples` points; undefined points are NaN. Raises ExpressionError if nothing is finite."""
    import numpy as np

    function = compile_expression(text)
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

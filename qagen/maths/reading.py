"""Reading the maths in exam English: its spans, the expression a question is about, its variable.

    spans("Solve for x: 2x + 3 = 11")      # ["x", "2x + 3 = 11"]
    find_expression("Differentiate f(x) = x^3 + 2x.", "")   # x**3 + 2*x

Every expression found is parsed by `qagen.maths.expressions.parse` (no eval, bounded work).
"""

from __future__ import annotations

import re
from typing import Any

from qagen.maths.expressions import FUNCTIONS, ExpressionError, ExpressionSyntaxError, normalise, parse

_TOKEN = re.compile(r"\s+|\d+(?:\.\d+)?|[A-Za-z_][A-Za-z_0-9]*|\*\*|[-+*/^=<>!(),]|.", re.S)
_MATH_WORDS = set(FUNCTIONS) | {"pi", "e", "oo", "lambda_", "theta", "alpha", "beta", "mu", "sigma", "phi", "omega"}

_LABEL = re.compile(r"^\s*(?:Q(?:uestion)?\.?\s*\d+[a-z]?\s*[.):]?|\(\s*(?:[a-z]|[ivx]{1,4}|\d{1,2})\s*\)|"
                    r"(?:[a-z]|[ivx]{1,4}|\d{1,2})\s*[.)])\s+", re.I)

UNKNOWN_CALL = re.compile(r"(?<![A-Za-z])[fghpquvFGHPQ]\s*\(")  # f(1), p(x + h): an unknown function applied
FUNCTION_LHS = re.compile(r"^\s*(?:[A-Za-z]\s*\(\s*[A-Za-z]\s*\)|[a-zA-Z])\s*$")  # "f(x)" or "y" before '='


def _mathy(token: str) -> bool:
    if token[0].isdigit() or token in "+-*/^=<>!()" or token == "**":
        return True
    if token[0].isalpha() or token[0] == "_":
        return token in _MATH_WORDS or bool(re.fullmatch(r"[A-Za-z](_?\d{1,2})?", token))
    return False


def spans(text: str) -> list[str]:
    """Maximal runs of maths-looking tokens in `text` (commas only inside brackets).

    "Solve for x: 2x + 3 = 11" -> ["x", "2x + 3 = 11"]; English words of two or more
    letters end a run unless they are maths words (sin, log, pi, ...).
    """
    text = normalise(text)
    out: list[str] = []
    current: list[str] = []
    depth = 0

    def close() -> None:
        nonlocal current, depth
        span = "".join(current).strip()
        current, depth = [], 0
        span = span.strip(" ,")
        while span and span[0] in "*/^=),":
            span = span[1:].strip()
        while span and span[-1] in "+-*/^=(,":
            span = span[:-1].strip()
        if span:
            out.append(span)

    for token in _TOKEN.findall(text):
        if token.isspace():
            if current:
                current.append(" ")
            continue
        if token == "," and depth > 0:
            current.append(token)
            continue
        if token == "." and current and current[-1][-1:].isdigit():  # "3." at a sentence end
            close()
            continue
        if _mathy(token):
            depth += token == "("
            depth -= token == ")"
            current.append(token)
        else:
            close()
    close()
    return out


def is_expression_like(span: str) -> bool:
    """Worth parsing: has an operator or a digit next to a letter, and some digit or letter."""
    if not re.search(r"[A-Za-z0-9]", span):
        return False
    return bool(re.search(r"[-+*/^=!()]", span) or re.search(r"\d[A-Za-z]|[A-Za-z]\d", span))


def strip_label(text: str) -> str:
    """'(a) Differentiate f.' -> 'Differentiate f.' (a part label is not part of the question)."""
    return _LABEL.sub("", text, count=1)


def _ocr_powers(span: str) -> str:
    """'2x2 - 4x + 3' (a text layer's x²) -> '2x^2 - 4x + 3', when only one such token occurs."""
    tokens = set(re.findall(r"(?<![A-Za-z_^])([a-z])([23])(?![\d.])", span))
    return re.sub(r"(?<![A-Za-z_^])([a-z])([23])(?![\d.])", r"\1^\2", span) if len(tokens) == 1 else span


def candidates(text: str) -> list[str]:
    """The spans of `text` worth parsing as maths."""
    return [_ocr_powers(s) for s in spans(text) if is_expression_like(s)]


def find_expression(text: str, context: str) -> Any | None:
    """The function or expression a calculus/algebra question is about ('f(x) = ...' -> its right side)."""
    refused: ExpressionError | None = None
    for source in (text, context):
        found = []
        for span in candidates(source):
            if span.count("=") == 1:
                left, right = span.split("=")
                if FUNCTION_LHS.match(left) and right.strip():
                    defined = parse(right)
                    if defined.free_symbols:  # "h = 0.1" gives a value, not a function
                        return defined
                continue
            if "=" not in span and not FUNCTION_LHS.match(span) and not UNKNOWN_CALL.search(span):
                found.append(span)  # ("f(x)" alone names a function; "f(x + h) - f(x)" uses an unknown one)
        for span in sorted(found, key=len, reverse=True):
            try:
                expr = parse(span)
            except ExpressionSyntaxError:
                continue
            except ExpressionError as exc:
                refused = refused or exc
                continue
            if expr.is_Symbol or expr.is_Atom and not re.search(r"[-+*/^!]", span):
                continue  # "(a)" is a part label, "f" a name: not the expression
            if expr.free_symbols or source is text:
                return expr
    if refused is not None:
        raise refused  # the question's expression exists but is refused: say so, do not skip it
    return None


def pick_variable(lower: str, expr: Any, default: str = "x") -> Any:
    """The variable a question works in: named ("with respect to t", "dy/dt"), the only one, or `default`."""
    import sympy

    match = (re.search(r"with respect to\s+([a-z])\b", lower) or re.search(r"\bd\s*[a-z]?\s*/\s*d([a-z])\b", lower)
             or re.search(r"\bw\.?\s*r\.?\s*t\.?\s+([a-z])\b", lower))
    if match:
        return sympy.Symbol(match.group(1))
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if len(symbols) == 1:
        return symbols[0]
    return next((s for s in symbols if s.name == default), sympy.Symbol(default))

"""Calculus questions for the offline solver: derivatives, integrals and limits, with steps.

Each handler takes (text, lower-cased text, parent context) and returns a `MathResult` or
None when the question is not of its kind. They run inside `solve`'s time budget.
"""

from __future__ import annotations

import re
from typing import Any

from qagen.maths.expressions import normalise, parse
from qagen.maths.reading import find_expression, pick_variable
from qagen.maths.results import MathResult, decimal_note, tex

_COMMAND = r"\b(?:find|obtain|calculate|compute|evaluate|determine|work out|what is|write down|give)\b[^.?;]*"
_DERIVATIVE = re.compile(r"\bdifferentiate\b|" + _COMMAND +
                         r"(?:derivative|\bd\s*/\s*d[a-z]\b|\bd[a-z]\s*/\s*d[a-z]\b|\b[a-z]\s*'\s*\()")
_AT_POINT = re.compile(r"\b(?:at|when|for)\s+([a-z])\s*=\s*(-?[\d./]+|pi(?:/\d+)?)")


def derivative_question(text: str, lower: str, context: str) -> MathResult | None:
    import sympy

    if not _DERIVATIVE.search(lower):
        return None
    point = _AT_POINT.search(text)
    body = _AT_POINT.sub(" ", text) if point else text
    body = re.sub(r"\bd\s*[a-z]?\s*/\s*d[a-z]\b|\bd\^?2\s*[a-z]\s*/\s*d[a-z]\^?2", " ", body)
    expr = find_expression(body, context)
    if expr is None:
        return None
    var = pick_variable(lower, expr)
    order = 2 if re.search(r"second (order )?derivative|d\^?2\s*[a-z]?\s*/\s*d[a-z]\^?2|[a-z]\s*''\s*\(", lower) else 1
    result = MathResult("derivative")
    dvar = tex(var)
    d = f"\\frac{{d}}{{d{dvar}}}" if order == 1 else f"\\frac{{d^2}}{{d{dvar}^2}}"
    if expr.is_Add:
        result.steps.append("Differentiate term by term:")
        for term in sympy.Add.make_args(expr):
            result.steps.append(f"$\\frac{{d}}{{d{dvar}}}\\left({tex(term)}\\right) = {tex(sympy.diff(term, var))}$")
    elif expr.is_Mul and len([a for a in expr.args if a.has(var)]) > 1:
        result.steps.append("Use the product rule $(uv)' = u'v + uv'$.")
    elif expr.is_Pow and expr.exp.is_negative and expr.base.has(var):
        result.steps.append("Use the power rule (with the chain rule) on the reciprocal.")
    elif any(a.has(var) and not a.is_Symbol for a in getattr(expr, "args", ())):
        result.steps.append("Use the chain rule: differentiate the outer function, then multiply by the inner derivative.")
    first = _tidy(sympy.diff(expr, var))
    derivative = first if order == 1 else _tidy(sympy.diff(first, var))
    if order == 2:
        result.steps.append(f"First derivative: $\\frac{{d}}{{d{dvar}}}\\left({tex(expr)}\\right) = {tex(first)}$")
        result.steps.append(f"Differentiate again: $\\frac{{d}}{{d{dvar}}}\\left({tex(first)}\\right) = {tex(derivative)}$")
    else:
        result.steps.append(f"${d}\\left({tex(expr)}\\right) = {tex(derivative)}$")
    result.final = f"${d}\\left({tex(expr)}\\right) = {tex(derivative)}$"
    result.values = [derivative]
    if point:
        value = sympy.nsimplify(parse(point.group(2)))
        at = sympy.simplify(derivative.subs(sympy.Symbol(point.group(1)), value))
        result.steps.append(f"At ${point.group(1)} = {tex(value)}$: ${tex(derivative)} = {tex(at)}$")
        result.final += f"; at ${point.group(1)} = {tex(value)}$ it equals ${tex(at)}$"
        result.values = [at]
    return result


_INTEGRAL = re.compile(r"\bintegrate\b|" + _COMMAND + r"(?:integral|antiderivative|anti-derivative|∫)")
_LIMITS = (
    re.compile(r"\bfrom\s+([a-z]\s*=\s*)?(?P<a>-?[\w./^()]+)\s+to\s+([a-z]\s*=\s*)?(?P<b>-?[\w./^()]+)"),
    re.compile(r"\bbetween\s+([a-z]\s*=\s*)?(?P<a>-?[\w./^()]+)\s+and\s+([a-z]\s*=\s*)?(?P<b>-?[\w./^()]+)"),
    re.compile(r"\blimits?\s+(?P<a>-?[\w./^()]+)\s+(?:and|to)\s+(?P<b>-?[\w./^()]+)"),
)


def _tidy(expr: Any) -> Any:
    """The simpler of an expression and its `simplify`d form (keeps 2x sin x + x^2 cos x as is)."""
    import sympy

    simpler = sympy.simplify(expr)
    return simpler if sympy.count_ops(simpler) < 0.7 * sympy.count_ops(expr) else expr


def integral_question(text: str, lower: str, context: str) -> MathResult | None:
    import sympy

    if not _INTEGRAL.search(lower):
        return None
    bounds = None
    body = text.replace("∫", " ")
    for pattern in _LIMITS:
        match = pattern.search(body)
        if match:
            bounds = (parse(match.group("a").rstrip(".,")), parse(match.group("b").rstrip(".,")))
            body = body[: match.start()] + " " + body[match.end():]
            break
    body = re.sub(r"\bd([a-z])\b", " ", body)
    expr = find_expression(body, context)
    if expr is None:
        return None
    var = pick_variable(lower, expr)
    result = MathResult("integral")
    if expr.is_Add:
        result.steps.append("Integrate term by term:")
        for term in sympy.Add.make_args(expr):
            result.steps.append(f"$\\int {tex(term)}\\,d{tex(var)} = {tex(sympy.integrate(term, var))}$")
    antiderivative = sympy.integrate(expr, var)
    if antiderivative.has(sympy.Integral):
        return MathResult("integral", failed=True, final=(
            f"The offline solver found no closed form for $\\int {tex(expr)}\\,d{tex(var)}$."))
    if bounds is None:
        result.final = f"$\\int {tex(expr)}\\,d{tex(var)} = {tex(antiderivative)} + C$"
        result.steps.append(result.final)
        result.values = [antiderivative]
        return result
    a, b = bounds
    upper, lower_value = sympy.simplify(antiderivative.subs(var, b)), sympy.simplify(antiderivative.subs(var, a))
    value = sympy.simplify(upper - lower_value)
    result.steps.append(f"An antiderivative is $F({tex(var)}) = {tex(antiderivative)}$.")
    result.steps.append(f"$F({tex(b)}) - F({tex(a)}) = {tex(upper)} - \\left({tex(lower_value)}\\right) = {tex(value)}$")
    result.final = f"$\\int_{{{tex(a)}}}^{{{tex(b)}}} {tex(expr)}\\,d{tex(var)} = {tex(value)}$" + decimal_note(value)
    result.values = [value]
    return result


_LIMIT = re.compile(r"\blim(?:it)?\b.*?\bas\s+([a-z])\s*(?:->|→|tends to|approaches|goes to)\s*(-?[\w./^]+|infinity|oo)")


_LIMIT_SHORT = re.compile(r"\blim(?:it)?\s*_?\{?\s*([a-z])\s*->\s*(-?[\w./^]+|infinity|oo)\s*\}?\s*(?:of\s+)?")


def limit_question(text: str, lower: str, context: str) -> MathResult | None:
    import sympy

    arrow = normalise(text).replace("→", "->")
    short = _LIMIT_SHORT.search(arrow)
    if short:
        match, body = short, arrow[short.end():]
    else:
        match = _LIMIT.search(arrow.lower())
        if not match:
            return None
        body = arrow[: match.start(1) - 3] if match.start(1) > 3 else arrow
        body = re.sub(r"\blim(it)?\b", " ", body, flags=re.I)
    expr = find_expression(body, context)
    if expr is None:
        return None
    var, point = sympy.Symbol(match.group(1)), parse(match.group(2).replace("infinity", "oo"))
    value = sympy.limit(expr, var, point)
    final = f"$\\lim_{{{tex(var)} \\to {tex(point)}}} {tex(expr)} = {tex(value)}$"
    return MathResult("limit", steps=[final], final=final, values=[value])

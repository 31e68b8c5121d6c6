"""Exact answers to computational exam questions, with steps (sympy; used by the offline engine).

    result = solve_question("Solve for x: 2x + 3 = 11")
    result.markdown()   # numbered steps, then "**Answer:** $x = 4$"

Recognised (plain exam English): equations and systems ("solve", "roots", "zeros",
"nature of roots"), derivatives (incl. dy/dx, second derivative, value at a point),
integrals (indefinite and "from a to b"), limits, factorise/expand/simplify, arithmetic,
percentages, profit and loss per cent, simple and compound interest (`commerce`), a score
as a percentage, probability from counts, areas and perimeters (`everyday`), HCF/LCM,
average speed, statistics of a data list, and matrices
(determinant, inverse, product, transpose, eigenvalues; see `data`). Everything runs in
one worker thread under a time budget; the input is parsed by `expressions` (no eval of
Python, bounded work). Returns None when the question is not recognised as computational,
and a result with `failed=True` when it is but the expression is refused or too hard.
"""

from __future__ import annotations

import re
from typing import Any

from qagen.maths import calculus, commerce, data, everyday
from qagen.maths.expressions import (
    DEFAULT_BUDGET_SECONDS,
    FUNCTIONS,
    ExpressionError,
    ExpressionSyntaxError,
    MathTimeout,
    normalise,
    parse,
    parse_relation,
    run_with_budget,
)
from qagen.maths.reading import FUNCTION_LHS, UNKNOWN_CALL, candidates, find_expression, pick_variable, strip_label
from qagen.maths.results import MathResult, decimal_note, decimals_note, tex

MAX_SOLVE_DEGREE = 6


def solve_question(question: str, context: str = "", *, budget: float = DEFAULT_BUDGET_SECONDS) -> MathResult | None:
    """The worked answer to a computational question, or None if it is not one."""
    text = strip_label(normalise(question or ""))
    if not text.strip():
        return None
    try:
        return run_with_budget(lambda: _dispatch(text, normalise(context or "")), budget)
    except MathTimeout:
        return MathResult("timeout", failed=True, final=(
            f"The offline solver stopped after {budget:g} s without finishing this computation; "
            "it needs a person or a language model to work it out."))
    except ExpressionSyntaxError:
        return None  # not readable as maths: not a computation this solver recognises
    except ExpressionError as exc:
        return MathResult("refused", failed=True, final=f"The offline solver could not work this out: the expression {exc}.")


def _dispatch(text: str, context: str) -> MathResult | None:
    lower = text.lower()
    for handler in (data.matrix_question, data.speed_question, commerce.profit_loss_question, commerce.interest_question,
                    everyday.score_percentage_question, everyday.probability_from_counts_question,
                    everyday.area_perimeter_question, data.hcf_lcm_question,
                    data.statistics_question, calculus.derivative_question, calculus.integral_question,
                    calculus.limit_question, _transform, _solve, data.percentage_question, _arithmetic):
        result = handler(text, lower, context)
        if result is not None:
            return result
    return None


# --- algebra -------------------------------------------------------------------------------


def _transform(text: str, lower: str, context: str) -> MathResult | None:
    import sympy

    if re.search(r"\bfactori[sz]e|\bfactor\b|\bfactori[sz]ation", lower):
        kind, fn, verb = "factor", sympy.factor, "Factorise"
    elif re.search(r"\bexpand\b", lower):
        kind, fn, verb = "expand", sympy.expand, "Expand"
    elif re.search(r"\bsimplif", lower):
        kind, fn, verb = "simplify", sympy.simplify, "Simplify"
    else:
        return None
    expr = find_expression(text, "")
    if expr is None or not expr.free_symbols:
        return None
    if kind == "factor" and expr.is_polynomial() and sympy.Poly(expr).total_degree() > 12:
        raise ExpressionError("is a polynomial above degree 12, which is not factorised here")
    written = max((s for s in candidates(text) if "=" not in s), key=len, default="")
    try:
        raw = parse(written, evaluate=False)  # as the paper wrote it, e.g. (x^2 - 1)/(x - 1)
    except ExpressionError:
        raw = expr
    if sympy.simplify(raw - expr) != 0:
        raw = expr
    out = fn(expr)
    step = f"{verb}: ${tex(raw)} = {tex(out)}$"
    return MathResult(kind, steps=[step], final=f"${tex(out)}$", values=[out])


_SOLVE = re.compile(r"\bsolve\b|\broots?\b|\bzero(e)?s\b|\bsolutions?\b|\bfind (?:the )?values? of [a-z]\b|"
                    r"\bvalues? of [a-z]\b|\bfind [a-z]\b|\bnature of (?:the )?roots")


def _solve(text: str, lower: str, context: str) -> MathResult | None:
    import sympy

    if not _SOLVE.search(lower):
        return None
    equations: list[tuple[Any, Any]] = []
    for span in candidates(text):
        if span.count("=") == 1:
            left, right = span.split("=")
            if FUNCTION_LHS.match(left) and re.search(r"\broots?\b|\bzero", lower):
                equations.append((parse(right), sympy.Integer(0)))  # zeros of p(x) = ...
            elif UNKNOWN_CALL.search(span):
                continue  # "f(1) = 0": a condition on a function, not an equation to solve
            elif right.strip() and left.strip():
                equation = parse_relation(span)
                if any(side.is_Symbol for side in equation) and any(side.is_number for side in equation):
                    continue  # "n = 1", "h = 0.1": given data, not an equation to solve
                if equation not in equations:
                    equations.append(equation)
    if not equations and re.search(r"\broots?\b|\bzero", lower):
        expr = find_expression(text, context)
        if expr is not None and expr.free_symbols:
            equations.append((expr, sympy.Integer(0)))
    equations = [(l, r) for l, r in equations if (l - r).free_symbols]
    if not equations:
        return None
    if len(equations) > 1:
        unknowns = set().union(*((l - r).free_symbols for l, r in equations))
        if len(unknowns) != len(equations):
            return None  # not a square system: some other kind of question
        return _solve_system(equations)
    left, right = equations[0]
    expr = sympy.expand(left - right)
    named = re.search(r"\bsolve\s+for\s+([a-z])\b|\bin terms of\s+[a-z]\b.*?\b([a-z])\b|\bmake\s+([a-z])\s+the subject", lower)
    named_var = next((g for g in named.groups() if g), None) if named else None
    if len(expr.free_symbols) > 1 and not (named_var and sympy.Symbol(named_var) in expr.free_symbols):
        return None  # "z = 5x + 2y subject to ...": several unknowns and no "solve for x"
    var = sympy.Symbol(named_var) if named_var and len(expr.free_symbols) > 1 else pick_variable(lower, expr)
    result = MathResult("solve")
    shown = f"{tex(left)} = {tex(right)}"
    try:
        poly = sympy.Poly(expr, var)
    except sympy.PolynomialError:
        poly = None
    if poly is not None and poly.free_symbols - {var}:
        poly = None
    if poly is not None and poly.degree() > MAX_SOLVE_DEGREE:
        return _numeric_roots(expr, var, shown, poly)
    if poly is not None and poly.degree() == 1:
        a, b = poly.all_coeffs()
        result.steps.append(f"Start from ${shown}$.")
        result.steps.append(f"Collect the ${tex(var)}$ terms on one side and the numbers on the other: "
                            f"${tex(a * var)} = {tex(-b)}$")
        if a != 1:
            result.steps.append(f"Divide both sides by ${tex(a)}$: ${tex(var)} = {tex(-b / a)}$")
        roots = [sympy.nsimplify(-b / a)]
    elif poly is not None and poly.degree() == 2:
        a, b, c = poly.all_coeffs()
        disc = sympy.simplify(b**2 - 4 * a * c)
        result.steps.append(f"Write it as $a{tex(var)}^2 + b{tex(var)} + c = 0$: ${tex(expr)} = 0$, "
                            f"so $a = {tex(a)}$, $b = {tex(b)}$, $c = {tex(c)}$.")
        result.steps.append(f"Discriminant: $D = b^2 - 4ac = {tex(b**2)} - {tex(4 * a * c)} = {tex(disc)}$.")
        factored = sympy.factor(expr)
        if factored != expr and factored.is_Mul or factored.is_Pow:
            result.steps.append(f"Factorise: ${tex(factored)} = 0$.")
        else:
            result.steps.append("Use $x = \\frac{-b \\pm \\sqrt{D}}{2a}$.".replace("x", tex(var), 1))
        roots = sympy.solve(expr, var)
        if "nature" in lower:
            nature = ("two distinct real roots" if disc.is_positive else "two equal real roots" if disc.is_zero
                      else "no real roots (two complex conjugate roots)")
            result.steps.append(f"Since $D {'>' if disc.is_positive else '=' if disc.is_zero else '<'} 0$, "
                                f"the equation has {nature}.")
            result.final = f"$D = {tex(disc)}$: {nature}."
            result.values = roots
            return result
    else:
        try:
            roots = sympy.solve(sympy.Eq(left, right), var)
        except NotImplementedError:
            roots = []
        if not isinstance(roots, list):
            roots = []
        if not roots and len(expr.free_symbols) == 1:
            return _numeric_roots(expr, var, shown)
        result.steps.append(f"Solve ${shown}$ for ${tex(var)}$.")
        factored = sympy.factor(expr) if poly is not None else None
        if factored is not None and factored.is_Mul:
            result.steps.append(f"Factorise: ${tex(factored)} = 0$.")
    if not roots:
        result.final = f"${shown}$ has no solution for ${tex(var)}$ that the offline solver can find."
        return result
    real = [r for r in roots if r.is_real]
    shown_roots = real or roots
    listed = " \\text{ or } ".join(f"{tex(var)} = {tex(r)}" for r in shown_roots)
    result.final = f"${listed}$" + ("" if real or not roots else " (no real roots)") + decimals_note(shown_roots)
    result.values = shown_roots
    return result


def _numeric_roots(expr: Any, var: Any, shown: str, poly: Any = None) -> MathResult:
    """Real roots found numerically: all of a polynomial's (nroots), else Newton from points in [-10, 10]."""
    import sympy

    found: list[Any] = []
    if poly is not None:
        found = sorted(r for r in poly.nroots(n=12) if r.is_real)
        result = MathResult("solve", steps=[f"${shown}$ has degree {poly.degree()}: find its roots numerically."])
        result.final = (" or ".join(f"${tex(var)} \\approx {sympy.N(r, 6)}$" for r in found) + " (numerical; "
                        f"{poly.degree() - len(found)} complex roots)") if found else "It has no real roots."
        result.values = found
        return result
    for start in range(-10, 11):
        try:
            root = sympy.nsolve(expr, var, start, tol=1e-12, prec=20)
        except (ValueError, TypeError, ZeroDivisionError):
            continue
        if not root.is_real or any(abs(root - r) < 1e-8 for r in found):
            continue
        found.append(root)
    result = MathResult("solve", steps=[f"${shown}$ has no closed-form solution; solve it numerically "
                                         "(Newton's method from several starting points)."])
    if not found:
        result.final = f"No real solution of ${shown}$ was found in $[-10, 10]$."
        return result
    found.sort()
    result.final = " or ".join(f"${tex(var)} \\approx {sympy.N(r, 6)}$" for r in found) + " (numerical)"
    result.values = found
    return result


def _solve_system(equations: list[tuple[Any, Any]]) -> MathResult:
    import sympy

    if len(equations) > 4:
        raise ExpressionError("is a system of more than four equations, which is not solved here")
    eqs = [sympy.Eq(l, r) for l, r in equations]
    symbols = sorted(set().union(*(e.free_symbols for e in eqs)), key=lambda s: s.name)
    result = MathResult("system")
    result.steps.append("The equations: " + ", ".join(f"${tex(e.lhs)} = {tex(e.rhs)}$" for e in eqs) + ".")
    solutions = sympy.solve(eqs, symbols, dict=True)
    if not solutions:
        result.final = "The equations have no common solution."
        return result
    if all(sympy.Poly(e.lhs - e.rhs, *symbols).total_degree() <= 1 for e in eqs):
        result.steps.append("Eliminate one unknown (add or subtract suitable multiples of the equations), "
                            "solve for the other, then substitute back.")
    parts = [", ".join(f"{tex(s)} = {tex(sol[s])}" for s in symbols if s in sol) for sol in solutions]
    result.final = " or ".join(f"${p}$" for p in parts)
    result.steps.append(f"Check by substituting {result.final} into each equation.")
    result.values = [sol[s] for sol in solutions for s in symbols if s in sol]
    return result


_BINARY = re.compile(r"[\d)]\s*(?:\*\*|[-+*/^])\s*[\w(]|\d\s*!")
_ARITHMETIC = re.compile(r"\b(evaluate|compute|calculate|find the value of|what is|work out|value of|simplify|find)\b")


_TRIG = re.compile(r"\b(?:a?sin|a?cos|a?tan|cot|sec|csc|cosec)\b")


def _constant_only(span: str) -> bool:
    """Numbers, pi, e and maths functions only; trig only with angles in terms of pi (degrees converted)."""
    if re.search(r"[A-Za-z]", re.sub(r"\b(?:%s|pi|e)\b" % "|".join(FUNCTIONS), "", span)):
        return False
    return not _TRIG.search(span) or "pi" in span


def _arithmetic(text: str, lower: str, context: str) -> MathResult | None:
    import sympy

    spans_found = candidates(text)
    numeric = [s for s in spans_found if "=" not in s and _constant_only(s)
               and (_BINARY.search(s) or re.search(r"\bsqrt\b|\d\s*!", s) or (_TRIG.search(s) and "pi" in s))]
    if not numeric or not (_ARITHMETIC.search(lower) or re.fullmatch(r"[\s\d+\-*/^().!=?]+", text)):
        return None
    span = max(numeric, key=len)
    if any(re.search(r"[A-Za-z]", other) and not _constant_only(other) for other in spans_found if other != span):
        return None  # letters elsewhere (variables, a garbled formula): not plain arithmetic
    if re.search(r"\d\s+\d", span):
        return None  # "0-10 10-20": a table row, not an expression
    if parse(span, evaluate=False).free_symbols:
        return None
    value = parse(span)
    value = sympy.nsimplify(value) if value.is_Float else sympy.simplify(value)
    steps = [f"${plain_tex(span)} = {tex(value)}$" + decimal_note(value)]
    return MathResult("arithmetic", steps=steps, final=f"${tex(value)}$" + decimal_note(value), values=[value])


def plain_tex(span: str) -> str:
    """An expression as the paper wrote it, lightly typeset (for showing the starting point)."""
    span = re.sub(r"\s+", " ", span.replace("**", "^")).strip()
    span = re.sub(r"\((\d+(?:\.\d+)?)\*pi/180\)", r"\1^\\circ", span)  # degrees, as written
    span = re.sub(r"\bsqrt\s*\(([^()]*)\)", r"\\sqrt{\1}", span)
    span = re.sub(r"\bpi\b", r"\\pi", span)
    span = re.sub(r"\b(sin|cos|tan|cot|sec|csc|log|ln|exp)\b", r"\\\1", span)
    return span.replace("*", " \\times ").replace("  ", " ")

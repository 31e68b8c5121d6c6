"""Number-data questions for the offline solver: statistics, matrices, HCF/LCM, percentages, speed.

Each handler takes (text, lower-cased text, parent context) and returns a `MathResult` or
None when the question is not of its kind. They run inside `solve`'s time budget.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from qagen.maths.expressions import ExpressionError, parse
from qagen.maths.results import MathResult, rational, tex

MAX_MATRIX = 6
MAX_DATA = 10_000
_NUMBER = r"-?\d+(?:\.\d+)?"
_NUMBER_RUN = re.compile(rf"(?<![\w.^/]){_NUMBER}(?:(?:\s*[,;]\s*|\s+and\s+|\s+)(?:{_NUMBER}))+(?![\w^/])")


def number_runs(text: str) -> list[list[Fraction]]:
    """Runs of two or more numbers separated by commas, semicolons, spaces or 'and'."""
    runs = []
    for match in _NUMBER_RUN.finditer(text):
        numbers = [Fraction(n) for n in re.findall(_NUMBER, match.group(0))]
        if len(numbers) >= 2:
            runs.append(numbers[:MAX_DATA])
    return runs


def data_list(text: str) -> list[Fraction] | None:
    """The question's data set: its longest run of numbers (at least three, or two after 'of')."""
    runs = number_runs(text)
    if not runs:
        return None
    best = max(runs, key=len)
    return best if len(best) >= 3 or re.search(r"\bof\s+" + _NUMBER, text) else None


def _fmt(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}" if len(str(float(value))) < 10 else str(value)


# --- statistics ------------------------------------------------------------------------

_MEASURES = {
    "mean": r"\bmean\b|\baverage\b|\barithmetic mean\b",
    "median": r"\bmedian\b",
    "mode": r"\bmode\b",
    "range": r"\brange\b",
    "variance": r"\bvariance\b",
    "sd": r"\bstandard deviation\b|\bs\.?\s?d\.?\b",
}


def statistics_question(text: str, lower: str, context: str) -> Any:
    import sympy

    wanted = [name for name, pattern in _MEASURES.items() if re.search(pattern, lower)]
    if not wanted or re.search(r"[a-z]\s*=", lower.replace("x =", "")) and "data" not in lower:
        return None
    if re.search(r"\bfrequenc|\bclass(es)?\b|\binterval|\btable\b|\bgrouped\b", lower):
        return None  # a frequency table, not a raw list: the offline solver does not read tables
    data = data_list(text) or (data_list(context) if context else None)
    if not data:
        return None
    n = len(data)
    values = [rational(d) for d in data]
    total = sum(values)
    mean = total / n
    steps = [f"The data ({n} values): {', '.join(_fmt(d) for d in data)}."]
    finals, out = [], []

    def number(value: Any) -> str:
        value = sympy.nsimplify(value)
        text = tex(value)
        if not value.is_Integer:
            approx = sympy.N(value, 6)
            text = f"{tex(value)} \\approx {approx}" if value.is_Rational and value.q > 20 or not value.is_Rational else f"{float(value):g}"
        return text

    if "mean" in wanted or "variance" in wanted or "sd" in wanted:
        steps.append(f"Mean $\\bar{{x}} = \\frac{{\\sum x}}{{n}} = \\frac{{{tex(total)}}}{{{n}}} = {number(mean)}$.")
        if "mean" in wanted:
            finals.append(f"mean $= {number(mean)}$")
            out.append(mean)
    ordered = sorted(data)
    if "median" in wanted:
        middle = n // 2
        median = Fraction(ordered[middle]) if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        where = f"the middle value (position {middle + 1})" if n % 2 else f"the mean of positions {middle} and {middle + 1}"
        steps.append(f"In order: {', '.join(_fmt(d) for d in ordered)}; the median is {where}: ${_fmt(median)}$.")
        finals.append(f"median $= {_fmt(median)}$")
        out.append(rational(median))
    if "mode" in wanted:
        counts: dict[Fraction, int] = {}
        for d in data:
            counts[d] = counts.get(d, 0) + 1
        top = max(counts.values())
        modes = sorted(d for d, c in counts.items() if c == top)
        if top == 1:
            steps.append("Every value occurs once, so there is no mode.")
            finals.append("no mode (all values occur once)")
        else:
            steps.append(f"Most frequent ({top} times): {', '.join(_fmt(m) for m in modes)}.")
            finals.append("mode $= " + ", ".join(_fmt(m) for m in modes) + "$")
            out.extend(rational(m) for m in modes)
    if "range" in wanted:
        spread = ordered[-1] - ordered[0]
        steps.append(f"Range = largest − smallest = ${_fmt(ordered[-1])} - {_fmt(ordered[0])} = {_fmt(spread)}$.")
        finals.append(f"range $= {_fmt(spread)}$")
        out.append(rational(spread))
    if "variance" in wanted or "sd" in wanted:
        squares = sum((v - mean) ** 2 for v in values)
        steps.append(f"Sum of squared deviations $\\sum (x - \\bar{{x}})^2 = {number(squares)}$.")
        population = squares / n
        steps.append(f"Population variance $\\sigma^2 = \\frac{{{number(squares)}}}{{{n}}} = {number(population)}$"
                     + (f"; sample variance $s^2 = \\frac{{{number(squares)}}}{{{n - 1}}} = {number(squares / (n - 1))}$."
                        if n > 1 else "."))
        if "variance" in wanted:
            finals.append(f"variance $\\sigma^2 = {number(population)}$ (sample $s^2 = {number(squares / (n - 1))}$)")
            out.append(population)
        if "sd" in wanted:
            sigma, s = sympy.sqrt(population), sympy.sqrt(squares / (n - 1))
            steps.append(f"Standard deviation $\\sigma = \\sqrt{{\\sigma^2}} = {number(sigma)}$ "
                         f"(sample: $s = {number(s)}$).")
            finals.append(f"standard deviation $\\sigma = {number(sigma)}$ (dividing by $n$; "
                          f"with $n - 1$, $s = {number(s)}$)")
            out.append(sigma)
    return MathResult("statistics", steps, "; ".join(finals) + ".", out)


# --- matrices ----------------------------------------------------------------------------


def _parse_row(row: str) -> list[Any]:
    cells = [c for c in re.split(r"\s*,\s*|\s+", row.strip()) if c]
    return [parse(c) for c in cells]


def _matrix(rows: list[str]) -> Any | None:
    import sympy

    parsed = [_parse_row(r) for r in rows if r.strip()]
    if not parsed or len({len(r) for r in parsed}) != 1:
        return None
    if len(parsed) > MAX_MATRIX or len(parsed[0]) > MAX_MATRIX:
        raise ExpressionError(f"has a matrix larger than {MAX_MATRIX}×{MAX_MATRIX}, which is not handled here")
    return sympy.Matrix(parsed)


def find_matrices(text: str) -> list[tuple[str, Any]]:
    """Matrices written as [[1, 2], [3, 4]], [1 2; 3 4], bracketed rows on lines, or 'rows (1, 2) and (3, 4)'."""
    found: list[tuple[str, Any]] = []
    name_before = r"(?:\b([A-Z])\s*=\s*)?"
    for match in re.finditer(name_before + r"\[\s*(\[[^\[\]]*\](?:\s*,?\s*\[[^\[\]]*\])*)\s*\]", text):
        matrix = _matrix(re.findall(r"\[([^\[\]]*)\]", match.group(2)))
        if matrix is not None:
            found.append((match.group(1) or "", matrix))
    if not found:
        for match in re.finditer(name_before + r"\[([^\[\]]*;[^\[\]]*)\]", text):
            matrix = _matrix(match.group(2).split(";"))
            if matrix is not None:
                found.append((match.group(1) or "", matrix))
    if not found:  # a text layer's layout: one "[a b c]" per line
        lines = [re.fullmatch(r"\s*(?:[A-Z]\s*=\s*)?\[([^\[\]]+)\]\s*", ln) for ln in text.splitlines()]
        block: list[str] = []
        for line in [*lines, None]:
            if line is not None:
                block.append(line.group(1))
                continue
            if len(block) >= 2:
                matrix = _matrix(block)
                if matrix is not None:
                    found.append(("", matrix))
            block = []
    if not found:
        match = re.search(r"rows?\s*:?\s*((?:\(\s*[^()]+\)\s*(?:,|and|;)?\s*){2,})", text)
        if match:
            matrix = _matrix(re.findall(r"\(([^()]+)\)", match.group(1)))
            if matrix is not None:
                found.append(("", matrix))
    return found


def show_matrix(matrix: Any) -> str:
    cells = [[str(v) for v in matrix.row(i)] for i in range(matrix.rows)]
    width = max((len(c) for row in cells for c in row), default=1)
    return "\n".join("[ " + "  ".join(c.rjust(width) for c in row) + " ]" for row in cells)


def _block(matrix: Any) -> str:
    return "\n```text\n" + show_matrix(matrix) + "\n```"


def matrix_question(text: str, lower: str, context: str) -> Any:
    import sympy

    keywords = re.search(r"matri(x|ces)|determinant|\bdet\b|eigen|inverse|transpose|product|multipl", lower)
    if not keywords or "[" not in text + context and not re.search(r"\brows?\b", lower):
        return None
    matrices = find_matrices(text) or (find_matrices(context) if context else [])
    if not matrices:
        return None
    name, m = matrices[0]
    label = name or "A"
    steps = [f"${label}$ ="  + _block(m)]
    if re.search(r"product|multipl|\b[A-Z]\s*[*×·]?\s*[A-Z]\b", text) and len(matrices) >= 2:
        (name_b, b) = matrices[1]
        if m.cols != b.rows:
            return MathResult("matrix", steps, f"The product is not defined: {m.rows}×{m.cols} times {b.rows}×{b.cols}.", [])
        product = m * b
        steps.append(f"${name_b or 'B'}$ =" + _block(b))
        steps.append("Each entry of the product is (row of the first) · (column of the second).")
        return MathResult("matrix", steps, f"${label}{name_b or 'B'}$ =" + _block(product), list(product))
    if "eigen" in lower:
        if not m.is_square:
            return MathResult("matrix", steps, "Only square matrices have eigenvalues.", [])
        lam = sympy.Symbol("lambda")
        poly = sympy.factor((m - lam * sympy.eye(m.rows)).det())
        steps.append(f"Characteristic equation: $\\det({label} - \\lambda I) = {tex(poly)} = 0$.")
        eigen = sympy.roots(sympy.Poly(poly, lam))
        if not eigen or sum(eigen.values()) < m.rows:
            eigen = {v: 1 for v in sympy.solve(poly, lam)}
        ordered = sorted(eigen.items(), key=lambda vk: (not vk[0].is_real, sympy.re(vk[0]), sympy.im(vk[0])))
        listed = ", ".join(f"{tex(v)}" + (f" (multiplicity {k})" if k > 1 else "") for v, k in ordered)
        return MathResult("matrix", steps, f"Eigenvalues: $\\lambda = {listed}$", list(eigen))
    if not m.is_square and re.search(r"determinant|\bdet\b|inverse", lower):
        return MathResult("matrix", steps, f"A {m.rows}×{m.cols} matrix has no determinant or inverse (it is not square).", [])
    if "inverse" in lower:
        det = m.det()
        steps.append(f"$\\det {label} = {tex(det)}$" + (" (for a 2×2 matrix, $ad - bc$)." if m.rows == 2 else "."))
        if det == 0:
            return MathResult("matrix", steps, f"${label}$ is singular ($\\det {label} = 0$), so it has no inverse.", [])
        steps.append(f"${label}^{{-1}} = \\frac{{1}}{{\\det {label}}}\\operatorname{{adj}}({label})$")
        inverse = m.inv()
        return MathResult("matrix", steps, f"${label}^{{-1}}$ =" + _block(inverse), list(inverse))
    if "transpose" in lower:
        return MathResult("matrix", steps, f"${label}^T$ =" + _block(m.T), list(m.T))
    if re.search(r"determinant|\bdet\b|\|\s*[A-Z]\s*\|", lower + text):
        det = m.det()
        if m.rows == 2:
            a, b, c, d = m
            steps.append(f"$\\det {label} = ad - bc = ({tex(a)})({tex(d)}) - ({tex(b)})({tex(c)})$.")
        elif m.rows == 3:
            steps.append("Expand along the first row: $\\det = a_{11}C_{11} + a_{12}C_{12} + a_{13}C_{13}$, "
                         "with cofactors $C_{1j} = (-1)^{1+j}M_{1j}$.")
        return MathResult("matrix", steps, f"$\\det {label} = {tex(det)}$", [det])
    return None


# --- small word problems ------------------------------------------------------------------

_DISTANCE = r"(?P<d>\d+(?:\.\d+)?)\s*(?P<du>km|kilomet(?:er|re)s?|m|met(?:er|re)s?|miles?)\b"
_TIME = r"(?P<t>\d+(?:\.\d+)?)\s*(?P<tu>hours?|hrs?|h|minutes?|mins?|seconds?|secs?|s)\b"


def speed_question(text: str, lower: str, context: str) -> Any:
    if "speed" not in lower:
        return None
    match = re.search(_DISTANCE + r".{0,40}?\bin\s+" + _TIME, lower)
    if not match:
        return None
    d, t = Fraction(match.group("d")), Fraction(match.group("t"))
    if t == 0:
        return None
    du = {"k": "km", "m": "m"}.get(match.group("du")[0], "m")
    if match.group("du").startswith("mile"):
        du = "miles"
    elif match.group("du").startswith(("kilo", "km")):
        du = "km"
    tu = match.group("tu")[0]
    unit_t = {"h": "h", "m": "min", "s": "s"}[tu]
    speed = d / t
    steps = [f"Average speed $= \\frac{{\\text{{distance}}}}{{\\text{{time}}}} = \\frac{{{_fmt(d)}\\ \\text{{{du}}}}}"
             f"{{{_fmt(t)}\\ \\text{{{unit_t}}}}}$"]
    final = f"${_fmt(speed)}$ {du}/{unit_t}"
    if du == "km" and unit_t == "min":
        final = f"${_fmt(speed * 60)}$ km/h"
        steps.append(f"$= {_fmt(speed)}$ km/min $= {_fmt(speed)} \\times 60 = {_fmt(speed * 60)}$ km/h")
    elif du == "km" and unit_t == "h":
        steps.append(f"In m/s: ${_fmt(speed)} \\times \\frac{{1000}}{{3600}} = {_fmt(speed * 1000 / 3600)}$ m/s")
    return MathResult("speed", steps, final, [rational(speed)])


def percentage_question(text: str, lower: str, context: str) -> Any:
    match = re.search(r"(\d+(?:\.\d+)?)\s*(?:%|per\s*cent|percent)\s+of\s+(?:rs\.?\s*|₹\s*|\$\s*)?(\d+(?:\.\d+)?)", lower)
    if not match:
        return None
    p, q = Fraction(match.group(1)), Fraction(match.group(2))
    value = p * q / 100
    steps = [f"${_fmt(p)}\\%$ of ${_fmt(q)} = \\frac{{{_fmt(p)}}}{{100}} \\times {_fmt(q)} = {_fmt(value)}$"]
    return MathResult("percentage", steps, f"${_fmt(value)}$", [rational(value)])


def _factorisation(n: int) -> str:
    import sympy

    factors = sympy.factorint(n)
    return " \\cdot ".join(f"{p}^{{{k}}}" if k > 1 else str(p) for p, k in sorted(factors.items())) or "1"


def hcf_lcm_question(text: str, lower: str, context: str) -> Any:
    import math

    lowered = re.sub(r"h\.\s*c\.\s*f\.?", "hcf", re.sub(r"l\.\s*c\.\s*m\.?", "lcm", lower))
    mentions = list(re.finditer(r"\b(hcf|gcd|lcm)\b\s*(?:of\s*)?\(?\s*(\d+(?:\s*(?:,|and)\s*\d+)+)\s*\)?", lowered))
    if not mentions:
        return None
    asked = [m for m in mentions if re.search(r"\b(find|calculate|determine|what is|compute)\b[^.?]*$",
                                              lowered[: m.start()])] or mentions[-1:]
    match = asked[-1]
    numbers = [int(n) for n in re.findall(r"\d+", match.group(2))]
    if any(n <= 0 or n > 10**12 for n in numbers) or len(numbers) > 10:
        raise ExpressionError("asks for the HCF/LCM of more than ten numbers or of numbers outside 1 to 10^12, which are not computed here")
    steps = ["Prime factorisation: " + ", ".join(f"${n} = {_factorisation(n)}$" for n in numbers) + "."]
    if match.group(1) == "lcm":
        value = math.lcm(*numbers)
        steps.append("LCM = product of the highest power of each prime that occurs.")
        name = "LCM"
    else:
        value = math.gcd(*numbers)
        steps.append("HCF = product of the lowest power of each prime common to all the numbers.")
        name = "HCF"
    if len(numbers) == 2:
        steps.append(f"Check: HCF × LCM $= {math.gcd(*numbers)} \\times {math.lcm(*numbers)} = {numbers[0] * numbers[1]}$"
                     f" $= {numbers[0]} \\times {numbers[1]}$.")
    import sympy

    return MathResult("hcf-lcm", steps, f"{name}$({', '.join(map(str, numbers))}) = {value}$", [sympy.Integer(value)])

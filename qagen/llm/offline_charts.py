"""Charts for the offline engine: a chart spec (the format charts/ validates) from a question.

Two cases are recognised:
- the question gives data (a list of numbers, a small table, or "A, B, C and D ... 30, 25,
  40 and 35") and asks to draw/plot/construct/represent a histogram, bar chart, pie chart,
  line graph, frequency polygon, scatter or box plot;
- it asks to plot/sketch/draw the graph of a function, y = f(x) or f(x) = ...

`chart_for(question, context)` returns (spec, short text) or None. The text describes the
chart (and, for a function, its intercepts, roots and turning point when they are simple).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from qagen.maths.expressions import DEFAULT_BUDGET_SECONDS, ExpressionError, MathTimeout, normalise, parse, run_with_budget

_REQUEST = re.compile(r"\b(draw|plot|sketch|construct|represent|display|show|make|prepare|illustrate|graph)\b")
_KINDS = [
    ("histogram", r"\bhistogram"),
    ("pie", r"\bpie\s*(chart|diagram|graph)?\b"),
    ("box", r"\bbox(\s*-?\s*and\s*-?\s*whisker)?\s*(plot|diagram|chart)\b"),
    ("scatter", r"\bscatter\s*(plot|diagram|graph|chart)?\b"),
    ("line", r"\b(line\s*(graph|chart|plot)|frequency polygon|ogive|time series|cumulative frequency curve)\b"),
    ("bar", r"\b(bar\s*(chart|graph|diagram)|column (chart|graph))\b"),
    ("graph", r"\b(graph|chart|diagram)\b"),
]
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
MAX_ITEMS = 60


def chart_for(question: str, context: str = "", *, budget: float = DEFAULT_BUDGET_SECONDS) -> tuple[dict[str, Any], str] | None:
    text = normalise(question or "")
    lower = text.lower()
    if not _REQUEST.search(lower):
        return None
    kind = next((name for name, pattern in _KINDS if re.search(pattern, lower)), None)
    if kind is None:
        return None
    try:
        function = run_with_budget(lambda: _function_chart(text, lower, normalise(context or "")), budget)
    except (ExpressionError, MathTimeout):
        function = None
    if function is not None and kind in ("graph", "line"):
        return function
    data = _data_chart(text, kind) or (_data_chart(normalise(context), kind) if context else None)
    return data or function


# --- function plots ------------------------------------------------------------------

_RANGES = (
    re.compile(r"(?P<a>-?\d+(?:\.\d+)?)\s*(?:<=|<|≤)\s*x\s*(?:<=|<|≤)\s*(?P<b>-?\d+(?:\.\d+)?)"),
    re.compile(r"\bfrom\s+(?:x\s*=\s*)?(?P<a>-?\d+(?:\.\d+)?)\s+to\s+(?:x\s*=\s*)?(?P<b>-?\d+(?:\.\d+)?)"),
    re.compile(r"\bbetween\s+(?:x\s*=\s*)?(?P<a>-?\d+(?:\.\d+)?)\s+and\s+(?:x\s*=\s*)?(?P<b>-?\d+(?:\.\d+)?)"),
    re.compile(r"\[\s*(?P<a>-?\d+(?:\.\d+)?)\s*,\s*(?P<b>-?\d+(?:\.\d+)?)\s*\]"),
)


def _function_chart(text: str, lower: str, context: str) -> tuple[dict[str, Any], str] | None:
    import sympy

    from qagen.maths.reading import candidates
    from qagen.maths.results import tex

    expr = None
    for span in candidates(text) + (candidates(context) if context else []):
        if span.count("=") == 1:
            left, right = (s.strip() for s in span.split("="))
            if re.fullmatch(r"y|[a-z]\s*\(\s*x\s*\)", left) and right:
                expr = parse(right)
                break
    if expr is None and re.search(r"\bgraph of\b|\bplot\b|\bsketch\b", lower):
        for span in candidates(text):
            if "=" not in span:
                candidate = parse(span)
                if candidate.free_symbols:
                    expr = candidate
                    break
    if expr is None:
        return None
    symbols = expr.free_symbols
    if len(symbols) != 1:
        return None
    x = sympy.Symbol("x")
    expr = expr.subs(next(iter(symbols)), x)
    x_min, x_max = -10.0, 10.0
    ranged = False
    for pattern in _RANGES:
        match = pattern.search(text)
        if match and float(match.group("a")) < float(match.group("b")):
            x_min, x_max, ranged = float(match.group("a")), float(match.group("b")), True
            break
    facts: list[str] = []
    roots: list[Any] = []
    if expr.is_polynomial(x) and sympy.degree(expr, x) <= 4:
        roots = [r for r in sympy.solve(expr, x) if r.is_real]
        if roots:
            facts.append("it meets the x-axis at " + ", ".join(f"$x = {tex(r)}$" for r in sorted(roots, key=float)))
        if sympy.degree(expr, x) == 2:
            vertex_x = sympy.solve(sympy.diff(expr, x), x)[0]
            vertex_y = sympy.simplify(expr.subs(x, vertex_x))
            kind = "minimum" if sympy.Poly(expr, x).LC() > 0 else "maximum"
            facts.append(f"its turning point ({kind}) is at $({tex(vertex_x)}, {tex(vertex_y)})$")
            roots.append(vertex_x)
    elif expr.has(sympy.sin, sympy.cos, sympy.tan) and not ranged:
        x_min, x_max = -6.3, 6.3
    try:
        y0 = sympy.simplify(expr.subs(x, 0))
        if y0.is_real:
            facts.insert(0, f"it crosses the y-axis at $(0, {tex(y0)})$")
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    if not ranged and roots:
        points = [float(r) for r in roots]
        x_min, x_max = min(points + [0.0]) - 3, max(points + [0.0]) + 3
    expression = str(expr)
    spec = {"kind": "function", "title": f"y = {readable(expression)}", "x_label": "x", "y_label": "y",
            "expression": expression, "x_min": round(x_min, 4), "x_max": round(x_max, 4)}
    text_answer = f"The graph of $y = {tex(expr)}$ for ${x_min:g} \\le x \\le {x_max:g}$ is drawn below"
    text_answer += (": " + "; ".join(facts) + ".") if facts else "."
    return spec, text_answer


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def readable(expression: str) -> str:
    """An expression as a person writes it: 'x**2 - 4*x + 3' -> 'x² − 4x + 3' (a caption, not code)."""
    text = re.sub(r"\*\*(-?\d+)\b", lambda m: m.group(1).translate(_SUPERSCRIPTS), expression)
    text = re.sub(r"(?<=\d)\*(?=[A-Za-z(])|(?<=\))\*(?=\()", "", text)  # 4*x -> 4x, (a)*(b) -> (a)(b)
    text = text.replace("**", "^").replace("*", "·")
    return re.sub(r"(?<=\s)-(?=\s)", "−", text)


# --- data charts -----------------------------------------------------------------------

# "The heights (in cm) of eight plants are 12, ..." -> measure "heights (in cm)", items "plants".
_DATA_SUBJECT = re.compile(
    r"\b(?:the\s+)?([a-z][a-z ()-]{1,40}?)\s+of\s+(?:the\s+)?(?:\w+\s+){0,2}?([a-z]{3,30})\s+"
    r"(?:are|were|is|was)\s+(?:(?:given|recorded|listed)\s+)?(?:as\s+(?:follows\s*)?)?:?\s*-?\d", re.I)


def data_names(text: str) -> tuple[str, str, str]:
    """(title, value axis, item axis) for a bare list of numbers, from the sentence that gives it."""
    match = _DATA_SUBJECT.search(text)
    if not match:
        return "The data", "Value", "Item"
    measure, items = match.group(1).strip(), match.group(2).strip()
    measure = measure[:1].upper() + measure[1:]
    return f"{measure} of the {items}"[:200], measure[:100], _singular(items).capitalize()[:100]


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _cells(line: str) -> tuple[str, list[str]] | None:
    """A table row: 'Label: a, b, c', '| a | b |', or cells separated by tabs / 2+ spaces."""
    line = line.strip()
    if line.count("|") >= 2:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            return None
        return cells[0], cells[1:]
    match = re.match(r"^([A-Za-z][^:]{0,40}):\s*(.+)$", line)
    if match:
        cells = [c for c in re.split(r"\s*[,;]\s*|\s{2,}|\t|\s+(?=-?\d)", match.group(2).strip()) if c]
        return (match.group(1).strip(), cells) if len(cells) >= 2 else None
    cells = [c for c in re.split(r"\t|\s{2,}", line) if c.strip()]
    if len(cells) >= 3:
        return cells[0].strip(), [c.strip() for c in cells[1:]]
    return None


def _is_number(cell: str) -> bool:
    return bool(_NUMBER.match(cell.replace(",", "")))


def _num(cell: str) -> float:
    value = Fraction(cell.replace(",", ""))
    return int(value) if value.denominator == 1 else float(value)


def _table(text: str) -> tuple[str, list[str], str, list[float]] | None:
    """(x name, x cells, y name, y numbers) from two rows of equal length, the second numeric."""
    rows = [row for row in (_cells(line) for line in text.splitlines()) if row]
    for (name_a, a), (name_b, b) in zip(rows, rows[1:]):
        if len(a) == len(b) and 2 <= len(b) <= MAX_ITEMS and all(_is_number(c) for c in b):
            return name_a, a, name_b, [_num(c) for c in b]
    # A header row, then one row per category: "| Class | Frequency |", "| 0-10 | 5 |", ...
    single = [(label, cells[0]) for label, cells in rows if len(cells) == 1]
    pairs = [(label, cell) for label, cell in single if _is_number(cell)]
    if len(pairs) >= 2 and len({label for label, _ in pairs}) == len(pairs):
        header = next(((label, cell) for label, cell in single if not _is_number(cell)), ("", ""))
        return header[0], [label for label, _ in pairs], header[1], [_num(cell) for _, cell in pairs]
    return None


_LABEL_LIST = re.compile(r"\b([A-Za-z][\w'-]*)((?:\s*,\s*[A-Za-z][\w'-]*)+)\s*,?\s+and\s+([A-Za-z][\w'-]*)\b")


def _labelled_lists(text: str) -> tuple[list[str], list[float]] | None:
    """'... Cricket, Football, Hockey and Tennis ... 40, 30, 20 and 10 ...' -> labels and values."""
    from qagen.maths.data import number_runs

    runs = number_runs(text)
    for match in _LABEL_LIST.finditer(text):
        labels = [match.group(1), *re.findall(r"[A-Za-z][\w'-]*", match.group(2)), match.group(3)]
        for run in runs:
            if len(run) == len(labels):
                return labels, [int(v) if v.denominator == 1 else float(v) for v in run]
    return None


def _data_chart(text: str, kind: str) -> tuple[dict[str, Any], str] | None:
    from qagen.maths.data import data_list

    table = _table(text)
    if table is None:
        pairs = _labelled_lists(text)
        if pairs:
            table = ("", pairs[0], "", pairs[1])
    if table is not None:
        x_name, xs, y_name, ys = table
        numeric_x = all(_is_number(c) for c in xs)
        title = f"{y_name or 'Value'} by {x_name or 'category'}"
        common = {"title": title[:200], "x_label": (x_name or "Category")[:100], "y_label": (y_name or "Value")[:100]}
        if kind == "pie":
            spec = {"kind": "pie", **common, "labels": xs, "values": ys}
            total = sum(ys)
            shares = ", ".join(f"{label} {value / total * 360:.0f}°" for label, value in zip(xs, ys)) if total else ""
            return spec, f"Pie chart of {y_name or 'the values'}: each sector's angle is its share of 360° ({shares})."
        if kind == "scatter" and numeric_x:
            return {"kind": "scatter", **common, "x": [_num(c) for c in xs], "y": ys}, "Scatter plot of the given data."
        if kind == "line" or (kind == "graph" and numeric_x):
            x_values: list[Any] = [_num(c) for c in xs] if numeric_x else xs
            return {"kind": "line", **common, "x": x_values, "y": ys}, (
                f"Line graph of {y_name or 'the values'} against {x_name or 'the categories'}.")
        note = (" The classes are drawn as adjacent bars over the class intervals (a histogram of the "
                "frequency table).") if kind == "histogram" else ""
        if len(set(xs)) != len(xs):
            return None
        return {"kind": "bar", **common, "x": xs, "y": ys}, (
            f"Bar chart of {y_name or 'the values'} for each {x_name.lower() or 'category'}." + note)
    values = data_list(text)
    if not values:
        return None
    numbers = [int(v) if v.denominator == 1 else float(v) for v in values]
    if kind == "histogram":
        bins = max(3, min(12, round(len(numbers) ** 0.5) + 1))
        return ({"kind": "histogram", "title": "Histogram of the data", "x_label": "Value", "y_label": "Frequency",
                 "values": numbers, "bins": bins},
                f"Histogram of the {len(numbers)} values in {bins} equal-width classes.")
    if kind == "box":
        ordered = sorted(numbers)
        return ({"kind": "box", "title": "Box plot of the data", "x_label": "", "y_label": "Value", "values": numbers},
                f"Box plot of the {len(numbers)} values (minimum {ordered[0]:g}, maximum {ordered[-1]:g}).")
    labels = [str(i) for i in range(1, len(numbers) + 1)]
    if kind == "pie":
        return ({"kind": "pie", "title": "Pie chart of the data", "x_label": "", "y_label": "", "labels": labels,
                 "values": numbers}, "Pie chart of the values (sectors numbered in the order given).")
    chart_kind = "line" if kind == "line" else "bar"
    title, value_name, item_name = data_names(text)
    return ({"kind": chart_kind, "title": title, "x_label": item_name, "y_label": value_name, "x": labels, "y": numbers},
            f"{'Line graph' if chart_kind == 'line' else 'Bar chart'} of the {len(numbers)} values in the order given.")

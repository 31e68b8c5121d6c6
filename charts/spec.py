"""Chart specs: validated plain data, so a bad spec is a clear error before any drawing.

The answer engine produces exactly this (every kind has "title", "x_label", "y_label"):

- line, scatter: "x": [...], "y": [numbers] of equal length (line x may be category labels)
- bar: "x": [category labels], "y": [numbers]
- histogram: "values": [numbers], optional "bins": int
- box: "values": [numbers] or "groups": {"name": [numbers], ...}
- pie: "labels": [...], "values": [non-negative numbers]
- function: "expression": "x**2 - 3*x" (in x, ^ allowed for power), "x_min", "x_max"

Every error message starts with the field it is about, e.g. "'y': ...".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

KINDS = ("line", "bar", "histogram", "scatter", "box", "pie", "function")
MAX_POINTS = 10_000  # line, scatter, histogram and box values (box: all groups together)
MAX_CATEGORIES = 60  # bar categories
MAX_SLICES = 24  # pie slices
MAX_GROUPS = 24  # box groups
MAX_BINS = 200
MAX_TITLE = 200
MAX_LABEL = 100
MAX_CATEGORY_LABEL = 60
MAX_RANGE = 1e12  # |x_min|, |x_max| of function plots


class ChartSpecError(ValueError):
    """Raised when a chart spec is malformed; the message says which field and why."""


@dataclass(frozen=True)
class ChartSpec:
    """A validated chart. Only the fields of its kind are filled in."""

    kind: str
    x: list[Any] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    title: str = ""
    x_label: str = ""
    y_label: str = ""
    values: list[float] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    groups: dict[str, list[float]] = field(default_factory=dict)
    bins: int | None = None
    expression: str = ""
    x_min: float = 0.0
    x_max: float = 0.0


def _text(data: dict, key: str, limit: int) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ChartSpecError(f"'{key}' must be a string, not {type(value).__name__}.")
    value = "".join(ch for ch in value if ch >= " " or ch == "\n").strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(data: dict, key: str) -> float:
    value = data.get(key)
    if value is None:
        raise ChartSpecError(f"'{key}' is required for a {data.get('kind')} chart.")
    if not _is_number(value):
        raise ChartSpecError(f"'{key}' must be a number, not {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        raise ChartSpecError(f"'{key}' must be a finite number.")
    return value


def _list(data: dict, key: str, *, limit: int = MAX_POINTS, what: str = "values", name: str | None = None) -> list:
    value = data.get(key)
    key = name or key
    if value is None:
        raise ChartSpecError(f"'{key}' is required for a {data.get('kind')} chart.")
    if not isinstance(value, (list, tuple)):
        raise ChartSpecError(f"'{key}' must be a list, not {type(value).__name__}.")
    if not value:
        raise ChartSpecError(f"'{key}' must not be empty.")
    if len(value) > limit:
        raise ChartSpecError(f"'{key}' has {len(value)} {what}; at most {limit} are allowed.")
    return list(value)


def _numbers(values: list, key: str) -> list[float]:
    out = []
    for index, value in enumerate(values):
        if not _is_number(value):
            raise ChartSpecError(f"'{key}[{index}]' must be a number, not {type(value).__name__} {value!r:.40}.")
        number = float(value)
        if not math.isfinite(number):
            raise ChartSpecError(f"'{key}[{index}]' must be a finite number, not {value!r}.")
        out.append(number)
    return out


def _labels(values: list, key: str) -> list[str]:
    out = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ChartSpecError(f"'{key}[{index}]' must be a label (string or number), not {type(value).__name__}.")
        text = f"{value:g}" if isinstance(value, float) else str(value)
        text = "".join(ch for ch in text if ch >= " ").strip()
        out.append(text if len(text) <= MAX_CATEGORY_LABEL else text[: MAX_CATEGORY_LABEL - 1] + "…")
    return out


def _same_length(x: list, y: list, x_key: str = "x", y_key: str = "y") -> None:
    if len(x) != len(y):
        raise ChartSpecError(f"'{y_key}' has {len(y)} values but '{x_key}' has {len(x)}; they must match.")


def _unique(labels: list[str], key: str) -> None:
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise ChartSpecError(f"'{key}' has the category {label!r} twice; categories must be distinct.")
        seen.add(label)


def parse_spec(data: dict[str, Any]) -> ChartSpec:
    """Validate a chart spec; raises ChartSpecError naming the offending field."""
    if isinstance(data, ChartSpec):
        return data
    if not isinstance(data, dict):
        raise ChartSpecError(f"A chart spec must be an object, not {type(data).__name__}.")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ChartSpecError(f"'kind' must be one of {', '.join(KINDS)}; got {kind!r:.40}.")
    common = {
        "kind": kind,
        "title": _text(data, "title", MAX_TITLE),
        "x_label": _text(data, "x_label", MAX_LABEL),
        "y_label": _text(data, "y_label", MAX_LABEL),
    }
    if kind in ("line", "scatter"):
        x, y = _list(data, "x"), _list(data, "y")
        _same_length(x, y)
        if kind == "scatter" or all(_is_number(v) for v in x):
            xs: list[Any] = _numbers(x, "x")
        elif any(_is_number(v) for v in x):
            raise ChartSpecError("'x' mixes numbers and labels; use all numbers or all labels.")
        else:
            xs = _labels(x, "x")
            if len(xs) > MAX_CATEGORIES:
                raise ChartSpecError(f"'x' has {len(xs)} category labels; at most {MAX_CATEGORIES} are allowed.")
        return ChartSpec(x=xs, y=_numbers(y, "y"), **common)
    if kind == "bar":
        x = _list(data, "x", limit=MAX_CATEGORIES, what="categories")
        y = _list(data, "y", limit=MAX_CATEGORIES, what="values")
        _same_length(x, y)
        labels = _labels(x, "x")
        _unique(labels, "x")
        return ChartSpec(x=labels, y=_numbers(y, "y"), **common)
    if kind == "histogram":
        values = _numbers(_list(data, "values"), "values")
        bins = data.get("bins")
        if bins is not None:
            if not isinstance(bins, int) or isinstance(bins, bool):
                raise ChartSpecError(f"'bins' must be a whole number, not {type(bins).__name__}.")
            if not 1 <= bins <= MAX_BINS:
                raise ChartSpecError(f"'bins' must be between 1 and {MAX_BINS}; got {bins}.")
        return ChartSpec(values=values, bins=bins, **common)
    if kind == "box":
        if data.get("groups") is not None:
            groups = data["groups"]
            if not isinstance(groups, dict) or not groups:
                raise ChartSpecError("'groups' must be a non-empty object of {name: [numbers]}.")
            if len(groups) > MAX_GROUPS:
                raise ChartSpecError(f"'groups' has {len(groups)} groups; at most {MAX_GROUPS} are allowed.")
            parsed: dict[str, list[float]] = {}
            total = 0
            for name, values in groups.items():
                label = _labels([name], "groups")[0]
                parsed[label] = _numbers(_list(groups, name, name=f"groups.{label}"), f"groups.{label}")
                total += len(parsed[label])
            if total > MAX_POINTS:
                raise ChartSpecError(f"'groups' hold {total} values together; at most {MAX_POINTS} are allowed.")
            return ChartSpec(groups=parsed, **common)
        if data.get("values") is None:
            raise ChartSpecError("'values' (or 'groups') is required for a box chart.")
        return ChartSpec(values=_numbers(_list(data, "values"), "values"), **common)
    if kind == "pie":
        labels = _labels(_list(data, "labels", limit=MAX_SLICES, what="slices"), "labels")
        values = _numbers(_list(data, "values", limit=MAX_SLICES, what="slices"), "values")
        _same_length(labels, values, "labels", "values")
        if any(v < 0 for v in values):
            raise ChartSpecError("'values' of a pie chart must not be negative.")
        if sum(values) <= 0:
            raise ChartSpecError("'values' of a pie chart must add up to more than zero.")
        return ChartSpec(labels=labels, values=values, **common)
    # function
    expression = data.get("expression")
    if not isinstance(expression, str):
        raise ChartSpecError(f"'expression' must be a string such as \"x**2 - 3*x\", not {type(expression).__name__}.")
    x_min, x_max = _number(data, "x_min"), _number(data, "x_max")
    if not x_min < x_max:
        raise ChartSpecError(f"'x_min' ({x_min:g}) must be less than 'x_max' ({x_max:g}).")
    if max(abs(x_min), abs(x_max)) > MAX_RANGE:
        raise ChartSpecError(f"'x_min' and 'x_max' must lie within ±{MAX_RANGE:g}.")
    from charts.function import compile_function
    from qagen.maths.expressions import ExpressionError

    try:
        compile_function(expression)
    except ExpressionError as exc:
        raise ChartSpecError(f"'expression' {exc}.") from None
    return ChartSpec(expression=expression, x_min=x_min, x_max=x_max, **common)

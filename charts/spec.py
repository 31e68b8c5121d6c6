"""Chart specs: validated plain data, so a bad spec is a clear error before any drawing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("bar", "line")
MAX_POINTS = 10_000


class ChartSpecError(ValueError):
    """Raised when a chart spec is malformed; the message says which field and why."""


@dataclass(frozen=True)
class ChartSpec:
    kind: str
    x: list[Any]
    y: list[float]
    title: str = ""
    x_label: str = ""
    y_label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def parse_spec(data: dict[str, Any]) -> ChartSpec:
    if not isinstance(data, dict):
        raise ChartSpecError("A chart spec must be an object.")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ChartSpecError(f"Chart kind {kind!r} is not one of {', '.join(KINDS)}.")
    x, y = data.get("x"), data.get("y")
    if not isinstance(x, list) or not isinstance(y, list) or not x:
        raise ChartSpecError("A chart needs non-empty lists 'x' and 'y'.")
    if len(x) != len(y):
        raise ChartSpecError(f"'x' has {len(x)} values but 'y' has {len(y)}.")
    if len(x) > MAX_POINTS:
        raise ChartSpecError(f"A chart may have at most {MAX_POINTS} points; this one has {len(x)}.")
    try:
        values = [float(v) for v in y]
    except (TypeError, ValueError) as exc:
        raise ChartSpecError("Every 'y' value must be a number.") from exc
    return ChartSpec(
        kind=kind,
        x=list(x),
        y=values,
        title=str(data.get("title", ""))[:200],
        x_label=str(data.get("x_label", ""))[:100],
        y_label=str(data.get("y_label", ""))[:100],
    )

"""Drawing with seaborn on matplotlib's object API: no pyplot global state, safe in threads.

Each call builds its own `matplotlib.figure.Figure` on a `FigureCanvasAgg`, draws with
seaborn's axes-level functions (`ax=`) or the Axes methods, and styles that one Axes
directly: no `sns.set_theme`/`axes_style`/`rc_context`, which change process-wide rcParams.
Text from the spec is shown literally: '$' is escaped so matplotlib never switches to
mathtext (whose shared parser is not thread-safe, and which would fail on "$5 and $10").
"""

from __future__ import annotations

import io
import math
from typing import Any

from charts.spec import ChartSpec, ChartSpecError, parse_spec

# seaborn's "deep" palette, spelled out so no palette state is consulted.
PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
           "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD")
FORMATS = ("png", "svg")
PNG_COMPRESSION = 6


def _plain(text: str) -> str:
    """Text as matplotlib should print it, never as mathtext."""
    return text.replace("$", r"\$") if text else ""


def _style(axes) -> None:
    axes.set_facecolor("white")
    axes.grid(True, color="#E3E3E3", linewidth=0.7)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color("#555555")
        axes.spines[side].set_linewidth(0.8)
    axes.tick_params(labelsize=8, colors="#333333", length=3)


def _category_ticks(axes, labels: list[str]) -> None:
    longest = max((len(label) for label in labels), default=0)
    if len(labels) > 8 or longest * len(labels) > 60:
        axes.tick_params(axis="x", labelrotation=40, labelsize=7 if len(labels) > 20 else 8)
        for tick in axes.get_xticklabels():
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")


def _auto_bins(count: int) -> int:
    return max(5, min(50, math.ceil(math.log2(max(count, 1)) + 1)))


def _draw(spec: ChartSpec, axes) -> None:
    import seaborn as sns

    color = PALETTE[0]
    if spec.kind == "bar":
        sns.barplot(x=[_plain(v) for v in spec.x], y=list(spec.y), ax=axes, color=color, errorbar=None, saturation=0.9)
        if len(spec.x) <= 16 and axes.containers:
            axes.bar_label(axes.containers[0], fmt="%g", fontsize=7, padding=2, color="#333333")
        _category_ticks(axes, list(spec.x))
    elif spec.kind == "line":
        categorical = bool(spec.x) and isinstance(spec.x[0], str)
        xs = [_plain(v) for v in spec.x] if categorical else list(spec.x)
        sns.lineplot(x=xs, y=list(spec.y), ax=axes, color=color, errorbar=None, estimator=None,
                     sort=not categorical, marker="o" if len(spec.x) <= 60 else None, markersize=4, linewidth=1.6)
        if categorical:
            _category_ticks(axes, list(spec.x))
    elif spec.kind == "scatter":
        size = 22 if len(spec.x) <= 500 else 6
        sns.scatterplot(x=list(spec.x), y=list(spec.y), ax=axes, color=color, s=size, edgecolor="white",
                        linewidth=0.4, alpha=0.9 if len(spec.x) <= 500 else 0.5)
    elif spec.kind == "histogram":
        sns.histplot(x=list(spec.values), bins=spec.bins or _auto_bins(len(spec.values)), ax=axes, color=color,
                     edgecolor="white", linewidth=0.6, alpha=0.9)
    elif spec.kind == "box":
        if spec.groups:
            names = list(spec.groups)
            xs = [_plain(name) for name in names for _ in spec.groups[name]]
            ys = [value for name in names for value in spec.groups[name]]
            sns.boxplot(x=xs, y=ys, hue=xs, palette=[PALETTE[i % len(PALETTE)] for i in range(len(names))],
                        legend=False, ax=axes, width=0.55, linewidth=1, fliersize=3)
            _category_ticks(axes, names)
        else:
            sns.boxplot(y=list(spec.values), ax=axes, color=color, width=0.35, linewidth=1, fliersize=3)
    elif spec.kind == "pie":
        axes.pie(spec.values, labels=[_plain(label) for label in spec.labels], startangle=90, counterclock=False,
                 colors=[PALETTE[i % len(PALETTE)] for i in range(len(spec.values))],
                 autopct=lambda pct: f"{pct:.0f}%" if pct >= 3 else "",
                 wedgeprops={"linewidth": 1, "edgecolor": "white"}, textprops={"fontsize": 8})
        axes.set_aspect("equal")
        axes.grid(False)
    elif spec.kind == "function":
        _draw_function(spec, axes)
    else:  # parse_spec guarantees this never happens
        raise ChartSpecError(f"'kind' {spec.kind!r} cannot be drawn.")


def _draw_function(spec: ChartSpec, axes) -> None:
    import numpy as np

    from charts.function import sample
    from qagen.maths.expressions import ExpressionError

    try:
        xs, ys = sample(spec.expression, spec.x_min, spec.x_max)
    except ExpressionError as exc:
        raise ChartSpecError(f"'expression' {exc}.") from None
    finite = ys[np.isfinite(ys)]
    low, high = np.percentile(finite, [2, 98])
    span = (high - low) or max(abs(high), 1.0)
    ys = np.where((ys < low - 3 * span) | (ys > high + 3 * span), np.nan, ys)  # cut asymptotes
    axes.plot(xs, ys, color=PALETTE[0], linewidth=1.8)
    bottom, top = axes.get_ylim()
    if bottom < 0 < top:
        axes.axhline(0, color="#777777", linewidth=0.8, zorder=1)
    if spec.x_min < 0 < spec.x_max:
        axes.axvline(0, color="#777777", linewidth=0.8, zorder=1)
    axes.set_xlim(spec.x_min, spec.x_max)


def render_chart(spec: ChartSpec | dict[str, Any], *, width_in: float = 6.4, height_in: float = 3.4,
                 dpi: int = 150, format: str = "png") -> bytes:  # noqa: A002 (matplotlib's name)
    """The chart described by `spec` as PNG bytes (or SVG with format="svg").

    Raises ChartSpecError for a bad spec. Safe to call from several threads at once.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    if not (1 <= width_in <= 20 and 1 <= height_in <= 20 and 30 <= dpi <= 600):
        raise ValueError("width_in and height_in must lie in 1..20 inches and dpi in 30..600")
    spec = parse_spec(spec)
    figure = Figure(figsize=(width_in, height_in), dpi=dpi, layout="constrained", facecolor="white")
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    _style(axes)
    _draw(spec, axes)
    title = spec.title or (f"y = {spec.expression}" if spec.kind == "function" else "")
    axes.set_title(_plain(title), fontsize=10, color="#222222", loc="center", wrap=True)
    if spec.kind != "pie":
        axes.set_xlabel(_plain(spec.x_label or ("x" if spec.kind == "function" else "")), fontsize=9)
        axes.set_ylabel(_plain(spec.y_label or ("y" if spec.kind == "function" else "")), fontsize=9)
    buffer = io.BytesIO()
    if format == "svg":
        figure.savefig(buffer, format="svg")
        return buffer.getvalue()
    # One draw (savefig would draw twice to run the layout engine), then an RGB PNG: no
    # alpha channel, which a PDF would have to carry as a separate soft mask.
    from PIL import Image

    canvas.draw()
    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESSION, dpi=(dpi, dpi))
    return buffer.getvalue()

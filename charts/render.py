"""Drawing with seaborn on matplotlib's object API: no pyplot global state, safe in threads."""

from __future__ import annotations

import io
from typing import Any

from charts.spec import ChartSpec, parse_spec


def render_chart(spec: ChartSpec | dict[str, Any], *, width_in: float = 6.0, height_in: float = 3.2, dpi: int = 150) -> bytes:
    """PNG bytes of the chart described by `spec`."""
    import seaborn as sns
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if isinstance(spec, dict):
        spec = parse_spec(spec)
    figure = Figure(figsize=(width_in, height_in), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [str(v) for v in spec.x]
    with sns.axes_style("whitegrid"):
        if spec.kind == "bar":
            sns.barplot(x=labels, y=spec.y, ax=axes, color="#4C72B0")
        else:
            sns.lineplot(x=spec.x, y=spec.y, ax=axes, marker="o", color="#4C72B0")
    axes.set_title(spec.title)
    axes.set_xlabel(spec.x_label)
    axes.set_ylabel(spec.y_label)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

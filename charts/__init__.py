"""Charts: a chart spec (plain data) in, PNG bytes out.

Kinds: line, bar, histogram, scatter, box, pie and function plots y = f(x) (see
charts.spec for the exact spec). Specs are validated first (`ChartSpecError` names the
field), function expressions are read by the restricted parser shared with the maths
solver and never run as Python (charts.function, qagen.maths.expressions), and drawing
uses seaborn on matplotlib's object API with no global state, so `render_chart` is safe
to call from several threads at once.
"""

from charts.render import render_chart
from charts.spec import KINDS, ChartSpec, ChartSpecError, parse_spec

__all__ = ["KINDS", "ChartSpec", "ChartSpecError", "parse_spec", "render_chart"]

"""Diagrams: a chart spec (plain data) in, PNG bytes out. See charts.spec for the spec."""

from charts.render import render_chart
from charts.spec import ChartSpec, ChartSpecError, parse_spec

__all__ = ["ChartSpec", "ChartSpecError", "parse_spec", "render_chart"]

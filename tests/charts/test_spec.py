"""Chart specs are validated before any drawing, and every error names the field at fault."""

from __future__ import annotations

import pytest

from charts import ChartSpec, ChartSpecError, parse_spec
from charts.spec import MAX_BINS, MAX_CATEGORIES, MAX_POINTS, MAX_SLICES

GOOD = {
    "line": {"kind": "line", "title": "T", "x_label": "t", "y_label": "d", "x": [0, 1, 2], "y": [0, 1, 4]},
    "line of labels": {"kind": "line", "title": "T", "x_label": "", "y_label": "", "x": ["Jan", "Feb"], "y": [3, 5]},
    "bar": {"kind": "bar", "title": "T", "x_label": "", "y_label": "", "x": ["a", "b", 2019], "y": [1, 2.5, 3]},
    "histogram": {"kind": "histogram", "title": "T", "x_label": "", "y_label": "", "values": [1, 2, 2, 3], "bins": 3},
    "scatter": {"kind": "scatter", "title": "T", "x_label": "", "y_label": "", "x": [1, 2], "y": [3, 4]},
    "box of values": {"kind": "box", "title": "T", "x_label": "", "y_label": "", "values": [1, 2, 3, 9]},
    "box of groups": {"kind": "box", "title": "T", "x_label": "", "y_label": "", "groups": {"A": [1, 2], "B": [3]}},
    "pie": {"kind": "pie", "title": "T", "x_label": "", "y_label": "", "labels": ["a", "b"], "values": [1, 0]},
    "function": {"kind": "function", "title": "T", "x_label": "x", "y_label": "y", "expression": "x^2 - 3x",
                 "x_min": -2, "x_max": 5},
}


@pytest.mark.parametrize("name", list(GOOD))
def test_every_kind_of_spec_parses(name):
    spec = parse_spec(GOOD[name])

    assert isinstance(spec, ChartSpec)
    assert spec.kind == GOOD[name]["kind"]
    assert spec.title == "T"


def test_bar_categories_become_labels_and_numbers_become_floats():
    spec = parse_spec(GOOD["bar"])

    assert spec.x == ["a", "b", "2019"]
    assert spec.y == [1.0, 2.5, 3.0]


def test_a_chart_spec_passes_through_parse_spec_unchanged():
    spec = parse_spec(GOOD["line"])

    assert parse_spec(spec) is spec


def test_long_titles_are_shortened_not_refused():
    spec = parse_spec({**GOOD["line"], "title": "t" * 5000, "x_label": "x" * 5000})

    assert len(spec.title) <= 200 and spec.title.endswith("…")
    assert len(spec.x_label) <= 100


def _bad(base: str, **changes):
    spec = {**GOOD[base], **changes}
    return {k: v for k, v in spec.items() if v is not ...}


BAD = [
    # (spec, the field the message must name)
    ("not an object", ["line"], "chart spec"),
    ("unknown kind", _bad("line", kind="radar"), "'kind'"),
    ("missing kind", _bad("line", kind=...), "'kind'"),
    ("title not a string", _bad("line", title=["x"]), "'title'"),
    ("x missing", _bad("line", x=...), "'x'"),
    ("y not a list", _bad("line", y="1,2,3"), "'y'"),
    ("y empty", _bad("scatter", x=[], y=[]), "'x'"),
    ("lengths differ", _bad("line", y=[1, 2]), "'y'"),
    ("y not numbers", _bad("line", y=[1, "two", 3]), "'y[1]'"),
    ("y has a bool", _bad("line", y=[1, True, 3]), "'y[1]'"),
    ("y has NaN", _bad("line", y=[1, float("nan"), 3]), "'y[1]'"),
    ("y has infinity", _bad("bar", y=[1, float("inf"), 3]), "'y[1]'"),
    ("scatter x labels", _bad("scatter", x=["a", "b"]), "'x[0]'"),
    ("line x mixed", _bad("line", x=[1, "b", 3]), "'x'"),
    ("bar duplicate category", _bad("bar", x=["a", "a", "b"]), "'x'"),
    ("bar label not a label", _bad("bar", x=[{"a": 1}, "b", "c"]), "'x[0]'"),
    ("too many categories", _bad("bar", x=[str(i) for i in range(MAX_CATEGORIES + 1)],
                                 y=[1] * (MAX_CATEGORIES + 1)), "'x'"),
    ("too many points", _bad("line", x=list(range(MAX_POINTS + 1)), y=[0] * (MAX_POINTS + 1)), "'x'"),
    ("histogram values missing", _bad("histogram", values=...), "'values'"),
    ("bins not a whole number", _bad("histogram", bins=2.5), "'bins'"),
    ("bins out of range", _bad("histogram", bins=MAX_BINS + 1), "'bins'"),
    ("bins zero", _bad("histogram", bins=0), "'bins'"),
    ("box without data", _bad("box of values", values=...), "'values'"),
    ("box groups not an object", _bad("box of groups", groups=[1, 2]), "'groups'"),
    ("box group not numbers", _bad("box of groups", groups={"A": [1, "x"]}), "'groups.A[1]'"),
    ("box group empty", _bad("box of groups", groups={"A": []}), "'groups.A'"),
    ("pie negative", _bad("pie", values=[1, -1]), "'values'"),
    ("pie all zero", _bad("pie", values=[0, 0]), "'values'"),
    ("pie lengths differ", _bad("pie", values=[1]), "'values'"),
    ("pie too many slices", _bad("pie", labels=[str(i) for i in range(MAX_SLICES + 1)],
                                 values=[1] * (MAX_SLICES + 1)), "'labels'"),
    ("function without expression", _bad("function", expression=...), "'expression'"),
    ("function expression not text", _bad("function", expression=3), "'expression'"),
    ("function unknown name", _bad("function", expression="y + 1"), "'expression'"),
    ("function empty expression", _bad("function", expression="  "), "'expression'"),
    ("function bad syntax", _bad("function", expression="x +* 2"), "'expression'"),
    ("function unbalanced", _bad("function", expression="(x + 1"), "'expression'"),
    ("function x_min missing", _bad("function", x_min=...), "'x_min'"),
    ("function x_max not a number", _bad("function", x_max="5"), "'x_max'"),
    ("function empty range", _bad("function", x_min=3, x_max=3), "'x_min'"),
    ("function infinite range", _bad("function", x_max=float("inf")), "'x_max'"),
]


@pytest.mark.parametrize(("spec", "field"), [(spec, field) for _, spec, field in BAD],
                         ids=[name for name, _, _ in BAD])
def test_a_bad_spec_is_a_chart_spec_error_naming_the_field(spec, field):
    with pytest.raises(ChartSpecError) as caught:
        parse_spec(spec)

    assert field in str(caught.value)


def test_chart_spec_error_is_a_value_error():
    assert issubclass(ChartSpecError, ValueError)

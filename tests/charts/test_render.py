"""Every kind of chart renders to a PNG, safely from several threads at once."""

from __future__ import annotations

import io
import struct
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from charts import ChartSpecError, render_chart
from tests.charts.test_spec import GOOD

PNG = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("name", list(GOOD))
def test_every_kind_renders_a_png_of_sensible_size(name):
    data = render_chart(GOOD[name])

    assert data.startswith(PNG)
    width, height = png_size(data)
    assert (width, height) == (960, 510)  # 6.4 x 3.4 in at 150 dpi
    assert 3_000 < len(data) < 400_000
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGB"  # no alpha channel for the PDF to carry
        assert len(set(image.getdata())) > 2  # something was drawn


def test_size_and_resolution_can_be_chosen():
    data = render_chart(GOOD["bar"], width_in=4, height_in=2, dpi=100)

    assert png_size(data) == (400, 200)


def test_an_svg_variant_is_available():
    data = render_chart(GOOD["line"], format="svg")

    assert data.lstrip().startswith(b"<?xml") and b"<svg" in data


def test_dollar_signs_and_markup_in_labels_print_literally():
    spec = {**GOOD["bar"], "title": "Costs $5 and $10 <b>&</b> \\frac{x}", "x": ["$a$", "b$", "c"]}

    assert render_chart(spec).startswith(PNG)


def test_a_bad_spec_raises_chart_spec_error():
    with pytest.raises(ChartSpecError):
        render_chart({"kind": "pie", "labels": ["a"], "values": [-1]})


def test_a_function_with_asymptotes_still_renders():
    spec = {**GOOD["function"], "expression": "tan(x) + 1/x", "x_min": -6, "x_max": 6}

    assert render_chart(spec).startswith(PNG)


def test_large_but_allowed_data_renders():
    n = 10_000
    spec = {"kind": "scatter", "title": "many", "x_label": "", "y_label": "", "x": list(range(n)),
            "y": [(i * 7919) % 1000 for i in range(n)]}

    assert render_chart(spec).startswith(PNG)


def test_rendering_from_several_threads_at_once_gives_the_same_images():
    names = list(GOOD) * 3
    expected = {name: render_chart(GOOD[name]) for name in GOOD}

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda name: (name, render_chart(GOOD[name])), names))

    assert len(results) == len(names)
    for name, data in results:
        assert data == expected[name], name

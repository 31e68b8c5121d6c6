"""Charts of the offline engine read like a person drew them: named axes, readable captions."""

import pytest

from qagen.llm.offline_charts import chart_for, data_names, readable


@pytest.mark.parametrize(
    ("code", "caption"),
    [
        ("x**2 - 4*x + 3", "x² − 4x + 3"),
        ("2*x**3 - x + 1", "2x³ − x + 1"),
        ("(x + 1)*(x - 2)", "(x + 1)(x − 2)"),
        ("sin(x)*x", "sin(x)·x"),
        ("x**(-1) + 3*x*y", "x^(-1) + 3x·y"),
    ],
)
def test_a_function_caption_is_written_as_a_person_writes_it(code, caption):
    assert readable(code) == caption


def test_a_plotted_function_is_captioned_without_code_syntax():
    spec, _ = chart_for("Draw the graph of y = x^2 - 4x + 3 for 0 ≤ x ≤ 4.")
    assert spec["title"] == "y = x² − 4x + 3"
    assert spec["expression"] == "x**2 - 4*x + 3"  # the renderer still gets the exact expression


@pytest.mark.parametrize(
    ("sentence", "names"),
    [
        ("The marks of five students are 12, 15, 9, 18 and 14.", ("Marks of the students", "Marks", "Student")),
        ("The heights (in cm) of eight plants are 12, 14, 15 and 11.",
         ("Heights (in cm) of the plants", "Heights (in cm)", "Plant")),
        ("The weights of 5 boxes were 3, 4, 5, 6, 7.", ("Weights of the boxes", "Weights", "Box")),
        ("The ages of the families are given as follows: 3, 4, 5.", ("Ages of the families", "Ages", "Family")),
    ],
)
def test_a_bare_list_is_named_from_the_sentence_that_gives_it(sentence, names):
    assert data_names(sentence) == names


def test_a_list_with_no_such_sentence_keeps_neutral_names():
    assert data_names("Draw a bar chart of 4, 5 and 6.") == ("The data", "Value", "Item")


def test_the_named_list_becomes_the_bar_charts_axes():
    spec, _ = chart_for("The marks of five students are 12, 15, 9, 18 and 14. Draw a bar chart of the marks.")
    assert (spec["kind"], spec["x_label"], spec["y_label"]) == ("bar", "Student", "Marks")
    assert spec["y"] == [12, 15, 9, 18, 14]

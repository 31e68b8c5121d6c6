"""An edited paper is checked against the schema and the limits of parsing (qagen.paper_input)."""

from __future__ import annotations

import jsonschema
import pytest

from qagen.model import Paper, Part, Question
from qagen.paper_input import MAX_DEPTH, PaperInvalid, paper_json_schema, read_paper


def problems_of(data) -> dict[str, str]:
    with pytest.raises(PaperInvalid) as caught:
        read_paper(data)
    return caught.value.problems


def test_what_the_parser_writes_reads_back_unchanged():
    paper = Paper(title="Quiz", questions=[
        Question("1", "Define velocity.", 2.0, parts=[Part("a", "Its unit?", 1.0, parts=[Part("i", "In SI.")])]),
        Question("2", "", None, section="Section B")], warnings=["Check question 2."], confidence="medium")

    assert read_paper(paper.to_dict()) == paper


def test_every_wrong_field_is_named_with_its_path_in_words_a_person_can_act_on():
    problems = problems_of({"questions": [
        {"number": "1", "text": "Bell\x07", "colour": "red"},
        {"number": "", "text": "ok", "marks": -2},
        {"number": "3", "answer": {"text": "filled in"}}], "confidence": "sure"})

    assert "control character" in problems["questions.0.text"]
    assert "not a field" in problems["questions.0.colour"]
    assert problems["questions.1.number"] == "must not be empty"
    assert "questions.1.marks" in problems
    assert "written by qagen" in problems["questions.2.answer"]
    assert "high, medium, low" in problems["confidence"]


def test_newlines_and_tabs_are_text_but_other_controls_are_not():
    assert read_paper({"questions": [{"number": "1", "text": "a\nb\tc\r\n"}]}).questions[0].text == "a\nb\tc\r\n"
    for control in ("\x00", "\x1b", "\x7f", "\x0c"):
        assert "questions.0.text" in problems_of({"questions": [{"number": "1", "text": f"a{control}b"}]})


def test_the_limits_of_parsing_hold():
    assert "questions" in problems_of({"questions": []})
    assert "questions" in problems_of({"questions": [{"number": str(n)} for n in range(501)]})
    assert len(read_paper({"questions": [{"number": str(n)} for n in range(500)]}).questions) == 500
    assert "questions.0.text" in problems_of({"questions": [{"number": "1", "text": "x" * 20_001}]})
    # All the text of a paper: no more than its pages could hold.
    many = {"questions": [{"number": str(n), "text": "x" * 20_000} for n in range(31)]}
    assert "600,000" in problems_of(many)["questions"]
    assert read_paper(many, max_pages=100).questions


def test_parts_nest_at_most_the_limit():
    def nested(depth: int) -> dict:
        part: dict = {"label": "z"}
        for _ in range(depth - 1):
            part = {"label": "y", "parts": [part]}
        return {"questions": [{"number": "1", "parts": [part]}]}

    assert read_paper(nested(MAX_DEPTH))
    assert "questions.0.parts" in problems_of(nested(MAX_DEPTH + 1))


def test_papers_in_the_file_must_point_inside_the_questions():
    problems = problems_of({"questions": [{"number": "1"}], "papers": [{"title": "A", "first": 0, "count": 2}]})

    assert "papers.0" in problems


def test_not_an_object_is_refused():
    assert "(body)" in problems_of(["questions"])


def test_the_json_schema_says_the_same_as_the_checks():
    schema = paper_json_schema()
    validator = jsonschema.Draft202012Validator(schema)

    assert validator.is_valid({"questions": [{"number": "1", "text": "a\nb"}]})
    for bad in ({"questions": []}, {"questions": [{"number": "1", "colour": "red"}]},
                {"questions": [{"number": "1", "text": "a\x07"}]}, {"questions": [{"number": "1", "marks": -1}]},
                {"questions": [{"number": "1", "text": "x" * 20_001}]}):
        assert not validator.is_valid(bad), bad
        with pytest.raises(PaperInvalid):
            read_paper(bad)

"""The parser's output matches the JSON Schema published in docs/schema.md."""

from __future__ import annotations

import json
import re

import pytest

from tests.parsing.helpers import REPO, parse_text


def _schema() -> dict:
    doc = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    match = re.search(r"## JSON Schema\n\n```json\n(.*?)```", doc, re.S)
    assert match, "docs/schema.md has no JSON Schema block"
    return json.loads(match.group(1))


def test_output_validates_against_the_documented_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    paper = parse_text(
        """
        Physics Unit Test          Maximum Marks: 15
        SECTION A (2 x 1 = 2)
        1. Which quantity is a vector? (a) mass (b) speed (c) velocity (d) time
        2. State the SI unit of power.
        SECTION B
        3. (a) Define work. [2]
           (b) Find: (i) the work done; [2] (ii) the speed. [2]
        4. Derive the work-energy theorem. [5]
           OR
           Derive the kinetic energy of a body. [5]
        """
    )
    jsonschema.validate(paper.to_dict(), _schema())


def test_given_answers_several_papers_warnings_and_translations_validate_too() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from qagen.model import Paper, PaperInFile, Question, Translation

    parsed = parse_text(
        """
        Internal Test 1: Compiler Design
        Time: 1 hour                         Max. Marks: 10
        1. Define a token. [5]
        Answer: The smallest meaningful unit of a program.
        3. What is a regular expression? [5]
        Internal Test 1: Cloud Computing
        Time: 1 hour                         Max. Marks: 10
        1. What is virtualisation? [10]
        """
    )
    built = Paper(title="T", questions=[
        Question(number="1", text="Define work.", marks=2, given_answer="Force times displacement.",
                 translations=[Translation("Hindi", "कार्य की परिभाषा दीजिए।")],
                 alternatives=[Question(number="1", text="Define power.", marks=2)]),
        Question(number="1", text="Define energy.", marks=2),
    ], papers=[PaperInFile("A", 0, 1, 2.0), PaperInFile("B", 1, 1, None)],
        warnings=["The file holds 2 papers; their questions are listed one paper after another."], confidence="low")

    schema = _schema()
    for paper in (parsed, built):
        jsonschema.validate(paper.to_dict(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**built.to_dict(), "confidence": "certain"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({k: v for k, v in built.to_dict().items() if k != "warnings"}, schema)


def test_documented_example_is_what_the_parser_prints() -> None:
    doc = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    source = re.search(r"Input \(`paper.txt`.*?```text\n(.*?)```", doc, re.S).group(1)
    shown = json.loads(re.search(r"`qagen parse paper.txt`.*?```json\n(.*?)```", doc, re.S).group(1))
    paper = parse_text(source).to_dict()
    for key in ("title", "instructions", "total_marks", "sections", "papers", "warnings", "confidence"):
        assert paper[key] == shown[key]
    assert [(q["number"], q["text"], q["marks"]) for q in paper["questions"]] == [
        (q["number"], q["text"], q["marks"]) for q in shown["questions"]
    ]

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


def test_documented_example_is_what_the_parser_prints() -> None:
    doc = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    source = re.search(r"Input \(`paper.txt`.*?```text\n(.*?)```", doc, re.S).group(1)
    shown = json.loads(re.search(r"`qagen parse paper.txt`.*?```json\n(.*?)```", doc, re.S).group(1))
    paper = parse_text(source).to_dict()
    for key in ("title", "instructions", "total_marks", "sections"):
        assert paper[key] == shown[key]
    assert [(q["number"], q["text"], q["marks"]) for q in paper["questions"]] == [
        (q["number"], q["text"], q["marks"]) for q in shown["questions"]
    ]

"""`qagen answer` runs the same pipeline in-process, with no services."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pdfplumber

from tests.conftest import REPO


def run_qagen(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qagen.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_answer_writes_a_pdf_and_json_with_every_question(tmp_path):
    pdf_path, json_path = tmp_path / "out.pdf", tmp_path / "out.json"

    result = run_qagen("answer", "examples/sample-paper.txt", "-o", str(pdf_path), "--json", str(json_path))

    assert result.returncode == 0, result.stderr
    paper = json.loads(json_path.read_text())
    assert [q["number"] for q in paper["questions"]] == [str(n) for n in range(1, 12)]
    assert all(q["answer"]["text"] for q in paper["questions"])
    statuses = [q["answer"]["status"] for q in paper["questions"]]
    with pdfplumber.open(io.BytesIO(pdf_path.read_bytes())) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
    assert "Question 10" in text
    assert f"answered {statuses.count('answered')} of {len(statuses)}" in result.stdout  # and why not, if any


def test_answer_reports_an_unreadable_paper_plainly(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("Nothing numbered here.")

    result = run_qagen("answer", str(bad), "-o", str(tmp_path / "x.pdf"))

    assert result.returncode == 1
    assert "no numbered questions" in result.stderr
    assert "Traceback" not in result.stderr


TWO_TESTS_WITH_A_KEY = """Internal Test 1: Compiler Design
Time: 1 hour                         Max. Marks: 15
1. Define a token. [5]
Answer: A token is the smallest meaningful unit of a program, such as a keyword or an identifier.
2. What is a regular expression? [5]
4. Draw the phases of a compiler. [5]
Internal Test 1: Cloud Computing
Time: 1 hour                         Max. Marks: 20
1. What is virtualisation? [10]
2. Explain the service models of cloud computing. [10]
"""


def test_parse_as_text_puts_confidence_and_warnings_first_then_each_paper_and_the_papers_answers(tmp_path):
    paper = tmp_path / "tests.txt"
    paper.write_text(TWO_TESTS_WITH_A_KEY)

    result = run_qagen("parse", "--format", "text", str(paper))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == ["Internal Test 1: Compiler Design", "5 questions in 2 papers", "Parse confidence: low",
                         "Check on the printed paper:"]
    assert "  - The numbering jumps from 2 to 4: check whether question 3 is on the paper." in lines
    listing = lines.index("2 papers in this file:")
    assert lines[listing + 1:listing + 3] == ["  1. Internal Test 1: Compiler Design: 3 questions, 15 marks",
                                              "  2. Internal Test 1: Cloud Computing: 2 questions, 20 marks"]
    first, second = (lines.index(f"=== Paper {n}: Internal Test 1: {name} ===")
                     for n, name in ((1, "Compiler Design"), (2, "Cloud Computing")))
    assert listing < first < lines.index("1. Define a token.  [5]") < second < lines.index(
        "1. What is virtualisation?  [10]")
    assert lines[lines.index("1. Define a token.  [5]") + 1] == (
        "    Paper's answer: A token is the smallest meaningful unit of a program, such as a keyword or an identifier.")


def test_the_outline_shows_translations_and_a_clean_parse_briefly():
    from qagen.cli.outline import paper_outline
    from qagen.model import Paper, Part, Question, Translation

    paper = Paper(title="Physics", total_marks=4, questions=[
        Question(number="1", text="Define work.", marks=2, translations=[Translation("Hindi", "कार्य की परिभाषा दीजिए।"),
                                                                         Translation("", "Définir le travail.")],
                 parts=[Part("a", "In words.", 1), Part("b", "As a formula.", 1)],
                 given_answer="(a) Force times displacement.\n(b) W = F s"),
        Question(number="2", text="Define power.", marks=2),
    ])

    lines = paper_outline(paper).splitlines()

    assert lines[:4] == ["Physics", "2 questions, 4 marks", "Parse confidence: high", ""]
    assert lines[4:10] == ["1. Define work.  [2]", "    Translation (Hindi): कार्य की परिभाषा दीजिए।",
                           "    Translation: Définir le travail.", "    (a) In words.  [1]", "    (b) As a formula.  [1]",
                           "    Paper's answer: (a) Force times displacement. (b) W = F s"]
    assert "papers in this file" not in "\n".join(lines) and "Check on" not in "\n".join(lines)


def test_the_documented_text_outline_is_what_the_parser_prints():
    import re

    from qagen.cli.outline import paper_outline
    from qagen.parsing import parse_document

    doc = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    source = re.search(r"Input \(`paper.txt`.*?```text\n(.*?)```", doc, re.S).group(1)
    shown = re.search(r"`qagen parse --format text paper.txt`.*?```text\n(.*?)```", doc, re.S).group(1)

    assert paper_outline(parse_document(source.encode(), "paper.txt")) == shown.rstrip("\n")


def test_answer_tells_the_person_what_to_check_on_the_paper(tmp_path):
    paper = tmp_path / "tests.txt"
    paper.write_text(TWO_TESTS_WITH_A_KEY)

    result = run_qagen("answer", str(paper), "-o", str(tmp_path / "a.pdf"))

    assert result.returncode == 0, result.stderr
    assert "Parse confidence: low" in result.stderr
    assert "  - The numbering jumps from 2 to 4: check whether question 3 is on the paper." in result.stderr

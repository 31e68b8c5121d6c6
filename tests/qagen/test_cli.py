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
    with pdfplumber.open(io.BytesIO(pdf_path.read_bytes())) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
    assert "Question 10" in text


def test_answer_reports_an_unreadable_paper_plainly(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("Nothing numbered here.")

    result = run_qagen("answer", str(bad), "-o", str(tmp_path / "x.pdf"))

    assert result.returncode == 1
    assert "no numbered questions" in result.stderr
    assert "Traceback" not in result.stderr

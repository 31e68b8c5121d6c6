"""`make demo`: the bundled course notes answer the sample paper, and the demo attaches them
through the API as an LMS would, on the real stack it starts itself."""

from __future__ import annotations

import io
import os
import re

# Read by litellm at import (the in-process engine below): never fetch the price map from the network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pdfplumber  # noqa: E402
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from devtools.provenance import Provenance, provenance, summarise  # noqa: E402
from qagen.model import Paper  # noqa: E402
from tests.conftest import EXAMPLE_PAPER, REPO  # noqa: E402

NOTES = REPO / "examples" / "notes"

# Question number -> the notes file that covers it.
FROM_NOTES = {"1": "forces-and-motion.md", "2": "plants-and-cells.md", "6": "light-and-colour.txt",
              "9": "plants-and-cells.md"}
# Question number -> what the exact result looks like after "**Answer:**".
COMPUTED = {"3": "x = 4", "4": "= 3 x^{2} + 2", "5": "dx = 9", "7": "$60$ km/h", "8": "x + 3", "10": "13.6"}


def normalised(text: str) -> str:
    # Chunks join a paragraph's wrapped lines, so a quote matches the file up to whitespace.
    return " ".join(text.split())


@pytest.fixture(scope="module")
def answered() -> Paper:
    """The sample paper answered in-process with the bundled notes, as `qagen answer --knowledge` does."""
    from qagen.answering.engine import AnswerEngine
    from qagen.knowledge import KnowledgeIndex, chunk_document
    from qagen.parsing import parse_document

    chunks = [chunk for file in sorted(NOTES.iterdir()) for chunk in chunk_document(file.read_bytes(), file.name)]
    paper = parse_document(EXAMPLE_PAPER.read_bytes(), EXAMPLE_PAPER.name, max_pages=60)
    return AnswerEngine(model="qagen/offline", knowledge=KnowledgeIndex.build(chunks)).answer_paper(paper)


def test_the_notes_are_markdown_and_text_on_more_than_one_subject():
    names = sorted(p.name for p in NOTES.iterdir())

    assert names == ["forces-and-motion.md", "light-and-colour.txt", "plants-and-cells.md"]


@pytest.mark.parametrize("number", sorted(FROM_NOTES))
def test_the_non_computational_questions_are_answered_from_the_notes_with_real_quotes(answered, number):
    question = next(q for q in answered.questions if q.number == number)
    answer = question.answer

    assert provenance(answer) == Provenance.NOTES, answer.text
    assert answer.citations[0].document == FROM_NOTES[number]
    for citation in answer.citations:
        assert normalised(citation.excerpt) in normalised((NOTES / citation.document).read_text())
    assert "[1]" in answer.text


def test_the_notes_answers_say_what_the_question_asks(answered):
    text = {q.number: q.answer.text.lower() for q in answered.questions}

    assert "proportional to the resultant force" in text["1"]
    assert "oxygen" in text["2"]  # "name the gas it releases"
    assert "scatter" in text["6"]
    assert "mitosis" in text["9"] and "meiosis" in text["9"] and "haploid" in text["9"]


@pytest.mark.parametrize("number", sorted(COMPUTED, key=int))
def test_the_computational_questions_are_solved_exactly(answered, number):
    answer = next(q for q in answered.questions if q.number == number).answer

    assert provenance(answer) == Provenance.COMPUTED, answer.text
    assert COMPUTED[number] in answer.text.split("**Answer:**")[-1]


def test_no_answer_says_no_source_was_found(answered):
    summary = summarise(answered)

    assert summary.answers == 11
    assert (summary.from_notes, summary.computed, summary.charts_only, summary.no_source, summary.other) == (4, 6, 1, 0, 0)
    assert not any("No source was found" in q.answer.text for q in answered.questions)


# --- the command ---------------------------------------------------------------------------


def test_note_files_are_taken_from_a_folder_without_hidden_ones(tmp_path):
    from devtools.demo import DemoFailed, note_files

    (tmp_path / "unit 1").mkdir()
    (tmp_path / "unit 1" / "forces.md").write_text("# Forces")
    (tmp_path / "waves.txt").write_text("Waves")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")

    assert note_files(tmp_path) == [tmp_path / "unit 1" / "forces.md", tmp_path / "waves.txt"]
    assert note_files(tmp_path / "waves.txt") == [tmp_path / "waves.txt"]
    (tmp_path / "unit 2").mkdir()
    (tmp_path / "unit 2" / ".DS_Store").write_bytes(b"\0")
    with pytest.raises(DemoFailed, match="no note files in .*--no-notes"):
        note_files(tmp_path / "unit 2")


def test_the_demo_command_passes_the_notes_or_none(monkeypatch):
    import devtools.demo
    from devtools.__main__ import main

    calls = []
    monkeypatch.setattr(devtools.demo, "run_demo", lambda paper, out_dir, notes=None: calls.append(notes) or 0)
    monkeypatch.chdir(REPO)

    for args in ([], ["--no-notes"], ["--notes", "examples/notes/plants-and-cells.md"]):
        result = CliRunner().invoke(main, ["demo", *args])
        assert result.exit_code == 0, result.output

    assert [str(n) if n else None for n in calls] == ["examples/notes", None, "examples/notes/plants-and-cells.md"]


def test_an_api_error_is_shown_with_its_own_message():
    import httpx

    from devtools.demo import error_message

    refused = httpx.Response(415, json={"error": {"code": "unsupported_media_type", "message": "Not a paper."}})

    assert error_message(refused) == "415 Not a paper."
    assert error_message(httpx.Response(502, text="Bad gateway")) == "502 Bad gateway"


# --- against the running stack ---------------------------------------------------------------


def _blank_pdf() -> bytes:
    import pypdfium2

    document = pypdfium2.PdfDocument.new()
    document.new_page(595, 842)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "The notes were refused: 415 scan.png: images are not supported as notes"),
    ("blank.pdf", None, "The notes could not be indexed: No document had readable text"),
])
def test_notes_the_api_cannot_use_stop_the_demo_with_the_reason(stack, api_key, tmp_path, name, content, message):
    from devtools.demo import DemoFailed, act_as_an_lms

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / name).write_bytes(content if content is not None else _blank_pdf())

    with pytest.raises(DemoFailed) as failure:
        act_as_an_lms(stack.layout.api_url, api_key, EXAMPLE_PAPER, notes, tmp_path / "out", timeout_seconds=60)

    assert str(failure.value).startswith(message), failure.value
    assert not (tmp_path / "out").exists()  # no paper was sent


def test_without_notes_the_demo_says_so_and_counts_the_unsourced_answers(stack, api_key, tmp_path, capsys):
    from devtools.demo import act_as_an_lms

    act_as_an_lms(stack.layout.api_url, api_key, EXAMPLE_PAPER, None, tmp_path / "out", timeout_seconds=120)

    output = capsys.readouterr().out
    assert "without course notes" in output and "knowledge base" not in output
    assert ("11 answers: 0 from the course notes (cited), 6 worked out exactly (sympy), 1 drawn from the question's data, "
            "4 with no source found") in output
    assert (tmp_path / "out" / "sample-paper-answers.pdf").read_bytes().startswith(b"%PDF")


# --- end to end ------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_demo_attaches_the_notes_and_reports_where_answers_came_from(tmp_path, monkeypatch, capsys):
    from devtools.demo import run_demo

    monkeypatch.chdir(tmp_path)  # the demo keeps its stack's data under ./.qagen

    code = run_demo(EXAMPLE_PAPER, tmp_path / "out", notes=NOTES, timeout_seconds=180)

    output = capsys.readouterr().out
    assert code == 0, output
    kb_id = re.search(r"^  knowledge base (\S+)$", output, re.M).group(1)
    assert re.search(r"\[ready\] \d+ passages from 3 document\(s\)", output)
    assert f"with knowledge_base={kb_id}" in output
    summary = re.search(r"^11 answers: (\d+) from the course notes \(cited\), (\d+) worked out exactly \(sympy\), "
                        r"(\d+) drawn from the question's data, (\d+) with no source found; (\d+) charts? drawn\.$",
                        output, re.M)
    assert summary, output
    from_notes, computed, charts_only, no_source, charts = map(int, summary.groups())
    assert from_notes >= 4 and no_source == 0 and from_notes + computed + charts_only == 11
    assert charts == 2  # the bar chart of the marks and the graph of the quadratic
    pdf = (tmp_path / "out" / "sample-paper-answers.pdf").read_bytes()
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
    assert "forces-and-motion.md" in text and "light-and-colour.txt" in text  # the sources are in the PDF
    assert "No source was found" not in text
    assert re.search(r"^http://127\.0\.0\.1:\d+/\S+X-Amz-Signature=\S+$", output, re.M)

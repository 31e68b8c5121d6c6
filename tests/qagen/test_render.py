"""The PDF survives whatever text a paper or an answer contains."""

from __future__ import annotations

import io

import pdfplumber

from qagen.model import Answer, Option, Paper, Part, Question
from qagen.pipeline.diagrams import draw_diagrams
from qagen.pipeline.render import render_pdf


def pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


def test_markup_control_characters_and_unicode_print_as_text():
    hostile = 'Is <b>bold</b> & <script>alert("x")</script> safe?\x00\x07 αβγ ≤ ∑ déjà'
    paper = Paper(title="<Title & Co>", questions=[
        Question(number="1", text=hostile, marks=2, answer=Answer(text="Yes </para> <font>not markup</font>")),
    ])

    text = pdf_text(render_pdf(paper, {}, model="qagen/offline"))

    assert '<script>alert("x")</script>' in text
    assert "αβγ ≤ ∑ déjà" in text
    assert "</para> <font>not markup</font>" in text


def test_parts_options_alternatives_and_a_broken_chart_all_render():
    part = Part(label="a", text="Plot it.", marks=1, answer=Answer(text="Here.", chart={"kind": "pie"}))
    paper = Paper(title="T", questions=[
        Question(number="1", text="Stem", marks=3, parts=[part]),
        Question(number="2", text="Pick one", marks=1, options=[Option("A", "alpha"), Option("B", "beta")],
                 answer=Answer(text="B"), alternatives=[Question(number="2", text="Or this", answer=Answer(text="Alt"))]),
    ])

    figures = draw_diagrams(paper)
    text = pdf_text(render_pdf(paper, figures, model="m"))

    assert "overview" in figures
    assert "Note: The diagram could not be drawn" in text
    for expected in ("Question 1", "(a) Plot it.", "(A) alpha", "OR", "Alt"):
        assert expected in text

"""The answers PDF: what it contains, that it is well-formed, and that no input can break it."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pdfplumber
import pypdfium2
import pytest

from qagen.model import Answer, Citation, Option, Paper, PaperInFile, Part, Question, Section, Translation
from qagen.pipeline import render as render_module
from qagen.pipeline.diagrams import OVERVIEW, draw_diagrams, overview_spec
from devtools.sample_paper import sample_paper
from qagen.pipeline.render import render_pdf

QPDF = shutil.which("qpdf")
PDFFONTS = shutil.which("pdffonts")


def pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def page_texts(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [page.extract_text() or "" for page in document.pages]


def fast_text(pdf: bytes) -> str:
    """pypdfium2's text: much faster than pdfplumber for the page-heavy stress documents."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def image_count(pdf: bytes) -> int:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return sum(len(page.images) for page in document.pages)


def outline(pdf: bytes) -> list[tuple[int, str, int]]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [(item.level, item.get_title(), item.get_dest().get_index()) for item in document.get_toc()]
    finally:
        document.close()


def assert_qpdf_ok(pdf: bytes, tmp_path) -> None:
    if QPDF is None:
        pytest.skip("qpdf is not installed (apt-get install qpdf)")
    path = tmp_path / "check.pdf"
    path.write_bytes(pdf)
    result = subprocess.run([QPDF, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


# -- a plain paper whose every answer can be looked for in the text -----------------------------

def plain_paper() -> Paper:
    return Paper(title="Unit test: Plants & Energy", instructions="Answer everything.", total_marks=None, questions=[
        Question(number="1", text="Name the green pigment in leaves.", marks=1,
                 answer=Answer(text="Chlorophyll absorbs red and blue light.")),
        Question(number="2", text="Pick one.", marks=1, options=[Option("A", "xylem"), Option("B", "phloem")],
                 answer=Answer(text="B carries sugars downward.")),
        Question(number="3", text="Photosynthesis.", marks=5, parts=[
            Part(label="a", text="Write the word equation.", marks=2,
                 answer=Answer(text="Carbon dioxide plus water gives glucose plus oxygen.",
                               citations=[Citation("biology-notes.pdf", 12, "Light energy drives the reaction.")])),
            Part(label="b", text="Limiting factors.", marks=3, parts=[
                Part(label="i", text="Name one.", marks=1, answer=Answer(text="Light intensity limits the rate.")),
                Part(label="ii", text="Name another.", marks=2, answer=Answer(text="Temperature limits enzymes.")),
            ]),
        ]),
        Question(number="4", text="Explain transpiration.", marks=4,
                 answer=Answer(text="Water evaporates from stomata and pulls a column up the xylem."),
                 alternatives=[Question(number="4", text="Explain translocation.", marks=4,
                                        answer=Answer(text="Sugars move through phloem sieve tubes."))]),
    ])


ANSWERS = [
    "Chlorophyll absorbs red and blue light.",
    "B carries sugars downward.",
    "Carbon dioxide plus water gives glucose plus oxygen.",
    "Light intensity limits the rate.",
    "Temperature limits enzymes.",
    "Water evaporates from stomata and pulls a column up the xylem.",
    "Sugars move through phloem sieve tubes.",
]


@pytest.fixture(scope="module")
def plain_pdf() -> bytes:
    paper = plain_paper()
    return render_pdf(paper, draw_diagrams(paper), model="qagen/offline", subject="Biology",
                      date=dt.date(2026, 3, 14))


@pytest.fixture(scope="module")
def sample() -> tuple[Paper, dict, bytes]:
    paper = sample_paper()
    figures = draw_diagrams(paper)
    return paper, figures, render_pdf(paper, figures, model="openai/gpt-4o-mini", subject="Science")


# -- well-formed ----------------------------------------------------------------------------------

def test_qpdf_check_passes_on_the_benchmark_paper(sample, tmp_path):
    assert_qpdf_ok(sample[2], tmp_path)


def test_every_font_is_embedded_and_no_helvetica_remains(sample, tmp_path):
    if PDFFONTS is None:
        pytest.skip("pdffonts is not installed (apt-get install poppler-utils)")
    path = tmp_path / "fonts.pdf"
    path.write_bytes(sample[2])
    rows = subprocess.run([PDFFONTS, str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]

    assert rows, "no fonts listed"
    for row in rows:
        name, embedded = row.split()[0], row.split()[-5]
        assert "DejaVu" in name, row
        assert embedded == "yes", row


# -- content ----------------------------------------------------------------------------------------

def test_text_contains_every_question_number_and_every_answer(plain_pdf):
    text = flat(pdf_text(plain_pdf))

    for number in ("1", "2", "3", "4"):
        assert f"Question {number}" in text
    for answer in ANSWERS:
        assert answer in text
    for printed in ("(a) Write the word equation.", "(i) Name one.", "(A) xylem", "(B) phloem", "— OR —"):
        assert printed in text


def test_the_cover_has_title_subject_totals_date_and_model(plain_pdf):
    cover = flat(page_texts(plain_pdf)[0])

    assert "WORKED ANSWERS" in cover
    assert "Unit test: Plants & Energy" in cover
    assert "Biology" in cover
    assert "Questions 4 (1 with parts, 1 with a choice)" in cover
    assert "Total marks 11" in cover
    assert "14 March 2026" in cover
    assert "qagen/offline" in cover
    assert "Paper overview" in cover


def test_the_overview_lists_every_question_with_its_marks(plain_pdf):
    cover = flat(page_texts(plain_pdf)[0])

    assert "Q Parts Marks Begins" in cover
    assert "3 2 5 Photosynthesis." in cover
    assert "Total 11" in cover


def test_the_sample_paper_has_every_question_and_answer_word(sample):
    paper, _, pdf = sample
    text = flat(pdf_text(pdf))

    for question in paper.questions:
        assert f"Question {question.number}" in text
    assert "The sample is small and was collected once" in text
    assert "Sources" in text and "[1] physics-notes.pdf, p. 12:" in text


def test_every_question_has_a_bookmark_pointing_at_its_page(plain_pdf):
    entries = outline(plain_pdf)
    pages = page_texts(plain_pdf)
    titles = [title for _, title, _ in entries]

    assert titles[:2] == ["Cover and overview", "Contents"]
    for number in ("1", "2", "3", "4"):
        matches = [(level, page) for level, title, page in entries if title.startswith(f"Question {number}:")]
        assert matches, f"no bookmark for question {number}"
        level, page = matches[0]
        assert level == 0
        assert f"Question {number}" in pages[page]
    assert any(title.startswith("Question 4, alternative 1") and level == 1 for level, title, _ in entries)


def test_sections_nest_their_questions_in_the_outline(sample):
    entries = outline(sample[2])

    sections = [(level, title) for level, title, _ in entries if title.startswith("Section")]
    assert [level for level, _ in sections] == [0, 0, 0]
    questions = [level for level, title, _ in entries if re.match(r"Question \d+:", title)]
    assert len(questions) == 40 and set(questions) == {1}


def test_the_contents_page_numbers_match_the_pages(plain_pdf):
    pages = page_texts(plain_pdf)
    contents = next(text for text in pages if text.startswith("Unit test") and "Contents" in text)

    for number in ("1", "3", "4"):
        line = next(line for line in contents.splitlines() if line.startswith(f"Question {number} "))
        page = int(line.split()[-1])
        assert f"Question {number}" in pages[page - 1].split("Worked answers", 1)[1]
    with pdfplumber.open(io.BytesIO(plain_pdf)) as document:
        links = [a for page in document.pages for a in page.annots if a["data"].get("Subtype").name == "Link"]
    assert len(links) >= 4  # every contents line links to its question


def test_pages_have_a_running_header_and_page_n_of_m(plain_pdf):
    pages = page_texts(plain_pdf)
    total = len(pages)

    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text
    for text in pages[1:]:
        assert text.startswith("Unit test: Plants & Energy")


def test_charts_are_embedded_as_images(sample):
    paper, figures, pdf = sample

    assert OVERVIEW in figures and len(figures) == 9  # the overview and 8 answer charts
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        charts = [image for page in document.pages for image in page.images if image["srcsize"] == (960, 510)]
    assert len(charts) == 9
    assert "Figure 8." in pdf_text(pdf)


def test_greek_maths_symbols_and_accents_round_trip():
    unicode = "αβγ ΔΩ π ≤ ≥ ≠ ≈ ∑ ∫ √ ∞ ± × ÷ ° µ déjà vu, naïve façade, Ångström, Øresund, Ελληνικά"
    paper = Paper(title=f"Ünïcödé {unicode}", questions=[
        Question(number="1", text=unicode, marks=1,
                 answer=Answer(text=unicode, citations=[Citation(unicode, 1, unicode)])),
    ])

    text = flat(pdf_text(render_pdf(paper, {}, model="m")))

    assert text.count(unicode) >= 4  # stem, answer, source document and excerpt


def test_markdown_renders_bold_italic_code_lists_and_tables():
    answer = ("Plain then **strongly said** and *gently said* and `code_word`.\n\n"
              "- first point\n- second point\n\n1. step one\n2. step two\n\n"
              "| Name | Value |\n|---|---|\n| alpha | 1 |\n| beta | 2 |\n\n"
              "```\nfor i in range(3): print(i)\n```\n\n> quoted remark")
    pdf = render_pdf(Paper("T", [Question("1", "Q", 1, answer=Answer(answer))]), {}, model="m")
    text = flat(pdf_text(pdf))

    assert "strongly said" in text and "**" not in text
    assert "gently said" in text and "*gently" not in text
    assert "code_word" in text and "`" not in text
    assert "• first point" in text and "1. step one" in text and "2. step two" in text
    assert "Name Value alpha 1 beta 2" in text
    assert "for i in range(3): print(i)" in text
    assert "quoted remark" in text and ">" not in text
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        fonts = {}
        for page in document.pages:
            for word in page.extract_words(extra_attrs=["fontname"]):
                fonts[word["text"]] = word["fontname"]
    assert fonts["strongly"].endswith("DejaVuSans-Bold")
    assert fonts["gently"].endswith("DejaVuSans-Oblique")
    assert fonts["code_word"].endswith("DejaVuSansMono")


def test_math_becomes_an_image_and_unparseable_math_stays_as_text():
    good = Paper("T", [Question("1", "Q", 1, answer=Answer(r"So $\frac{a}{b} = x^2$ and $$\sqrt{x}$$ hold."))])
    bad = Paper("T", [Question("1", "Q", 1, answer=Answer(r"Here $\begin{align} q &= 1 \end{align}$ stays."))])

    good_pdf, bad_pdf = render_pdf(good, {}, model="m"), render_pdf(bad, {}, model="m")

    assert image_count(good_pdf) >= 2
    assert "frac" not in pdf_text(good_pdf) and "So" in pdf_text(good_pdf)
    assert image_count(bad_pdf) == 0
    assert r"\begin{align} q &= 1 \end{align}" in flat(pdf_text(bad_pdf))


def test_prices_are_not_mistaken_for_math():
    pdf = render_pdf(Paper("T", [Question("1", "Q", 1, answer=Answer("It costs $5 and $10 now."))]), {}, model="m")

    assert "It costs $5 and $10 now." in pdf_text(pdf)
    assert image_count(pdf) == 0


def test_a_paper_without_marks_still_gets_an_overview_table():
    paper = Paper("No marks", [Question(str(i), f"Describe process number {i} in detail please", None,
                                        answer=Answer("ok")) for i in range(1, 4)])

    figures = draw_diagrams(paper)
    cover = flat(page_texts(render_pdf(paper, figures, model="m"))[0])

    assert OVERVIEW not in figures
    assert "not printed on the paper" in cover
    assert "Q Parts Begins" in cover and "2 – Describe process number 2 in detail please" in cover


def test_the_overview_chart_is_per_section_when_sections_carry_marks():
    paper = Paper("S", [Question("1", "a", 2, section="Section A: Short"), Question("2", "b", 3, section="Section B")],
                  sections=[Section("Section A: Short", marks=20), Section("Section B", marks=30)])

    spec = overview_spec(paper)

    assert spec["title"] == "Marks per section" and spec["x"] == ["Section A", "Section B"] and spec["y"] == [20, 30]
    assert overview_spec(Paper("Q", [Question("1", "a", 2), Question("1", "b", 3)]))["x"] == ["1", "1 (2)"]
    assert overview_spec(Paper("one", [Question("1", "a", 2)])) is None


@pytest.mark.parametrize(("page_size", "expected"),
                         [("A4", (595, 842)), ("Letter", (612, 792)), ("letter", (612, 792))])
def test_page_size_is_a4_or_letter(page_size, expected):
    pdf = render_pdf(plain_paper(), {}, model="m", page_size=page_size)

    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert all((round(p.width), round(p.height)) == expected for p in document.pages)


def test_an_unknown_page_size_is_refused():
    with pytest.raises(ValueError, match="page_size"):
        render_pdf(plain_paper(), {}, model="m", page_size="A5")


# -- what the parse found: confidence, warnings, several papers, the paper's answer key --------------

def test_a_clean_parse_shows_its_confidence_quietly_and_no_check_box(plain_pdf):
    cover = flat(page_texts(plain_pdf)[0])

    assert "Parse confidence high" in cover
    assert "Check these" not in flat(pdf_text(plain_pdf))


def test_the_cover_counts_the_items_answered_and_says_why_the_others_were_not():
    paper = plain_paper()
    paper.questions[0].answer = Answer(text="The notes searched do not cover it.", status="not_in_notes")
    paper.questions[3].answer = Answer(text="This asks for a proof.", status="needs_model")

    cover = flat(page_texts(render_pdf(paper, {}, model="m"))[0])

    assert "Answered 5 of 7; 1 not covered by the notes, 1 need a language model" in cover


def test_a_fully_answered_paper_says_so_on_the_cover(plain_pdf):
    assert "Answered 7 of 7" in flat(page_texts(plain_pdf)[0])


def test_the_parses_warnings_are_a_check_these_box_on_the_cover():
    warnings = [f"The numbering jumps from {n} to {n + 2}: check whether question {n + 1} is on the paper."
                for n in range(1, 20, 2)]
    paper = plain_paper()
    paper.warnings, paper.confidence = warnings, "low"

    pages = page_texts(render_pdf(paper, {}, model="m"))
    cover = flat(pages[0])

    assert "Parse confidence low: check the points below" in cover
    assert "Check these on the printed paper" in cover
    for warning in warnings[:8]:
        assert f"• {warning}" in cover
    assert warnings[8] not in cover and "… and 2 more" in cover
    assert "Check these" not in flat("\n".join(pages[1:]))


def test_the_papers_answer_key_is_shown_after_the_generated_answer():
    paper = Paper("Key", [
        Question("1", "Define a queue.", 2, answer=Answer("A queue is first in, first out."),
                 given_answer="A linear data structure that follows the FIFO principle."),
        Question("2", "Answer these.", 2, parts=[Part("a", "2 + 2?", 1, answer=Answer("It is four.")),
                                                Part("b", "3 x 3?", 1, answer=Answer("It is nine."))],
                 given_answer="(a) 4\n(b) 9", translations=[Translation("French", "Répondez.")],
                 alternatives=[Question("2", "Or this.", 2, answer=Answer("Alternative answer."),
                                        given_answer="Alternative key.")]),
        Question("3", "No key here.", 1, answer=Answer("Plain.")),
    ])

    text = pdf_text(render_pdf(paper, {}, model="m"))
    body = flat(text)

    assert ("ANSWER A queue is first in, first out. The paper's answer key "
            "A linear data structure that follows the FIFO principle.") in body
    assert "It is nine. The paper's answer key (a) 4 (b) 9" in body
    assert "(a) 4\n(b) 9" in text  # line by line, as printed
    assert "Alternative answer. The paper's answer key Alternative key." in body
    assert body.count("The paper's answer key") == 3


def several_papers() -> Paper:
    questions = [Question("1", "Define a token.", 5, section="SECTION A", answer=Answer("First paper, one.")),
                 Question("2", "What is a lexeme?", 10, section="SECTION A", answer=Answer("First paper, two.")),
                 Question("1", "What is virtualisation?", 10, section="SECTION A", answer=Answer("Second paper, one.")),
                 Question("2", "Name the service models.", 10, answer=Answer("Second paper, two."))]
    return Paper("Internal Tests", questions, total_marks=15, sections=[Section("SECTION A")],
                 papers=[PaperInFile("Compiler Design", 0, 2, 15), PaperInFile("Cloud Computing", 2, 2, 20)],
                 warnings=["The file holds 2 papers; their questions are listed one paper after another."])


def test_several_papers_in_a_file_group_their_questions_under_each_papers_title():
    pdf = render_pdf(several_papers(), {}, model="m")
    pages = page_texts(pdf)
    cover = flat(pages[0])
    entries = [(level, title) for level, title, _ in outline(pdf)]

    assert "Total marks 35" in cover
    assert "Papers 2 in this file: Compiler Design (15 marks); Cloud Computing (20 marks)" in cover
    assert "Paper Q Section Parts Marks Begins" in cover and "2 1 SECTION A – 10 What is virtualisation?" in cover
    assert entries[2:] == [
        (0, "Paper 1: Compiler Design"), (1, "SECTION A"), (2, "Question 1: Define a token."),
        (2, "Question 2: What is a lexeme?"),
        (0, "Paper 2: Cloud Computing"), (1, "SECTION A"), (2, "Question 1: What is virtualisation?"),
        (1, "Question 2: Name the service models.")]
    first = next(i for i, text in enumerate(pages) if text.splitlines()[1:2] == ["Paper 1: Compiler Design"])
    second = next(i for i, text in enumerate(pages) if "Paper 2: Cloud Computing" in text.splitlines()[1:2])
    assert "First paper, two." in pages[first] and "Second paper" not in pages[first]  # each paper starts a page
    assert "2 questions, 15 marks" in pages[first] and "2 questions, 20 marks" in pages[second]
    assert "Second paper, one." in pages[second]


def test_odd_papers_warnings_and_confidence_never_break_the_pdf(tmp_path):
    paper = several_papers()
    paper.papers = [PaperInFile(XML, 0, 99, None), PaperInFile(ODD, "x", 1, None), PaperInFile("dup", 0, 1, 1),
                    PaperInFile("beyond", 40, 1, None), PaperInFile("", 3, -5, float("nan"))]
    paper.warnings = [XML, ODD, "", None]
    paper.confidence = "<certain>"
    paper.questions[0].given_answer = XML + ODD
    paper.questions[1].given_answer = "   "

    pdf = render_pdf(paper, draw_diagrams(paper), model="m")
    text = flat(pdf_text(pdf))

    assert_qpdf_ok(pdf, tmp_path)
    assert "Parse confidence high: check the points below" in text  # an unknown level reads as the default
    assert '<img src="http://example.com/x.png"/>' in text and text.count("The paper's answer key") == 1
    assert "Paper 2" in text and "Paper 3" not in text


# -- bad input never breaks the PDF or the job --------------------------------------------------------

def test_markup_control_characters_and_unicode_print_as_text():
    hostile = 'Is <b>bold</b> & <script>alert("x")</script> safe?\x00\x07 αβγ ≤ ∑ déjà'
    paper = Paper(title="<Title & Co>", questions=[
        Question(number="1", text=hostile, marks=2, answer=Answer(text="Yes </para> <font>not markup</font>")),
    ])

    text = pdf_text(render_pdf(paper, {}, model="qagen/offline"))

    assert '<script>alert("x")</script>' in text
    assert "αβγ ≤ ∑ déjà" in text
    assert "</para> <font>not markup</font>" in text


XML = ('<para>x</para> <b>b <i> </font> <img src="http://example.com/x.png"/> &amp; &#0; <![CDATA[x]]> '
       '<!-- c --> <a href="javascript:alert(1)">x</a>')
ODD = ("ctrl\x00\x01\x1b[31m\x7f\x85 surrogate\ud800 nonchar\ufffe\uffff bom\ufeff emoji 😀👩‍👩‍👧 rtl \u202eevil\u202c "
       "עברית العربية 中文 combining e\u0301 zero\u200bwidth 𝔸𝕓")


def test_xml_like_text_and_odd_unicode_everywhere_never_break_the_pdf(tmp_path):
    paper = Paper(title=XML + ODD, instructions=XML, sections=[Section(XML, XML, 5)], questions=[
        Question(number=XML, text=XML + ODD, marks=5, section=XML, options=[Option(XML, ODD)],
                 parts=[Part(ODD, XML, 1, answer=Answer(ODD + "\n\n- " + XML + "\n\n`" + XML + "`",
                                                         citations=[Citation(XML, None, ODD)], notes=[XML]))]),
        Question(number="2", text=ODD, marks=1, answer=Answer(XML + " $" + XML + "$")),
    ])

    pdf = render_pdf(paper, draw_diagrams(paper), model=XML)
    text = pdf_text(pdf)

    assert_qpdf_ok(pdf, tmp_path)
    assert '<img src="http://example.com/x.png"/>' in text
    assert "<![CDATA[x]]>" in text and '<a href="javascript:alert(1)">x</a>' in text
    assert "עברית" in text or "תירבע" in text


def test_very_long_answers_and_huge_tables_are_typeset(tmp_path):
    long_answer = "\n\n".join(f"Paragraph {i} says something about **topic {i}**. " * 30 for i in range(60))
    one_paragraph = "word " * 30_000
    one_word = "x" * 50_000
    table = ("| " + " | ".join(f"h{c}" for c in range(25)) + " |\n|" + "---|" * 25 + "\n" +
             "\n".join("| " + " | ".join(f"r{r}c{c}" for c in range(25)) + " |" for r in range(800)))
    fat_cells = "| a | b |\n|---|---|\n| " + "z" * 20_000 + " | " + "y " * 8_000 + " |"
    paper = Paper("Long", [Question(str(i + 1), "Q", 1, answer=Answer(text))
                           for i, text in enumerate([long_answer, one_paragraph, one_word, table, fat_cells])])

    pdf = render_pdf(paper, {}, model="m")
    text = fast_text(pdf)

    assert_qpdf_ok(pdf, tmp_path)
    assert "Paragraph 59 says something about topic 59." in flat(text)
    assert "r299c9" in text and "r300c0" not in text
    assert "more columns not shown" in text and "more rows not shown" in text
    assert text.count("word") >= 30_000


def test_deep_nesting_and_hostile_markdown_never_break_the_pdf(tmp_path):
    nested = "\n".join("  " * i + "- level " + str(i) for i in range(40)) + "\n\n" + ">" * 40 + " deep quote"
    nested += "\n\n" + "[link](javascript:alert(1)) ![img](http://example.com/a.png) <b>raw</b>"
    deep = Part("z", "leaf", 1, answer=Answer("deepest answer"))
    for depth in range(10):
        deep = Part(str(depth), "nested part", None, parts=[deep])
    paper = Paper("Nested", [Question("1", "Q", 1, answer=Answer(nested)), Question("2", "Q", 1, parts=[deep])])

    pdf = render_pdf(paper, {}, model="m")
    text = pdf_text(pdf)

    assert_qpdf_ok(pdf, tmp_path)
    assert "level 39" in text and "deep quote" in text and "deepest answer" in text
    assert "[image: img]" in text and "<b>raw</b>" in text


def test_a_failed_chart_leaves_the_answer_with_a_note():
    part = Part(label="a", text="Plot it.", marks=1, answer=Answer(text="Here is the plot.", chart={"kind": "pie"}))
    bad_expression = Answer(text="A curve.", chart={"kind": "function", "title": "", "x_label": "", "y_label": "",
                                                    "expression": "__import__('os')", "x_min": 0, "x_max": 1})
    paper = Paper(title="T", questions=[
        Question(number="1", text="Stem", marks=3, parts=[part]),
        Question(number="2", text="Pick one", marks=1, options=[Option("A", "alpha"), Option("B", "beta")],
                 answer=Answer(text="B"),
                 alternatives=[Question(number="2", text="Or this", answer=Answer(text="Alt"))]),
        Question(number="3", text="Curve", marks=1, answer=bad_expression),
    ])

    figures = draw_diagrams(paper)
    text = flat(pdf_text(render_pdf(paper, figures, model="m")))

    assert set(figures) == {"overview"}
    assert "Here is the plot." in text and "A curve." in text
    assert "Note: The diagram could not be drawn: 'labels' is required for a pie chart." in text
    assert "Note: The diagram could not be drawn: 'expression' may not contain '__'." in text
    for expected in ("Question 1", "(a) Plot it.", "(A) alpha", "OR", "Alt"):
        assert expected in text


def test_a_corrupt_figure_becomes_a_note():
    paper = Paper("T", [Question("1", "Q", 1, answer=Answer("kept"))])
    item = paper.questions[0]
    from qagen.pipeline.diagrams import Figure, figure_key

    figures = {figure_key(item): Figure(figure_key(item), "broken", b"\x89PNG not really")}
    text = pdf_text(render_pdf(paper, figures, model="m"))

    assert "kept" in text and "the diagram could not be included" in text


def test_if_the_full_document_fails_a_plain_one_is_still_produced(monkeypatch):
    from qagen.pipeline.pdf.story import StoryBuilder

    def broken(self, *args, **kwargs):
        raise RuntimeError("simulated layout bug")

    monkeypatch.setattr(StoryBuilder, "figure", broken)
    paper = sample_paper(questions=12, charts=1)
    text = flat(pdf_text(render_pdf(paper, draw_diagrams(paper), model="m")))

    assert "Question 12" in text
    assert "The diagram for this answer was left out." in text


def test_empty_papers_and_empty_answers_render():
    text = pdf_text(render_pdf(Paper("", []), {}, model=""))
    assert "No questions were found in this paper." in text

    text = pdf_text(render_pdf(Paper("T", [Question("1", "", None, answer=Answer("")), Question("2", "Q", None)]),
                               {}, model="m"))
    assert "Question 2" in text and "No answer was produced for this item." in text


def test_renders_from_several_threads_at_once(plain_pdf):
    def render(_):
        paper = plain_paper()
        return pdf_text(render_pdf(paper, draw_diagrams(paper), model="qagen/offline", subject="Biology",
                                   date=dt.date(2026, 3, 14)))

    with ThreadPoolExecutor(max_workers=3) as pool:
        texts = list(pool.map(render, range(3)))

    assert all(text == pdf_text(plain_pdf) for text in texts)


def test_render_stays_importable_from_the_stage_module():
    assert render_module.render_pdf is render_pdf
    assert render_module.safe("<a & b>") == "&lt;a &amp; b&gt;"


def overview_table(question_count: int):
    """The overview's question table for a paper of `question_count` questions with marks."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Table

    from qagen.pipeline.pdf.fonts import register_fonts
    from qagen.pipeline.pdf.story import Content, StoryBuilder
    from qagen.pipeline.pdf.styles import Styles

    register_fonts()
    questions = [Question(number=str(n), text=f"Question number {n} asks something.", marks=2)
                 for n in range(1, question_count + 1)]
    builder = StoryBuilder(Paper(title="Split test", questions=questions), Content(model="m", subject=None,
                           date=dt.date(2026, 1, 1)), Styles(width=170 * mm), rich=False)
    return next(f for f in builder.overview() if isinstance(f, Table)), builder.styles.width


@pytest.mark.parametrize("question_count", [1, 3, 12, 40])
def test_a_table_that_breaks_keeps_its_last_rows_together_and_repeats_its_header(question_count):
    table, width = overview_table(question_count)
    _, full_height = table.wrap(width, 10_000)
    rows = question_count + 2  # header, the questions, the total
    for available in range(20, int(full_height) + 20, 3):
        table.wrap(width, available)
        pieces = table.split(width, available)
        if not pieces:
            continue  # nothing fits: the whole table moves to the next page
        assert sum(len(p._cellvalues) for p in pieces) == rows + len(pieces) - 1, "a row was lost or doubled"
        for piece in pieces[1:]:
            assert piece._cellvalues[0][0] == "Q", "a continued table starts with its header row"
        last = pieces[-1]._cellvalues
        assert last[-1][0] == "Total"
        assert len(last) - 1 >= min(3, rows - 1), f"the last page holds only {len(last) - 1} row(s) under the header"
        assert len(pieces[0]._cellvalues) >= min(4, rows), "the header left with too few rows under it"

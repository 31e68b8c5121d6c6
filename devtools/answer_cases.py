"""The answer-evaluation cases (devtools/answer_eval/): loading, sampling, and reading the notes.

`load_cases` reads cases/dev.yaml and cases/blind.yaml (format: answer_eval/README.md);
`sample` takes a fixed spread of them; `notes_path` resolves a case's notes (files under
answer_eval/notes/, or `corpus:NAME` in ../shared/corpus/knowledge); `page_texts` reads a
document's text by page without qagen's reader, for checking that citations are verbatim;
`Knowledge` builds a case's knowledge base (with embeddings when given an embedder) and
`case_paper` the one-question paper a case asks about (a corpus paper's item, parsed).
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent / "answer_eval"
HALVES = ("dev", "blind")


def corpus_dir() -> Path:
    env = os.environ.get("QAGEN_CORPUS_DIR")
    return Path(env) if env else HERE.parents[1].parent / "shared" / "corpus"


@dataclass
class Case:
    id: str
    half: str
    expect: str
    question: str | None = None
    corpus_question: dict[str, Any] | None = None
    marks: float | None = None
    context: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    key_facts: list[list[str]] = field(default_factory=list)
    choice: str | None = None
    evidence: list[str] = field(default_factory=list)
    category: str = ""
    language: str = "en"

    @classmethod
    def from_dict(cls, data: dict[str, Any], half: str) -> Case:
        facts = [[str(w) for w in (fact if isinstance(fact, list) else [fact])] for fact in data.get("key_facts") or []]
        return cls(
            id=str(data["id"]), half=half, expect=str(data.get("expect", "answer")),
            question=data.get("question"), corpus_question=data.get("corpus_question"),
            marks=data.get("marks"), context=str(data.get("context") or ""),
            options=[(str(label), str(text)) for label, text in data.get("options") or []],
            notes=[str(n) for n in data.get("notes") or []], key_facts=facts,
            choice=None if data.get("choice") is None else str(data["choice"]),
            evidence=[str(e) for e in data.get("evidence") or []],
            category=str(data.get("category") or ""), language=str(data.get("language") or "en"),
        )


def cases_in(path: Path) -> list[Case]:
    """The cases of one file; its half is the file name before any "-" (dev-2.yaml: dev)."""
    half = path.stem.split("-")[0]
    return [Case.from_dict(item, half) for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []]


def load_cases(halves: tuple[str, ...] = HALVES, folder: Path = HERE) -> list[Case]:
    """Every case of the given halves: cases/<half>.yaml and cases/<half>-*.yaml (a later batch)."""
    cases: list[Case] = []
    for half in halves:
        for path in sorted((folder / "cases").glob(f"{half}*.yaml")):
            if path.stem == half or path.stem.startswith(f"{half}-"):
                cases += cases_in(path)
    return cases


def sample(cases: list[Case], per_half: int) -> list[Case]:
    """`per_half` cases of each half, taken round-robin over (expect, category) groups in a
    fixed order (by a hash of the id), so a small sample still holds every kind of case."""
    chosen: list[Case] = []
    for half in HALVES:
        groups: dict[str, dict[str, list[Case]]] = defaultdict(lambda: defaultdict(list))
        for case in sorted((c for c in cases if c.half == half), key=lambda c: hashlib.sha256(c.id.encode()).hexdigest()):
            groups[case.expect][case.category].append(case)
        # Round-robin over the expectations, and within one over its categories.
        streams = [_round_robin([groups[e][k] for k in sorted(groups[e])]) for e in sorted(groups)]
        taken: list[Case] = []
        while len(taken) < per_half and streams:
            for stream in list(streams):
                case = next(stream, None)
                if case is None:
                    streams.remove(stream)
                elif len(taken) < per_half:
                    taken.append(case)
        chosen += taken
    return chosen


def _round_robin(queues: list[list[Case]]):
    queues = [list(q) for q in queues]
    while any(queues):
        for queue in queues:
            if queue:
                yield queue.pop(0)


def notes_path(ref: str) -> Path | None:
    if ref.startswith("corpus:"):
        path = corpus_dir() / "knowledge" / ref.removeprefix("corpus:")
        return path if path.exists() else None
    return HERE / "notes" / ref


def page_texts(path: Path) -> dict[int | None, str]:
    """The document's text by page (None for formats without pages), read without qagen's reader."""
    data = path.read_bytes()
    if data.startswith(b"%PDF"):
        import pypdfium2

        pdf = pypdfium2.PdfDocument(data)
        try:
            pages = {n + 1: pdf[n].get_textpage().get_text_range() for n in range(len(pdf))}
        finally:
            pdf.close()
        return pages
    if data.startswith(b"PK"):
        import io

        import docx

        document = docx.Document(io.BytesIO(data))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                parts.append(" | ".join(cell.text for cell in row.cells))
                parts += [cell.text for cell in row.cells]
        return {None: "\n".join(parts)}
    return {None: data.decode("utf-8", errors="replace")}


class Knowledge:
    """Knowledge bases built once per set of notes files; with an embedder, with embeddings
    (chunk vectors cached per document, as a knowledge base's index stores them)."""

    def __init__(self, embedder: Any = None) -> None:
        self.embedder = embedder
        self._indexes: dict[tuple[str, ...], Any] = {}
        self._documents: dict[str, tuple[list, Any]] = {}

    def _document(self, ref: str) -> tuple[list, Any]:
        from qagen.knowledge import chunk_document
        from qagen.knowledge.dense import embed_chunks

        if ref not in self._documents:
            path = notes_path(ref)
            chunks = chunk_document(path.read_bytes(), path.name)
            self._documents[ref] = (chunks, embed_chunks(self.embedder, chunks) if self.embedder else None)
        return self._documents[ref]

    def index(self, refs: list[str]):
        import numpy as np

        from qagen.knowledge import KnowledgeIndex
        from qagen.knowledge.dense import DenseVectors

        key = tuple(refs)
        if key not in self._indexes:
            documents = [self._document(ref) for ref in refs]
            chunks = [c for doc_chunks, _ in documents for c in doc_chunks]
            embeddings = None
            if self.embedder is not None:
                vectors = np.concatenate([vectors.vectors for _, vectors in documents])
                embeddings = DenseVectors(self.embedder.model, vectors, documents[0][1].reference)
            self._indexes[key] = KnowledgeIndex.build(chunks, embeddings=embeddings)
        return self._indexes[key]


# --- the item a case asks about ---------------------------------------------------------


class Papers:
    """Corpus papers parsed once each."""

    def __init__(self) -> None:
        self._papers: dict[str, Any] = {}

    def paper(self, name: str):
        from qagen.pipeline.parse import parse

        if name not in self._papers:
            path = corpus_dir() / "papers" / name
            self._papers[name] = parse(path.read_bytes(), name)
        return self._papers[name]


def _find_part(item: Any, path: list[str]) -> Any | None:
    for label in path:
        item = next((p for p in item.parts if p.label.strip("().[] ").lower() == label.strip("().[] ").lower()), None)
        if item is None:
            return None
    return item


def case_paper(case: Case, papers: Papers) -> tuple[Any, Any, str]:
    """A one-question Paper for the case, the item whose answer is scored, and its question text."""
    from qagen.model import Option, Paper, Part, Question

    if case.corpus_question:
        ref = case.corpus_question
        source = papers.paper(str(ref["paper"]))
        question = next((q for q in source.questions if q.number == str(ref["number"])), None)
        if question is None:
            raise LookupError(f"question {ref['number']} not found in {ref['paper']}")
        question = copy.deepcopy(question)
        question.alternatives = []
        target = _find_part(question, str(ref["part"]).split(".")) if ref.get("part") else question
        if target is None:
            raise LookupError(f"part {ref['part']} of question {ref['number']} not found in {ref['paper']}")
        if case.marks is not None:
            target.marks = case.marks
        return Paper(title="evaluation", questions=[question]), target, target.text
    options = [Option(label, text) for label, text in case.options]
    if case.context:
        part = Part(label="a", text=case.question or "", marks=case.marks, options=options)
        question = Question(number="1", text=case.context, parts=[part])
        return Paper(title="evaluation", questions=[question]), part, part.text
    question = Question(number="1", text=case.question or "", marks=case.marks, options=options)
    return Paper(title="evaluation", questions=[question]), question, question.text

"""Where the shared corpus is, and the retrieval questions the tests ask of it.

The corpus lives outside the repo (env QAGEN_CORPUS_DIR, default <repo>/../shared/corpus);
tests that need it skip cleanly when it is absent. Nothing from it is copied here: the
questions below are short paraphrases of items in the papers that knowledge.json lists
for each document.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    return Path(os.environ.get("QAGEN_CORPUS_DIR") or REPO.parent / "shared" / "corpus")


def knowledge_dir() -> Path:
    """The knowledge documents' folder, or skip the test."""
    folder = corpus_dir() / "knowledge"
    if not (folder.is_dir() and (corpus_dir() / "knowledge.json").is_file()):
        pytest.skip(f"the shared corpus is not at {corpus_dir()} (set QAGEN_CORPUS_DIR)")
    return folder


def knowledge_files() -> list[Path]:
    return sorted(p for p in knowledge_dir().iterdir() if p.is_file())


def knowledge_manifest() -> list[dict]:
    knowledge_dir()
    return json.loads((corpus_dir() / "knowledge.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def corpus_chunks():  # type: ignore[no-untyped-def]
    from qagen.knowledge import chunk_document

    return [c for path in knowledge_files() for c in chunk_document(path.read_bytes(), path.name)]


@functools.lru_cache(maxsize=1)
def corpus_index():  # type: ignore[no-untyped-def]
    from qagen.knowledge import KnowledgeIndex

    return KnowledgeIndex.build(corpus_chunks())


# (question as a paper asks it, the paper it comes from, the document that covers it)
PAPER_QUESTIONS = [
    ("What is the Mean Squared Error (MSE) of the MLE estimate of the Poisson parameter?",
     "iiith-ma6101-probability-statistics-endsem-scan.pdf", "d2l-statistics.md"),
    ("Explain the bias-variance trade-off for an estimator.",
     "iiith-ma6101-probability-statistics-endsem-scan.pdf", "d2l-statistics.md"),
    ("What is a p-value? How is it used in hypothesis testing?",
     "stat101a-regression-final-exam.docx", "d2l-statistics.md"),
    ("Interpret a 95% confidence interval for the mean.",
     "stat101a-regression-final-exam.docx", "d2l-statistics.md"),
    ("Write the pmf of a Poisson random variable and state its mean and variance.",
     "iiith-ma6101-probability-statistics-endsem-scan.pdf", "d2l-probability-distributions.md"),
    ("An unbiased coin is tossed six times. Find the probability of getting exactly four heads.",
     "gate-2018-ma-mathematics.pdf", "d2l-probability-distributions.md"),
    ("Let X be uniformly distributed on [a, b]. Find the mean and variance of the continuous uniform random variable.",
     "iiith-ma6101-probability-statistics-endsem-scan.pdf", "d2l-probability-distributions.md"),
    ("Write a single line function element_at(pos, l) which returns the element at position pos in the linked list l.",
     "iiith-cs0101-computer-programming-endsem-solutions.pdf", "javascript-algorithms-linked-list.md"),
    ("What is the time complexity of search and deletion in a linked list?",
     "cbse-2019-class12-computer-science.pdf", "javascript-algorithms-linked-list.md"),
    ("Consider modifying Dijkstra's shortest path algorithm to find a longest path. Does it correctly compute "
     "longest paths in a graph with positive edge weights?",
     "iiith-cs1201-data-structures-endsem.pdf", "javascript-algorithms-dijkstra.md"),
    ("What is an interface in Java? How does a class implement an interface?",
     "sfsu-csc210-fall2020-final-exam.docx", "mooc-fi-java-programming-part9-interfaces.md"),
    ("Explain how an interface can be used as the type of a method parameter.",
     "fer-oop-2019-20-midterm-croatian.pdf", "mooc-fi-java-programming-part9-interfaces.md"),
]

# Questions no document covers: retrieval must come back empty.
UNRELATED_QUESTIONS = [
    "What is the capital of France?",
    "Explain photosynthesis in green plants.",
    "State Ohm's law and define resistance.",
    "Describe the causes of the French Revolution.",
    "Balance the chemical equation for the combustion of methane.",
    "What is the SI unit of electric charge?",
    "Who wrote the play Hamlet?",
    "Explain the working of a transformer.",
]

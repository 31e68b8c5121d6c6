"""KnowledgeIndex: BM25 retrieval on the real notes, a relevance floor, and exact, pickle-free storage."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zlib

import pytest

from qagen.knowledge import Chunk, IndexFormatError, KnowledgeIndex, Passage
from qagen.knowledge.index import MAGIC
from tests.knowledge.corpus import PAPER_QUESTIONS, UNRELATED_QUESTIONS, corpus_chunks, corpus_index, knowledge_manifest


@pytest.mark.parametrize(("question", "paper", "document"), PAPER_QUESTIONS, ids=[q[:40] for q, _, _ in PAPER_QUESTIONS])
def test_questions_from_the_matching_papers_retrieve_the_document_that_covers_them(question, paper, document):
    manifest = {entry["file"]: entry for entry in knowledge_manifest()}
    assert paper in manifest[document]["matches_papers"]  # the pairing is the corpus's own

    passages = corpus_index().search(question, k=5)

    assert passages, "nothing retrieved"
    assert passages[0].chunk.document == document
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert all(isinstance(p, Passage) and p.score > 0 for p in passages)


def test_retrieval_lands_on_the_right_section():
    index = corpus_index()

    assert "Statistical Power" in index.search("What is meant by the statistical power of a test?")[0].chunk.heading
    assert index.search("Write the pdf of a Gaussian (normal) random variable.")[0].chunk.heading == "Distributions > Gaussian"
    assert "Bias-Variance" in index.search("Explain the bias-variance trade-off.", k=3)[0].chunk.heading


@pytest.mark.parametrize("question", UNRELATED_QUESTIONS)
def test_questions_the_notes_do_not_cover_retrieve_nothing(question):
    assert corpus_index().search(question, k=5) == []


def test_search_handles_empty_and_unknown_queries_and_k():
    index = corpus_index()

    assert index.search("") == []
    assert index.search("the of and") == []
    assert index.search("zzzqqq xxyyzz") == []
    assert index.search("Poisson random variable", k=0) == []
    assert len(index.search("Poisson random variable", k=2)) <= 2


def test_a_small_knowledge_base_still_finds_its_topic():
    """With few chunks every chunk shares the topic words; retrieval must not give up on them."""
    dijkstra = [c for c in corpus_chunks() if c.document == "javascript-algorithms-dijkstra.md"]
    index = KnowledgeIndex.build(dijkstra)

    passages = index.search("Does modifying Dijkstra's shortest path algorithm compute longest paths in a graph "
                            "with positive edge weights?")

    assert passages and passages[0].chunk.document == "javascript-algorithms-dijkstra.md"
    assert index.search("What is the capital of France?") == []


def test_index_metadata():
    index = corpus_index()
    chunks = corpus_chunks()

    assert index.chunk_count == len(chunks)
    assert index.documents == list(dict.fromkeys(c.document for c in chunks))
    assert len(index.version) == 64


def test_version_is_a_content_hash_stable_for_identical_content():
    chunks = corpus_chunks()

    assert KnowledgeIndex.build(list(chunks)).version == corpus_index().version
    changed = [*chunks[:-1], Chunk(chunks[-1].document, chunks[-1].page, chunks[-1].heading, chunks[-1].text + " More.")]
    assert KnowledgeIndex.build(changed).version != corpus_index().version
    assert KnowledgeIndex.build(chunks[:-1]).version != corpus_index().version


def test_to_bytes_and_from_bytes_round_trip_exactly():
    index = corpus_index()
    data = index.to_bytes()

    loaded = KnowledgeIndex.from_bytes(data)

    assert loaded.to_bytes() == data
    assert KnowledgeIndex.build(corpus_chunks()).to_bytes() == data  # deterministic bytes
    assert loaded.version == index.version and loaded.documents == index.documents
    assert loaded.chunks == index.chunks
    for question, _, _ in PAPER_QUESTIONS:
        assert loaded.search(question) == index.search(question)


def test_an_empty_index_round_trips_and_finds_nothing():
    empty = KnowledgeIndex.build([])

    loaded = KnowledgeIndex.from_bytes(empty.to_bytes())

    assert loaded.chunk_count == 0 and loaded.documents == [] and loaded.search("anything at all") == []
    assert loaded.version == empty.version


def test_stored_form_is_json_and_raw_arrays_not_pickle():
    body = zlib.decompress(corpus_index().to_bytes()[len(MAGIC):])
    (head_len,) = struct.unpack_from("<Q", body, 0)
    header = json.loads(body[8:8 + head_len])

    assert header["format"].startswith("qagen-knowledge-index/")
    assert set(header["arrays"]) == {"data", "indices", "indptr"}
    assert len(header["chunks"]) == corpus_index().chunk_count


def _repack(header_update: dict, index: KnowledgeIndex) -> bytes:
    body = zlib.decompress(index.to_bytes()[len(MAGIC):])
    (head_len,) = struct.unpack_from("<Q", body, 0)
    header = json.loads(body[8:8 + head_len])
    header.update(header_update)
    head = json.dumps(header).encode()
    return MAGIC + zlib.compress(struct.pack("<Q", len(head)) + head + body[8 + head_len:])


@pytest.mark.parametrize("make_bad", [
    lambda data: b"",
    lambda data: b"not an index",
    lambda data: pickle.dumps({"evil": True}),
    lambda data: MAGIC + pickle.dumps({"evil": True}),
    lambda data: data[:-20],
    lambda data: data[: len(MAGIC) + 30],
    lambda data: MAGIC + zlib.compress(b"\x00" * 16),
])
def test_from_bytes_rejects_anything_else_with_a_clear_error(make_bad):
    with pytest.raises(IndexFormatError):
        KnowledgeIndex.from_bytes(make_bad(corpus_index().to_bytes()))


def test_from_bytes_rejects_tampered_headers():
    index = KnowledgeIndex.build(corpus_chunks()[:6])

    with pytest.raises(IndexFormatError, match="version"):
        KnowledgeIndex.from_bytes(_repack({"version": "0" * 64}, index))
    with pytest.raises(IndexFormatError, match="format"):
        KnowledgeIndex.from_bytes(_repack({"format": "other/9"}, index))
    with pytest.raises(IndexFormatError):
        KnowledgeIndex.from_bytes(_repack({"arrays": {"data": {"dtype": "|O", "shape": [3], "offset": 0}}}, index))
    with pytest.raises(IndexFormatError):
        KnowledgeIndex.from_bytes(_repack({"vocab": ["a"]}, index))


def test_from_bytes_never_unpickles(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle must not be used")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    data = corpus_index().to_bytes()

    assert KnowledgeIndex.from_bytes(io.BytesIO(data).getvalue()).chunk_count == corpus_index().chunk_count


def test_the_analyzer_stems_english_words():
    """PyStemmer is a declared dependency: "linked lists" must meet "link list" (measured: it helps)."""
    from qagen.knowledge.analysis import analyzer_name, terms

    assert analyzer_name() == "uni-en-stop+snowball", "install PyStemmer (pinned with the worker extra)"
    assert terms("linked lists") == terms("link list") == ["link", "list"]
    assert terms("The distributions of the estimators") == ["distribut", "estim"]


def test_a_word_keeps_the_combining_marks_of_its_letters():
    """Devanagari vowel signs are marks, not letters: splitting at them would cut every word apart."""
    from qagen.knowledge.analysis import terms

    assert terms("कतार एक रैखिक डेटा संरचना है", stem=False) == ["कतार", "एक", "रैखिक", "डेटा", "संरचना", "है"]
    assert terms("Što je sučelje?", stem=False) == ["što", "je", "sučelje"]


def test_an_index_built_with_the_older_analyzer_is_still_searched_with_it(monkeypatch):
    from qagen.knowledge import Chunk, KnowledgeIndex
    from qagen.knowledge import index as index_module
    from qagen.knowledge.analysis import terms_for

    assert terms_for("en-stop+snowball", "कतार") == ["कत"]  # the older split, kept for stored indexes
    with monkeypatch.context() as patch:
        patch.setattr(index_module, "analyzer_name", lambda: "en-stop+snowball")
        stored = KnowledgeIndex.build([Chunk("q.md", None, "Queues", "A queue is first in, first out.")]).to_bytes()

    loaded = KnowledgeIndex.from_bytes(stored)

    assert loaded.analyzer == "en-stop+snowball"
    assert [p.chunk.document for p in loaded.search("first in first out queue")] == ["q.md"]


def test_relevance_does_not_depend_on_how_many_documents_the_base_holds():
    """The one-notes-file report: four lines about queues, a question in other words."""
    from qagen.knowledge import Chunk, KnowledgeIndex

    queue = Chunk("queue.txt", None, "", "A queue is a linear data structure that follows the First In First Out (FIFO) "
                  "principle.\nIt has two ends: the rear, where elements are added, and the front, where they are "
                  "removed.\nThe first element added is the first removed.\nQueues are used in CPU scheduling, "
                  "printer spooling and breadth-first search.")
    others = [Chunk(f"other{i}.txt", None, "", f"Photosynthesis in leaf {i} turns light, water and carbon dioxide "
                    "into glucose and oxygen inside the chloroplasts.") for i in range(49)]
    question = "What is a queue? Explain its principle with one application."

    alone = KnowledgeIndex.build([queue]).search(question)
    among_fifty = KnowledgeIndex.build([queue, *others]).search(question)

    assert [p.chunk.document for p in alone] == ["queue.txt"]
    assert [p.chunk.document for p in among_fifty] == ["queue.txt"]
    assert KnowledgeIndex.build([queue]).search("Explain photosynthesis in green plants.") == []

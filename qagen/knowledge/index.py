"""A searchable knowledge base: BM25 (bm25s) over chunks, stored as one self-contained object.

    index = KnowledgeIndex.build(chunks)
    passages = index.search("mean squared error of an estimator", k=5)
    blob = index.to_bytes()                      # one S3 object
    same = KnowledgeIndex.from_bytes(blob)       # no pickle: JSON header + raw numeric arrays

The stored form is `MAGIC | zlib(header length | JSON header | array bytes)`. The JSON
header holds the chunks, the vocabulary, the BM25 parameters and each array's dtype, shape
and offset; arrays are read with `numpy.frombuffer` against a whitelist of dtypes, so
loading never executes anything from the data. Writing is deterministic: the same chunks
give the same bytes, and `from_bytes(b).to_bytes() == b`.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from qagen.knowledge.analysis import analyzer_name, question_terms, terms_for
from qagen.knowledge.chunking import Chunk
from qagen.knowledge.errors import IndexFormatError, KnowledgeTooLarge

MAGIC = b"QAGENKB\x01"
FORMAT = "qagen-knowledge-index/1"
MAX_CHUNKS = 200_000
MAX_STORED_BYTES = 1 << 30  # decompressed size cap when loading
BM25_PARAMS = {"k1": 1.5, "b": 0.75, "method": "lucene", "idf_method": "lucene"}
_ARRAY_DTYPES = {"data": "<f4", "indices": "<i4", "indptr": "<i4"}

# Relevance floor (measured on the corpus questions, see tests/knowledge). A passage must
# contain at least MIN_MATCHED_TERMS distinct query terms, and either score at least
# MIN_SHARE_OF_IDEAL of an ideal passage's score (every query term once, terms the notes
# never use counted at full weight), or contain COVERAGE_MIN_TERMS+ terms making up
# COVERAGE_MIN_SHARE of the query (this keeps small knowledge bases usable, where every
# chunk shares the topic words and BM25's idf says little). Then it must reach
# MIN_SHARE_OF_TOP of the best passage's score.
MIN_MATCHED_TERMS = 2
MIN_SHARE_OF_IDEAL = 0.18
COVERAGE_MIN_TERMS = 3
COVERAGE_MIN_SHARE = 0.3
MIN_SHARE_OF_TOP = 0.25


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its BM25 score (higher is better)."""

    chunk: Chunk
    score: float


class KnowledgeIndex:
    """BM25 over a list of chunks (from one or more documents)."""

    def __init__(self, chunks: list[Chunk], analyzer: str, retriever: Any, vocab: dict[str, int]) -> None:
        self._chunks = list(chunks)
        self._analyzer = analyzer
        self._retriever = retriever
        self._vocab = vocab
        self.version = _version(self._chunks, analyzer)
        self.documents = list(dict.fromkeys(c.document for c in self._chunks))
        self.chunk_count = len(self._chunks)

    @property
    def chunks(self) -> list[Chunk]:
        return list(self._chunks)

    @property
    def analyzer(self) -> str:
        return self._analyzer

    # --- building and searching --------------------------------------------------------

    @classmethod
    def build(cls, chunks: list[Chunk]) -> KnowledgeIndex:
        """Index `chunks` (heading path and text both count). An empty list gives an empty index."""
        import bm25s

        if len(chunks) > MAX_CHUNKS:
            raise KnowledgeTooLarge(
                f"A knowledge base may hold at most {MAX_CHUNKS:,} chunks; this one has {len(chunks):,}. "
                "Use fewer or shorter documents."
            )
        analyzer = analyzer_name()
        token_lists = [terms_for(analyzer, _indexed_text(c)) for c in chunks]
        vocab = {term: i for i, term in enumerate(sorted({t for tokens in token_lists for t in tokens}))}
        retriever = bm25s.BM25(**BM25_PARAMS)
        if vocab:
            ids = [[vocab[t] for t in tokens] for tokens in token_lists]
            retriever.index((ids, vocab), create_empty_token=False, show_progress=False)
        return cls(chunks, analyzer, retriever if vocab else None, vocab)

    def search(self, query: str, k: int = 5) -> list[Passage]:
        """The best `k` passages for `query`, best first; passages below the relevance floor are left out.

        The floor compares a passage's score with the score an ideal passage would get: one
        holding every query term (exam wording such as "explain" or "write" left out).
        Terms the notes never use count at full weight there, so a question about a topic
        the notes do not cover finds nothing rather than a passage sharing one common word.
        """
        import numpy as np

        if self._retriever is None or k <= 0:
            return []
        query_terms = set(question_terms(self._analyzer, query))
        ids = sorted(self._vocab[t] for t in query_terms if t in self._vocab)
        if not ids:
            return []
        scores = self._retriever.get_scores_from_ids(ids)
        indptr, indices = self._retriever.scores["indptr"], self._retriever.scores["indices"]
        matched = np.zeros(self.chunk_count, dtype="int32")
        for i in ids:
            matched[indices[indptr[i]:indptr[i + 1]]] += 1
        wanted = len(query_terms)
        ideal = self._ideal_score(ids, wanted - len(ids))
        relevant = (matched >= min(MIN_MATCHED_TERMS, wanted)) & (
            (scores >= MIN_SHARE_OF_IDEAL * ideal)
            | ((matched >= COVERAGE_MIN_TERMS) & (matched >= COVERAGE_MIN_SHARE * wanted))
        )
        scores = np.where(relevant, scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:k]
        floor = max(MIN_SHARE_OF_TOP * float(scores[order[0]]), 1e-9)
        return [Passage(self._chunks[int(i)], round(float(scores[i]), 4)) for i in order if scores[i] >= floor]

    def _ideal_score(self, ids: list[int], missing: int = 0) -> float:
        """The score of a chunk of average length that holds each query term once.

        With lucene BM25 the term-frequency factor is 1 / (1 + k1) for tf = 1 at average
        length, so this is the sum of the query terms' idf divided by (1 + k1). A term the
        index has never seen counts with the idf of a term in no chunk.
        """
        import numpy as np

        n = self.chunk_count
        df = np.diff(self._retriever.scores["indptr"])[ids].astype("float64")
        idf = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)).sum()) + missing * math.log(1.0 + (n + 0.5) / 0.5)
        return idf / (1.0 + BM25_PARAMS["k1"])

    # --- storage -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index as one deterministic byte string (see the module docstring)."""
        import numpy as np

        arrays: dict[str, Any] = {}
        if self._retriever is not None:
            for name, dtype in _ARRAY_DTYPES.items():
                arrays[name] = np.ascontiguousarray(self._retriever.scores[name], dtype=dtype)
        layout, offset = {}, 0
        for name, array in arrays.items():
            layout[name] = {"dtype": _ARRAY_DTYPES[name], "shape": list(array.shape), "offset": offset}
            offset += array.nbytes
        header = {
            "format": FORMAT,
            "analyzer": self._analyzer,
            "params": BM25_PARAMS,
            "version": self.version,
            "chunks": [[c.document, c.page, c.heading, c.text] for c in self._chunks],
            "vocab": sorted(self._vocab, key=self._vocab.__getitem__),
            "arrays": layout,
        }
        head = json.dumps(header, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
        body = struct.pack("<Q", len(head)) + head + b"".join(a.tobytes() for a in arrays.values())
        return MAGIC + zlib.compress(body, 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> KnowledgeIndex:
        """Load an index written by `to_bytes`; raise `IndexFormatError` for anything else."""
        import bm25s
        import numpy as np

        if not isinstance(data, (bytes, bytearray, memoryview)) or bytes(data[: len(MAGIC)]) != MAGIC:
            raise IndexFormatError("These bytes are not a qagen knowledge index (bad magic number).")
        try:
            inflater = zlib.decompressobj()
            body = inflater.decompress(bytes(data[len(MAGIC):]), MAX_STORED_BYTES)
            if inflater.unconsumed_tail or not inflater.eof:
                raise IndexFormatError("The stored index is truncated or larger than allowed.")
            (head_len,) = struct.unpack_from("<Q", body, 0)
            if head_len > len(body) - 8:
                raise IndexFormatError("The stored index header is truncated.")
            header = json.loads(body[8:8 + head_len].decode("utf-8"))
            blob = memoryview(body)[8 + head_len:]
            if header.get("format") != FORMAT:
                raise IndexFormatError(f"Unsupported index format {header.get('format')!r}; rebuild the index.")
            if header.get("params") != BM25_PARAMS:
                raise IndexFormatError("The stored index uses different BM25 parameters; rebuild the index.")
            chunks = [Chunk(str(d), None if p is None else int(p), str(h), str(t)) for d, p, h, t in header["chunks"]]
            vocab_list = [str(t) for t in header["vocab"]]
            vocab = {t: i for i, t in enumerate(vocab_list)}
            analyzer = str(header["analyzer"])
            terms_for(analyzer, "")  # raises for an unknown analyzer
            arrays = {}
            for name, dtype in _ARRAY_DTYPES.items():
                spec = header["arrays"].get(name)
                if spec is None:
                    continue
                if spec["dtype"] != dtype or len(spec["shape"]) != 1:
                    raise IndexFormatError(f"Array {name!r} has an unexpected layout.")
                count, offset = int(spec["shape"][0]), int(spec["offset"])
                size = count * np.dtype(dtype).itemsize
                if count < 0 or offset < 0 or offset + size > len(blob):
                    raise IndexFormatError(f"Array {name!r} lies outside the stored data.")
                arrays[name] = np.frombuffer(blob[offset:offset + size], dtype=dtype)
        except IndexFormatError:
            raise
        except RuntimeError as exc:  # e.g. built with stemming, and PyStemmer is missing here
            raise IndexFormatError(f"The stored index cannot be used on this machine: {exc}") from exc
        except (zlib.error, struct.error, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise IndexFormatError(f"The stored index is damaged: {type(exc).__name__}: {exc}") from exc
        index = cls.__new__(cls)
        retriever = None
        if vocab:
            _check_arrays(arrays, len(vocab), len(chunks))
            retriever = bm25s.BM25(**BM25_PARAMS)
            retriever.scores = {**arrays, "num_docs": len(chunks)}
            retriever.vocab_dict = vocab
            retriever.unique_token_ids_set = set(vocab.values())
            retriever.nonoccurrence_array = None
        KnowledgeIndex.__init__(index, chunks, analyzer, retriever, vocab)
        if header.get("version") != index.version:
            raise IndexFormatError("The stored index's version does not match its chunks (corrupt data).")
        return index

    def __repr__(self) -> str:
        return f"KnowledgeIndex(documents={self.documents!r}, chunks={self.chunk_count}, version={self.version[:12]!r})"


def _check_arrays(arrays: dict[str, Any], n_terms: int, n_docs: int) -> None:
    if set(arrays) != set(_ARRAY_DTYPES):
        raise IndexFormatError("The stored index is missing its score arrays.")
    indptr, indices, data = arrays["indptr"], arrays["indices"], arrays["data"]
    if len(indptr) != n_terms + 1 or int(indptr[0]) != 0 or int(indptr[-1]) != len(indices) or len(indices) != len(data):
        raise IndexFormatError("The stored index's score arrays are inconsistent.")
    if len(indptr) > 1 and (indptr[1:] < indptr[:-1]).any():
        raise IndexFormatError("The stored index's score arrays are inconsistent.")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n_docs):
        raise IndexFormatError("The stored index refers to chunks it does not hold.")


def _indexed_text(chunk: Chunk) -> str:
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text


def _version(chunks: list[Chunk], analyzer: str) -> str:
    """Content hash of the chunks (and how they are analysed): stable for identical content."""
    digest = hashlib.sha256(FORMAT.encode() + b"\0" + analyzer.encode() + b"\0")
    for c in chunks:
        digest.update(json.dumps([c.document, c.page, c.heading, c.text], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


"""A searchable knowledge base: BM25 (bm25s) over chunks, stored as one self-contained object.

    index = KnowledgeIndex.build(chunks)
    passages = index.search("mean squared error of an estimator", k=5)
    blob = index.to_bytes()                      # one S3 object
    same = KnowledgeIndex.from_bytes(blob)       # no pickle: JSON header + raw numeric arrays

With dense embeddings (optional, qagen.knowledge.dense) the chunks' vectors are stored in the
same object, and a search given the question's vector is hybrid: BM25's ranking and the
dense ranking fused by reciprocal rank (`hybrid_search`):

    index = KnowledgeIndex.build(chunks, embeddings=embed_chunks(embedder, chunks))
    passages = index.search(question, k=5, query_vector=embedder.embed_queries([question])[0])

The stored form is `MAGIC | zlib(header length | JSON header | array bytes)`. The JSON
header holds the chunks, the vocabulary, the BM25 parameters and each array's dtype, shape
and offset; arrays are read with `numpy.frombuffer` against a whitelist of dtypes, so
loading never executes anything from the data. Writing is deterministic: the same chunks
give the same bytes, and `from_bytes(b).to_bytes() == b`. Format 2 adds the embedding
model's name and dimension to the header and two float32 arrays (the chunks' vectors and the
reference vector); format 1 (BM25 only, before dense embeddings) is still read, and written
back as it was.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from qagen.knowledge.analysis import analyzer_name, question_terms, term_weights, terms_for
from qagen.knowledge.chunking import Chunk
from qagen.knowledge.relevance import MIN_SHARE_OF_TOP, query_forms, relevant_chunks
from qagen.knowledge.dense import STORED_ARRAYS, STORED_DTYPE, DenseVectors, checked_vectors, read_vectors
from qagen.knowledge.errors import IndexFormatError, KnowledgeTooLarge

MAGIC = b"QAGENKB\x01"
FORMAT = "qagen-knowledge-index/2"
FORMAT_1 = "qagen-knowledge-index/1"  # BM25 only, written before dense embeddings; still read
MAX_CHUNKS = 200_000
MAX_STORED_BYTES = 1 << 30  # decompressed size cap when loading
BM25_PARAMS = {"k1": 1.5, "b": 0.75, "method": "lucene", "idf_method": "lucene"}
_ARRAY_DTYPES = {"data": "<f4", "indices": "<i4", "indptr": "<i4"}

# Hybrid search (measured with devtools/evaluate_retrieval.py; docs/answers.md section 1).
# BM25's candidates are those its relevance floor admits. A chunk is a dense candidate when
# its cosine to the question exceeds the question's mean cosine to everyday reference prose
# (qagen.knowledge.reference; the mean vector is stored in the index) by DENSE_MIN_MARGIN:
# e5's cosines crowd together (0.73-0.91 for any pair here), and the baseline differs by
# question and language, so a bare cosine threshold either lets unrelated questions through
# or shuts out the Hindi and Croatian ones. The union is ranked by reciprocal-rank fusion,
# score = sum over the two rankings of 1 / (RRF_K + rank), each ranking cut at FUSION_DEPTH.
DENSE_MIN_MARGIN = 0.08
RRF_K = 60
FUSION_DEPTH = 50



@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its score, higher is better: BM25's for `search`, the cosine for
    `dense_search`, the reciprocal-rank-fusion score for a hybrid search."""

    chunk: Chunk
    score: float


class KnowledgeIndex:
    """BM25 over a list of chunks (from one or more documents)."""

    def __init__(self, chunks: list[Chunk], analyzer: str, retriever: Any, vocab: dict[str, int],
                 dense: DenseVectors | None = None, stored_format: str = FORMAT) -> None:
        self._chunks = list(chunks)
        self._analyzer = analyzer
        self._retriever = retriever
        self._vocab = vocab
        self._sorted_vocab: list[str] | None = None  # for finding inflected forms, built when first needed
        self._dense = dense
        self._format = stored_format
        self.version = _version(self._chunks, analyzer, stored_format, _dense_tag(dense))
        self.documents = list(dict.fromkeys(c.document for c in self._chunks))
        self.chunk_count = len(self._chunks)

    @property
    def chunks(self) -> list[Chunk]:
        return list(self._chunks)

    @property
    def analyzer(self) -> str:
        return self._analyzer

    @property
    def embedding_model(self) -> str | None:
        """The litellm model that embedded the chunks; None for a BM25-only index."""
        return self._dense.model if self._dense is not None else None

    @property
    def embedding_dim(self) -> int | None:
        return self._dense.dim if self._dense is not None else None

    @property
    def stored_format(self) -> str:
        return self._format

    # --- building and searching --------------------------------------------------------

    @classmethod
    def build(cls, chunks: list[Chunk], embeddings: DenseVectors | None = None) -> KnowledgeIndex:
        """Index `chunks` (heading path and text both count). An empty list gives an empty index.

        `embeddings` (qagen.knowledge.dense.embed_chunks) are stored with the index: one row per
        chunk, in order; rows are L2-normalised here."""
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
        return cls(chunks, analyzer, retriever if vocab else None, vocab, dense=checked_vectors(embeddings, len(chunks)))

    def attach_embeddings(self, embeddings: DenseVectors) -> KnowledgeIndex:
        """This index with `embeddings` of its chunks (a new index; this one is unchanged)."""
        return KnowledgeIndex(self._chunks, self._analyzer, self._retriever, self._vocab,
                              dense=checked_vectors(embeddings, self.chunk_count))

    def search(self, query: str, k: int = 5, query_vector: Any = None,
               min_margin: float | None = None) -> list[Passage]:
        """The best `k` passages for `query`, best first; passages below the relevance floor are left out.

        Given `query_vector` (the question embedded by the query model that goes with
        `embedding_model`) and an index with embeddings, the search is `hybrid_search`;
        otherwise it is BM25, as follows.

        The floor asks how much of the query a passage holds: the query's terms (exam wording
        such as "explain" or "write" left out) weighted by how specific their words are in
        general language, so "queue" counts more than "application". A question about a
        topic the notes do not cover finds nothing rather than a passage sharing one common
        word, in a base of one document or of many alike.
        """
        import numpy as np

        if query_vector is not None and self._dense is not None:
            return self.hybrid_search(query, query_vector, k, min_margin)
        if self._retriever is None or k <= 0:
            return []
        weights = self.query_weights(query)
        if self._sorted_vocab is None:
            self._sorted_vocab = sorted(self._vocab)
        forms = query_forms(weights, query, self._vocab, self._sorted_vocab)
        ids = sorted({i for group in forms.values() for i in group})
        if not ids:
            return []
        scores = self._retriever.get_scores_from_ids(ids)
        relevant = relevant_chunks(weights, forms, self._retriever.scores, self._chunks, self._analyzer)
        scores = np.where(relevant, scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:k]
        floor = max(MIN_SHARE_OF_TOP * float(scores[order[0]]), 1e-9)
        return [Passage(self._chunks[int(i)], round(float(scores[i]), 4)) for i in order if scores[i] >= floor]

    def query_weights(self, query: str) -> dict[str, float]:
        """The query's search terms (question_terms) with their specificity weights."""
        wanted = set(question_terms(self._analyzer, query))
        return {t: w for t, w in term_weights(self._analyzer, query).items() if t in wanted}

    # --- dense and hybrid search ----------------------------------------------------------

    def dense_search(self, query_vector: Any, k: int = 5, min_margin: float | None = None) -> list[Passage]:
        """The best `k` chunks by cosine to `query_vector` among those above the dense floor
        (score: the cosine); [] for an index without embeddings."""
        return [Passage(self._chunks[i], round(cosine, 4)) for i, cosine in self._dense_ranking(query_vector, k,
                                                                                                   min_margin)]

    def dense_margins(self, query_vector: Any) -> Any:
        """Each chunk's cosine to `query_vector` minus the question's mean cosine to the reference
        prose: what the dense floor compares with `DENSE_MIN_MARGIN` (for measuring it)."""
        query = self._query_array(query_vector)
        return self._dense.vectors @ query - float(self._dense.reference @ query)

    def hybrid_search(self, query: str, query_vector: Any, k: int = 5,
                      min_margin: float | None = None) -> list[Passage]:
        """BM25's candidates (above its floor) and the dense candidates (above the dense floor),
        ranked together by reciprocal-rank fusion; nothing when neither floor admits a chunk."""
        if k <= 0 or self._dense is None:
            return [] if k <= 0 else self.search(query, k)
        depth = max(k, FUSION_DEPTH)
        lexical = [self._position(p.chunk) for p in self.search(query, depth)]
        dense = [i for i, _ in self._dense_ranking(query_vector, depth, min_margin)]
        fused: dict[int, float] = {}
        best_rank: dict[int, int] = {}
        for ranking in (lexical, dense):
            for rank, i in enumerate(ranking, 1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank)
                best_rank[i] = min(best_rank.get(i, rank), rank)
        order = sorted(fused, key=lambda i: (-fused[i], best_rank[i], i))[:k]
        return [Passage(self._chunks[i], round(fused[i], 6)) for i in order]

    def _dense_ranking(self, query_vector: Any, depth: int, min_margin: float | None) -> list[tuple[int, float]]:
        import numpy as np

        if self._dense is None or depth <= 0 or not self._chunks:
            return []
        query = self._query_array(query_vector)
        cosines = self._dense.vectors @ query
        baseline = float(self._dense.reference @ query)
        margin = DENSE_MIN_MARGIN if min_margin is None else float(min_margin)
        admitted = np.flatnonzero(cosines - baseline >= margin)
        order = admitted[np.argsort(-cosines[admitted], kind="stable")][:depth]
        return [(int(i), float(cosines[i])) for i in order]

    def _query_array(self, query_vector: Any) -> Any:
        import numpy as np

        if self._dense is None:
            raise ValueError("This index has no embeddings.")
        query = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self._dense.dim:
            raise ValueError(f"The query vector has {query.shape[0]} dimensions; this index's embeddings "
                             f"({self._dense.model}) have {self._dense.dim}.")
        norm = float(np.linalg.norm(query))
        if not np.isfinite(norm) or norm == 0.0:
            raise ValueError("The query vector is zero or not finite.")
        return query / norm

    def _position(self, chunk: Chunk) -> int:
        """Where a chunk that `search` returned sits in this index (it returns the index's own objects)."""
        positions = getattr(self, "_positions", None)
        if positions is None:
            positions = self._positions = {id(c): i for i, c in enumerate(self._chunks)}
        found = positions.get(id(chunk))
        return found if found is not None else self._chunks.index(chunk)

    # --- storage -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index as one deterministic byte string (see the module docstring)."""
        import numpy as np

        arrays: dict[str, Any] = {}
        if self._retriever is not None:
            for name, dtype in _ARRAY_DTYPES.items():
                arrays[name] = np.ascontiguousarray(self._retriever.scores[name], dtype=dtype)
        if self._dense is not None:
            arrays["embeddings"] = np.ascontiguousarray(self._dense.vectors, dtype=STORED_DTYPE)
            arrays["reference"] = np.ascontiguousarray(self._dense.reference, dtype=STORED_DTYPE)
        layout, offset = {}, 0
        for name, array in arrays.items():
            layout[name] = {"dtype": _ARRAY_DTYPES.get(name, STORED_DTYPE), "shape": list(array.shape),
                            "offset": offset}
            offset += array.nbytes
        header = {
            "format": self._format,
            "analyzer": self._analyzer,
            "params": BM25_PARAMS,
            "version": self.version,
            "chunks": [[c.document, c.page, c.heading, c.text] for c in self._chunks],
            "vocab": sorted(self._vocab, key=self._vocab.__getitem__),
            "arrays": layout,
        }
        if self._format != FORMAT_1:
            header["embedding"] = None if self._dense is None else {"model": self._dense.model, "dim": self._dense.dim}
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
            stored_format = header.get("format")
            if stored_format not in (FORMAT, FORMAT_1):
                raise IndexFormatError(f"Unsupported index format {stored_format!r}; rebuild the index.")
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
            known = set(_ARRAY_DTYPES) | (set(STORED_ARRAYS) if stored_format == FORMAT else set())
            if set(header["arrays"]) - known:
                raise IndexFormatError(f"The stored index holds unknown arrays {sorted(set(header['arrays']) - known)}.")
            dense = read_vectors(header, blob, len(chunks)) if stored_format == FORMAT else None
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
        KnowledgeIndex.__init__(index, chunks, analyzer, retriever, vocab, dense=dense, stored_format=stored_format)
        if header.get("version") != index.version:
            raise IndexFormatError("The stored index's version does not match its chunks (corrupt data).")
        return index

    def __repr__(self) -> str:
        dense = f", embeddings={self._dense.model!r}" if self._dense is not None else ""
        return (f"KnowledgeIndex(documents={self.documents!r}, chunks={self.chunk_count}{dense}, "
                f"version={self.version[:12]!r})")


def _dense_tag(dense: DenseVectors | None) -> str:
    return f"{dense.model}:{dense.dim}" if dense is not None else ""


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


def _version(chunks: list[Chunk], analyzer: str, stored_format: str = FORMAT, dense_tag: str = "") -> str:
    """Content hash of the chunks (and how they are analysed and embedded): stable for identical
    content. Format 1's recipe is kept so its stored versions still match."""
    digest = hashlib.sha256(stored_format.encode() + b"\0" + analyzer.encode() + b"\0")
    if stored_format != FORMAT_1:
        digest.update(dense_tag.encode() + b"\0")
    for c in chunks:
        digest.update(json.dumps([c.document, c.page, c.heading, c.text], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


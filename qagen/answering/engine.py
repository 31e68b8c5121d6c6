"""The answer stage's engine: retrieve, prompt, call the model, parse, cache, all concurrently.

Policy in one place:
- at most `concurrency` calls in flight (an asyncio semaphore), under a shared RPM limit;
- transient failures (429, 5xx, timeouts, connection errors) retried here and only here,
  with exponential backoff and jitter (the SDK's own retries are off, so a 429 storm is
  not multiplied);
- every call has a timeout;
- the offline engine (QAGEN_MODEL=qagen/offline, the default) is called directly, in a
  thread; litellm is imported only for other models (qagen.llm.loading), and the answer
  stage is where a background import of it is waited for;
- the answer a paper itself prints for a question (`Question.given_answer`) is passed as the
  first source, cited as "the paper's answer key"; a sub-part gets the lines of it under its
  own label when the key is labelled part by part (`key_for_part`);
- with an embedder and an index that stores embeddings of the same model, every item's
  question is embedded in one batched call and retrieval is hybrid (BM25 + dense, fused);
  if the embeddings server fails, the paper is searched with BM25 only and a warning logged;
- an item whose model call still fails gets an answer that says so, and the job goes on;
  when most items fail the whole stage raises TransientError so the job is retried later
  (answers already obtained are cached, so the retry pays only for the rest).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from qagen.answering.cache import AnswerCache, cache_key
from qagen.answering.limiter import ModelRateLimiter
from qagen.answering.mathcheck import check_answer
from qagen.errors import ModelError, TransientError
from qagen.llm.loading import is_offline, refusals, transient_model_errors
from qagen.llm.loading import load as load_litellm
from qagen.llm.prompt import answer_key_passage, parse_reply, question_messages
from qagen.model import Answer, Paper, Part, Question

log = logging.getLogger(__name__)


@dataclass
class WorkItem:
    """One thing to answer, with the stem of the question it belongs to (for a sub-part) and
    the answer the paper prints for it, if any."""

    item: Question | Part
    context: str
    answer_key: str = ""


def _starts_with_label(line: str, label: str) -> bool:
    """Whether a line of an answer key begins with a part's label: "(b) ...", "b) ...", "b. ...", "[b] ..."."""
    label = " ".join(str(label).split())
    return bool(label) and re.match(rf"\s*[(\[]?\s*{re.escape(label)}\s*[)\].:]", line) is not None


def key_for_part(key: str, label: str, siblings: list[str]) -> str:
    """The lines of a question's answer key under the part `label` (up to the next sibling's
    label), when the key is labelled part by part; else the whole key."""
    lines = key.split("\n")
    start = next((i for i, line in enumerate(lines) if _starts_with_label(line, label)), None)
    if start is None:
        return key
    others = [s for s in siblings if s != label]
    end = next((i for i in range(start + 1, len(lines)) if any(_starts_with_label(lines[i], s) for s in others)),
               len(lines))
    return "\n".join(lines[start:end]).strip()


def work_items(paper: Paper) -> list[WorkItem]:
    """Every question without parts, and every leaf part, alternatives included, in paper order."""
    out: list[WorkItem] = []

    def walk(item: Question | Part, context: list[str], key: str) -> None:
        if item.parts:
            labels = [part.label for part in item.parts]
            for part in item.parts:
                walk(part, [*context, item.text], key_for_part(key, part.label, labels) if key else "")
        else:
            out.append(WorkItem(item, "\n".join(text for text in context if text), key))

    for question in paper.questions:
        for each in (question, *question.alternatives):
            walk(each, [], (each.given_answer or "").strip())
    return out


def retrieval_query(work: WorkItem, options: list[tuple[str, str]]) -> str:
    """What the notes are searched with: the parent stem, the item's text and its options."""
    return " ".join([work.context, work.item.text, *(text for _, text in options)])


@dataclass
class AnswerEngine:
    model: str
    api_base: str | None = None
    timeout_seconds: float = 120.0
    concurrency: int = 8
    max_attempts: int = 4
    retrieval_k: int = 5
    limiter: ModelRateLimiter = field(default_factory=lambda: ModelRateLimiter(None))
    cache: AnswerCache = field(default_factory=AnswerCache)
    knowledge: object | None = None  # a KnowledgeIndex
    embedder: object | None = None  # a qagen.knowledge.dense.Embedder: questions' vectors for hybrid search
    dense_min_margin: float | None = None  # the dense floor; None: the index's DENSE_MIN_MARGIN
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    meter: object | None = None  # a qagen.usage.Meter: every model call's tokens and cost
    budget: Callable[[], str | None] | None = None  # qagen.quotas.CostBudget: None, or why no more calls
    stopped: str | None = None  # set once `budget` refused a call: the items left unanswered say it

    @classmethod
    def from_settings(cls, settings, *, redis_client=None, knowledge=None, fence=None) -> AnswerEngine:
        """The engine as settings describe it; with a Redis client the limit and cache are shared
        (and with a job run's `fence`, its cache writes are fenced: qagen.jobs.fencing)."""
        from qagen.knowledge.dense import Embedder

        return cls(
            model=settings.model,
            api_base=settings.llm_api_base,
            timeout_seconds=settings.llm_timeout_seconds,
            concurrency=settings.llm_concurrency,
            max_attempts=settings.llm_max_attempts,
            limiter=ModelRateLimiter(settings.llm_rpm, settings.redis_url if redis_client is not None else None),
            cache=AnswerCache(redis_client, settings.answer_cache_ttl_seconds, fence=fence),
            knowledge=knowledge,
            embedder=Embedder.from_settings(settings),
            dense_min_margin=settings.embedding_min_margin,
        )

    def answer_paper(self, paper: Paper, on_answered: Callable[[int, int], None] = lambda done, total: None) -> Paper:
        """Fill `answer` on every answerable item; call `on_answered(done, total)` after each."""
        items = work_items(paper)
        if items:
            if not is_offline(self.model):
                load_litellm()  # here, not in the event loop: it may wait for a background import
            asyncio.run(self._answer_all(items, on_answered))
        return paper

    async def _answer_all(self, items: list[WorkItem], on_answered: Callable[[int, int], None]) -> None:
        semaphore = asyncio.Semaphore(self.concurrency)
        done = 0
        failures: list[str] = []
        vectors = await self._query_vectors(items)

        async def one(work: WorkItem, vector) -> None:  # type: ignore[no-untyped-def]
            nonlocal done
            try:
                work.item.answer = await self._answer(work, semaphore, vector)
            except TransientError as exc:
                failures.append(str(exc))
                work.item.answer = Answer(text="This question could not be answered: the model did not respond.",
                                          notes=[str(exc)], status="failed")
            done += 1
            on_answered(done, len(items))

        await asyncio.gather(*(one(work, vectors[i] if vectors else None) for i, work in enumerate(items)))
        if failures and len(failures) * 2 > len(items):
            raise TransientError(f"The model failed on {len(failures)} of {len(items)} questions: {failures[0]}")

    async def _answer(self, work: WorkItem, semaphore: asyncio.Semaphore, query_vector=None) -> Answer:  # type: ignore[no-untyped-def]
        item = work.item
        options = [(option.label, option.text) for option in item.options]
        passages = self._retrieve(work, options, query_vector)
        if work.answer_key:
            passages = [answer_key_passage(work.answer_key), *passages]
        messages = question_messages(item.text, item.marks, options, passages, context=work.context,
                                     notes_searched=self.knowledge is not None)
        key = cache_key(self.model, messages)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        async with semaphore:
            if self.stopped is None and self.budget is not None:
                self.stopped = self.budget()
            if self.stopped:  # over the tenant's cost quota: the calls in flight finish, no new one starts
                return Answer(text=self.stopped, status="failed", notes=["cost quota reached"])
            text = await self._call(messages)
        answer = parse_reply(text, passages)
        if not is_offline(self.model):
            answer = check_answer(item.text, work.context, answer)
        self.cache.put(key, answer)
        return answer

    def _retrieve(self, work: WorkItem, options: list[tuple[str, str]], query_vector=None) -> list:  # type: ignore[no-untyped-def]
        if self.knowledge is None:
            return []
        query = retrieval_query(work, options)
        if query_vector is not None:
            return self.knowledge.search(query, k=self.retrieval_k, query_vector=query_vector,
                                         min_margin=self.dense_min_margin)
        return self.knowledge.search(query, k=self.retrieval_k)

    async def _query_vectors(self, items: list[WorkItem]) -> list | None:
        """Each item's retrieval query embedded (one batched call, in item order) when the index
        stores embeddings of this embedder's passage model; else None: BM25 only. A failing
        embeddings server never fails the job: it is logged and the paper searched with BM25."""
        from qagen.knowledge.dense import EmbeddingError, EmbeddingUnavailable

        index = self.knowledge
        stored = getattr(index, "embedding_model", None)
        if self.embedder is None or stored is None:
            return None
        if stored != self.embedder.model:
            log.warning("the knowledge base was embedded with %r but QAGEN_EMBEDDING_MODEL is %r: searching it "
                        "with BM25 only (upload the notes again to embed them with the new model)",
                        stored, self.embedder.model)
            return None
        queries = [retrieval_query(w, [(o.label, o.text) for o in w.item.options]) for w in items]
        try:
            vectors = await self.embedder.aembed_queries(queries)
        except (EmbeddingUnavailable, EmbeddingError) as exc:
            log.warning("dense retrieval is off for this paper, searching the notes with BM25 only: %s", exc)
            return None
        if vectors.shape[1] != index.embedding_dim:
            log.warning("the query model %r gives %d-dimensional vectors but the knowledge base's have %d: "
                        "searching with BM25 only (check QAGEN_EMBEDDING_QUERY_MODEL)",
                        self.embedder.query_model, vectors.shape[1], index.embedding_dim)
            return None
        return list(vectors)

    async def _call(self, messages: list[dict[str, str]]) -> str:
        if is_offline(self.model):
            return await self._call_offline(messages)
        litellm = load_litellm()
        transient = transient_model_errors(litellm)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(transient),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential_jitter(initial=self.backoff_initial_seconds, max=self.backoff_max_seconds),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self.limiter.acquire(self.model)
                    response = await litellm.acompletion(
                        model=self.model,
                        messages=messages,
                        api_base=self.api_base,
                        timeout=self.timeout_seconds,
                        max_retries=0,
                    )
        except transient as exc:
            raise TransientError(f"{type(exc).__name__} from {self.model} after {self.max_attempts} attempts") from exc
        except refusals(litellm) as exc:
            raise ModelError(f"The model {self.model!r} refused the request ({type(exc).__name__}: "
                             f"{str(exc)[:160]}); check QAGEN_MODEL and the provider's API key.") from exc
        if self.meter is not None:
            from qagen.usage import response_figures

            self.meter.add(*response_figures(response, litellm))
        return response.choices[0].message.content or ""

    async def _call_offline(self, messages: list[dict[str, str]]) -> str:
        """The offline engine's reply, computed in a thread (its maths has a time budget; the
        event loop stays free). Deterministic, so a failure is not retried: the item is
        answered as failed, as any item whose model call failed, and logged as the bug it is."""
        from qagen.llm.offline import offline_answer

        await self.limiter.acquire(self.model)
        try:
            text = await asyncio.to_thread(offline_answer, messages)
        except Exception as exc:
            log.exception("the offline engine failed on a question")
            raise TransientError(f"{type(exc).__name__} from {self.model}: {str(exc)[:160]}") from exc
        if self.meter is not None:
            self.meter.add()  # a call, with no tokens and no cost
        return text

"""The offline engine: qagen's own answerer, so qagen runs with no key and no network.

    offline_answer(question_messages(...))          # what qagen.answering.engine calls
    litellm.completion(model="qagen/offline", ...)  # the same, through litellm (qagen.llm.offline_litellm)

It reads the messages that `qagen.llm.prompt.question_messages` builds and replies in the
same JSON contract a language model is asked for. It never invents text:
- when the paper prints its own answer to the item (a source cited as "the paper's answer
  key"), that answer is given as printed, cited;
- computational questions (equations, calculus, arithmetic, statistics, matrices ...) are
  worked out exactly with sympy, showing steps (`qagen.maths.solve`);
- requests to draw a chart from given data, or to plot a function, get a chart spec;
- otherwise, with course-note sources, the answer is made of the sources' own sentences,
  cited (`qagen.llm.offline_sources`); an MCQ gets the option the notes support, if any;
- otherwise it says plainly that no source was found.
"""

from __future__ import annotations

import json
import re
from typing import Any

from qagen.llm.prompt import ANSWER_KEY, Prompt, SourceText, read_messages

PROVIDER = "qagen"
MATH_BUDGET_SECONDS = 2.5
CHART_BUDGET_SECONDS = 2.0

NO_SOURCE = (
    "No source was found for this question. The offline engine answers only from supplied "
    "course notes (and works out computational questions itself); it does not invent text. "
    "Attach course notes that cover it, or set QAGEN_MODEL to a language model."
)
ANSWER_KEY_NOTE = ("Taken as printed from the answer key in the paper; the offline engine wrote none of it. "
                   "Check that it answers this item.")
NOT_IN_SOURCES = (
    "The course notes that were searched do not answer this question: none of their sentences "
    "bears on it. The offline engine does not invent text; answer it by hand or set QAGEN_MODEL "
    "to a language model."
)


NEEDS_MODEL = (
    "This question asks for {task}, which the offline engine does not write: it answers only by "
    "quoting the course notes, giving the paper's own answer, computing, or drawing charts from "
    "given data. Set QAGEN_MODEL to a language model to answer it, or answer it by hand."
)


NOT_COMPUTED = (
    "This question asks for a computation the offline solver does not handle (it works out "
    "equations, calculus, arithmetic, percentages, statistics of a list and matrices). Set "
    "QAGEN_MODEL to a language model to answer it, or work it out by hand."
)


def _has_numbers(text: str) -> bool:
    return re.search(r"\d", text) is not None


def _reply(answer: str, *, choice: str | None = None, citations: list[dict[str, str]] | None = None,
           chart: dict[str, Any] | None = None, notes: list[str] | None = None,
           status: str = "answered") -> dict[str, Any]:
    return {"status": status, "answer": answer, "choice": choice, "citations": citations or [], "chart": chart,
            "notes": notes or []}


def _numbers_in(text: str) -> list[float]:
    out = []
    for match in re.finditer(r"-?\d+(?:\.\d+)?(?:\s*/\s*\d+)?", text.replace("−", "-")):
        token = match.group(0).replace(" ", "")
        try:
            if "/" in token:
                top, bottom = token.split("/")
                out.append(float(top) / float(bottom))
            else:
                out.append(float(token))
        except (ValueError, ZeroDivisionError):
            continue
    return out


def _option_for_values(options: list[tuple[str, str]], values: list[Any]) -> str | None:
    """The one option whose numbers are exactly the computed values (e.g. roots 2 and 3)."""
    try:
        wanted = sorted(round(float(v), 6) for v in values if getattr(v, "is_real", False) or isinstance(v, (int, float)))
    except (TypeError, ValueError):
        return None
    if not wanted:
        return None
    matches = [label for label, text in options if sorted(round(n, 6) for n in _numbers_in(text)) == wanted]
    return matches[0] if len(matches) == 1 else None


def answer_key_reply(source: SourceText) -> dict[str, Any]:
    """The paper's own answer, line by line as printed, cited."""
    lines = [line.strip() for line in source.text.split("\n") if line.strip()]
    answer = "As printed in the paper's answer key:\n\n" + "\n\n".join(lines) + f"\n\n[{source.tag}]"
    return _reply(answer, citations=[{"source": source.tag, "quote": " ".join(lines)}], notes=[ANSWER_KEY_NOTE])


def offline_reply(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The engine's reply (the JSON contract as a dict) to `question_messages` output."""
    from qagen.maths.reading import strip_label
    from qagen.maths.solve import solve_question
    from qagen.llm.offline_charts import chart_for
    from qagen.llm.offline_choice import option_reply
    from qagen.llm.offline_sources import extractive_reply
    from qagen.llm.question_kinds import asks_for_computation, writing_task

    prompt: Prompt = read_messages(messages)
    prompt.question = strip_label(prompt.question)
    key = next((s for s in prompt.sources if s.where == ANSWER_KEY and s.text.strip()), None)
    if key is not None:
        return answer_key_reply(key)
    if not prompt.question.strip():
        return _reply("The question text was empty, so there is nothing to answer.", status="unanswerable")
    chart = chart_for(prompt.question, prompt.context, budget=CHART_BUDGET_SECONDS)
    task = writing_task(prompt.question) if chart is None else None
    if task is not None:
        return _reply(NEEDS_MODEL.format(task=task), status="needs_model",
                      notes=[f"A language model is needed: the question asks for {task}."])
    math = None
    computation = asks_for_computation(prompt.question, prompt.context)
    if computation:
        math = solve_question(prompt.question, prompt.context, budget=MATH_BUDGET_SECONDS)
    if math is not None and math.failed and chart is None:
        return _reply(math.final, status="failed",
                      notes=["The offline engine recognised a computation but could not complete it."])
    if math is not None and not math.failed:
        choice = _option_for_values(prompt.options, math.values) if prompt.options else None
        answer = math.markdown()
        notes = ["Worked out exactly by the offline engine (sympy)."]
        if prompt.options:
            if choice:
                option_text = dict(prompt.options)[choice]
                answer = f"**({choice}) {option_text}**\n\n{answer}"
            else:
                notes.append("The computed result did not match exactly one option.")
        if chart is not None:
            answer = f"{answer}\n\n{chart[1]}"
        return _reply(answer, choice=choice, chart=chart[0] if chart else None, notes=notes)
    if chart is not None:
        return _reply(chart[1], chart=chart[0], notes=["Chart drawn from the data given in the question."])
    if math is None and computation and _has_numbers(prompt.question):
        # Quoting the notes is not working out a computation: say so rather than answer beside it.
        return _reply(NOT_COMPUTED, status="needs_model",
                      notes=["A language model is needed: the offline solver does not handle this computation."])
    if prompt.sources:
        reply = option_reply(prompt) if prompt.options else extractive_reply(prompt)
        if reply is not None:
            return reply
        return _reply(NOT_IN_SOURCES, status="not_in_notes")
    if prompt.options:
        return _reply(NO_SOURCE + " Without a source it does not choose an option.", status="not_in_notes")
    return _reply(NO_SOURCE, status="not_in_notes")


def offline_answer(messages: list[dict[str, Any]]) -> str:
    """The reply as the JSON text a model would send."""
    return json.dumps(offline_reply(messages), ensure_ascii=False)

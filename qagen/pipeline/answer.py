"""Answer stage: every answerable question and part gets an `Answer` from the model."""

from __future__ import annotations

from typing import Callable

from qagen.model import Answer, Paper, answerable_items
from qagen.pipeline.progress import Progress, within

Complete = Callable[[list[dict[str, str]]], str]


def answer_paper(paper: Paper, complete: Complete, progress: Progress) -> Paper:
    """Fill in `answer` on every answerable item, reporting "answering n/N" as it goes."""
    from qagen.llm.prompt import question_messages

    items = answerable_items(paper)
    for done, item in enumerate(items, start=1):
        messages = question_messages(item.text, item.marks, [(o.label, o.text) for o in item.options])
        item.answer = Answer(text=complete(messages).strip())
        progress("answering", within("answering", done / len(items)), f"answering {done}/{len(items)}")
    return paper

"""Answer stage: every answerable question and part gets an `Answer` from the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qagen.model import Paper
from qagen.pipeline.progress import Progress, within

if TYPE_CHECKING:
    from qagen.answering.engine import AnswerEngine


def answer_paper(paper: Paper, engine: AnswerEngine, progress: Progress) -> Paper:
    """Fill in `answer` on every answerable item, reporting "answering n/N" as answers arrive."""

    def on_answered(done: int, total: int) -> None:
        progress("answering", within("answering", done / total), f"answering {done}/{total}")

    return engine.answer_paper(paper, on_answered)

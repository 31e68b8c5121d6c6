"""The whole pipeline as functions: paper bytes in, answered paper and PDF out.

The worker and `qagen answer` both call these; neither holds pipeline logic.
- `run_pipeline`: parse, then answer, draw and typeset (`finish_paper`).
- `parse_paper`: the parse stage alone; a session uploaded with review stops after it, and
  a person checks (and may correct) the questions before anything is answered.
- `finish_paper`: answer, draw and typeset a parsed (perhaps corrected) paper; no re-parse.

The caller supplies the answer engine (the worker's shares its rate limit and cache
through Redis; the CLI's is in-process), and may be told the parsed paper as soon as the
parse stage ends (`on_parsed`: the worker records its warnings and confidence then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qagen.model import Paper
from qagen.pipeline.progress import Progress, no_progress, within
from qagen.settings import Settings

if TYPE_CHECKING:
    from qagen.answering.engine import AnswerEngine


@dataclass
class PipelineResult:
    paper: Paper
    pdf: bytes


def parse_paper(data: bytes, filename: str, settings: Settings, progress: Progress = no_progress) -> Paper:
    """The parse stage: the questions found in the upload (qagen.parsing), with the parse's warnings."""
    from qagen.pipeline.parse import parse_and_check

    _load_model_library_meanwhile(settings)
    progress("parsing", within("parsing", 0), "reading the paper")
    paper = parse_and_check(data, filename, settings, progress)
    count = len(paper.questions)
    progress("parsing", within("parsing", 1), f"found {count} question{'s' if count != 1 else ''}")
    return paper


def _load_model_library_meanwhile(settings: Settings) -> None:
    """For a model behind litellm (seconds to import), import it while the paper is read: in a
    thread started once the reader has forked (qagen.llm.loading says why then); the answer
    stage waits for it. The offline engine needs no litellm; an unforked reading (the CLI) would
    only share this process's CPU with the import, so there it stays where it was."""
    from qagen.documents.sandbox import limits
    from qagen.llm.loading import load_in_background, needs_litellm

    if needs_litellm(settings.model) and limits() is not None:
        load_in_background(after_fork=True, model=settings.model)


def finish_paper(paper: Paper, settings: Settings, progress: Progress = no_progress,
                 engine: AnswerEngine | None = None) -> PipelineResult:
    """Answer every question of `paper`, draw its diagrams and typeset the PDF."""
    from qagen.answering.engine import AnswerEngine
    from qagen.pipeline.answer import answer_paper
    from qagen.pipeline.diagrams import draw_diagrams
    from qagen.pipeline.render import render_pdf

    engine = engine or AnswerEngine.from_settings(settings)
    answer_paper(paper, engine, progress)
    progress("diagrams", within("diagrams", 0), "drawing diagrams")
    figures = draw_diagrams(paper)
    progress("rendering", within("rendering", 0), "typesetting the PDF")
    pdf = render_pdf(paper, figures, model=settings.model, page_size=settings.page_size)
    progress("rendering", within("rendering", 1), "PDF ready")
    return PipelineResult(paper=paper, pdf=pdf)


def run_pipeline(data: bytes, filename: str, settings: Settings, progress: Progress = no_progress,
                 engine: AnswerEngine | None = None,
                 on_parsed: Callable[[Paper], None] | None = None) -> PipelineResult:
    paper = parse_paper(data, filename, settings, progress)
    if on_parsed is not None:
        on_parsed(paper)
    return finish_paper(paper, settings, progress, engine)

"""The whole pipeline as one function: paper bytes in, answered paper and PDF out.

The worker and `qagen answer` both call `run_pipeline`; neither holds pipeline logic.
"""

from __future__ import annotations

from dataclasses import dataclass

from qagen.model import Paper
from qagen.pipeline.progress import Progress, no_progress, within
from qagen.settings import Settings


@dataclass
class PipelineResult:
    paper: Paper
    pdf: bytes


def run_pipeline(data: bytes, filename: str, settings: Settings, progress: Progress = no_progress) -> PipelineResult:
    from qagen.llm.client import ModelClient
    from qagen.pipeline.answer import answer_paper
    from qagen.pipeline.diagrams import draw_diagrams
    from qagen.pipeline.parse import parse
    from qagen.pipeline.render import render_pdf

    progress("parsing", within("parsing", 0), "reading the paper")
    paper = parse(data, filename, max_pages=settings.max_pages)
    count = len(paper.questions)
    progress("parsing", within("parsing", 1), f"found {count} question{'s' if count != 1 else ''}")

    answer_paper(paper, ModelClient.from_settings(settings).complete, progress)

    progress("diagrams", within("diagrams", 0), "drawing diagrams")
    figures = draw_diagrams(paper)
    progress("rendering", within("rendering", 0), "typesetting the PDF")
    pdf = render_pdf(paper, figures, model=settings.model, page_size=settings.page_size)
    progress("rendering", within("rendering", 1), "PDF ready")
    return PipelineResult(paper=paper, pdf=pdf)

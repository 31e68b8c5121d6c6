"""Parse stage: bytes of an uploaded paper in, a structured `Paper` out (see qagen.parsing).

With QAGEN_PARSE_CHECK and a real model, the parse is followed by the model's second look at
its questions (`qagen.llm.parse_check`; docs/parsing.md, "A model's second look").
"""

from __future__ import annotations

from qagen.model import Paper
from qagen.pipeline.progress import Progress, no_progress, within
from qagen.settings import OFFLINE_MODEL, Settings


def parse(data: bytes, filename: str = "", *, max_pages: int = 60) -> Paper:
    from qagen.parsing import parse_document

    return parse_document(data, filename, max_pages=max_pages)


def check_wanted(settings: Settings) -> bool:
    """QAGEN_PARSE_CHECK is on and QAGEN_MODEL is a real model (the offline engine reads no pages)."""
    offline_provider = OFFLINE_MODEL.split("/")[0] + "/"
    return settings.parse_check and not settings.model.startswith(offline_provider)


def parse_and_check(data: bytes, filename: str, settings: Settings, progress: Progress = no_progress) -> Paper:
    """`parse`, then the model's second look when `check_wanted`; the file is read once either way."""
    if not check_wanted(settings):
        return parse(data, filename, max_pages=settings.max_pages)
    from qagen.llm.parse_check import second_look
    from qagen.parsing import parse_document_with_text

    paper, page_text = parse_document_with_text(data, filename, max_pages=settings.max_pages)
    progress("parsing", within("parsing", 0.5), "checking the questions with the model")
    return second_look(paper, page_text, settings)

"""Parse stage: bytes of an uploaded paper in, a structured `Paper` out (see qagen.parsing).

With QAGEN_PARSE_CHECK and a real model, the parse is followed by the model's second look at
its questions (`qagen.llm.parse_check`; docs/parsing.md, "A model's second look").
"""

from __future__ import annotations

from qagen.model import Paper
from qagen.pipeline.progress import Progress, no_progress, within
from qagen.settings import OFFLINE_MODEL, Settings

# What reading a PDF and finding its questions imports. The reading runs in a fork of this
# process (qagen.documents.sandbox): imported here first, every fork inherits them (and their
# compiled patterns) instead of importing them again, ~60 ms of every job (docs/performance.md,
# cold start). DOCX, image and OCR readers still load in the child, when a file needs them.
READER_MODULES = ("qagen.documents", "qagen.documents.pdf", "qagen.documents.layout", "qagen.parsing.segment")


def warm_readers() -> None:
    """Import the PDF reader and the segmenter in this process (once; cheap after that)."""
    import importlib

    for name in READER_MODULES:
        importlib.import_module(name)


def parse(data: bytes, filename: str = "", *, max_pages: int = 60) -> Paper:
    from qagen.parsing import parse_document

    warm_readers()
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

    warm_readers()
    paper, page_text = parse_document_with_text(data, filename, max_pages=settings.max_pages)
    progress("parsing", within("parsing", 0.5), "checking the questions with the model")
    return second_look(paper, page_text, settings)

"""Parse stage: bytes of an uploaded paper in, a structured `Paper` out (see qagen.parsing)."""

from __future__ import annotations

from qagen.model import Paper


def parse(data: bytes, filename: str = "", *, max_pages: int = 60) -> Paper:
    from qagen.parsing import parse_document

    return parse_document(data, filename, max_pages=max_pages)

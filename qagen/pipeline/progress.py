"""How pipeline stages report progress: a callback, so the core never knows about Redis."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, stage: str, percent: int, message: str = "") -> None: ...


def no_progress(stage: str, percent: int, message: str = "") -> None:
    """A Progress that discards reports (for callers that do not show them)."""


# Share of the whole job each stage occupies, as (start, end) percent.
STAGE_SPANS = {
    "parsing": (2, 15),
    "answering": (15, 80),
    "diagrams": (80, 88),
    "rendering": (88, 96),
    "storing": (96, 99),
}


def within(stage: str, fraction: float) -> int:
    """The overall percent for being `fraction` (0..1) of the way through `stage`."""
    start, end = STAGE_SPANS[stage]
    return int(start + (end - start) * max(0.0, min(1.0, fraction)))

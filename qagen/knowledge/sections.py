"""A document's sections: text blocks under a heading path, on one page (PDF) or none."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Block:
    text: str
    code: bool = False

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass
class Section:
    page: int | None
    path: tuple[str, ...]
    heading_line: str = ""
    blocks: list[Block] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(b.words for b in self.blocks)


def clean_heading(title: str) -> str:
    """A heading as it is shown in a chunk's path: no Markdown emphasis, one line, at most 200 characters."""
    title = re.sub(r"(\*\*|__|\*|_|`)", "", title).strip()
    return re.sub(r"\s+", " ", title)[:200]

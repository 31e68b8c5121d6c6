"""Several papers in one file: where a new paper's header begins after questions have begun.

Rule: a paper's header states the time allowed or the maximum marks ("Time: 3 hours",
"Duration: 90 min", "Max. Marks: 70", "Full Marks: 50"). Such a line after the first
question, followed by question numbering that starts again at 1, begins a new paper. The
header block is the title lines printed with it: from the top of its page when the header
line sits among the page's first lines, else from the title-like lines just above it. The
paper's title is the nearest line at or above the header that names an examination
("Mid-Term Examination", "Unit Test 2", "SET - 3"), else the block's title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qagen.documents.lines import Line
from qagen.parsing import marks as M
from qagen.parsing.header import title_and_instructions, uncertain
from qagen.parsing.numbering import Candidate

PAPER_HEADER = re.compile(
    r"\b(?:time\s*(?:allowed|allotted)?\s*[:\-–]?\s*\d|duration\s*[:\-–]?\s*\d|\d+\s*(?:hours?|hrs?\.?|minutes|mins?\.?)\s*$"
    r"|max(?:imum)?\.?\s*marks?\s*[:\-–]?\s*\d|full\s*marks?\s*[:\-–]?\s*\d|total\s*marks?\s*[:\-–]\s*\d)",
    re.IGNORECASE,
)
TOP_OF_PAGE = 8  # a header line among a page's first lines makes the page's top its header
_TITLE_ABOVE = 3  # else at most this many title-like lines above it belong to the header


@dataclass
class PaperStart:
    """A later paper in the file: its header block's first line, and its title and total."""

    index: int  # first line of the header block
    first_question: int  # line of its first question
    title: str
    total_marks: float | None


def header_lines(lines: list[Line]) -> list[int]:
    return [i for i, line in enumerate(lines) if len(line.text) < 120 and PAPER_HEADER.search(line.text)]


def find_paper_starts(lines: list[Line], chain: list[Candidate]) -> list[PaperStart]:
    """Later papers' starts: a header line after a question, then numbering from 1 again."""
    if len(chain) < 2:
        return []
    headers = header_lines(lines)
    starts: list[PaperStart] = []
    for prev, cand in zip(chain, chain[1:]):
        if cand.value != 1 or prev.value < 1:
            continue
        between = [h for h in headers if prev.index < h < cand.index]
        if not between:
            continue
        begin = _block_start(lines, between[0], prev.index)
        block = [i for i in range(begin, cand.index)]
        title = _exam_name(lines, between[0], prev.index) or title_and_instructions(lines, block, cand.index)[0]
        total = M.total_marks("\n".join(lines[i].text for i in block))
        starts.append(PaperStart(begin, cand.index, title, total))
    return starts


_EXAM_NAME = re.compile(r"\b(?:exam\w*|test|quiz|assessment|paper|set)\b", re.IGNORECASE)
_NAME_REACH = 12  # lines above the header searched for the examination's name


def _exam_name(lines: list[Line], header: int, floor: int) -> str:
    """The nearest line at or above the header, on its page, that names an examination."""
    page = lines[header].page
    for i in range(header, max(floor, header - _NAME_REACH), -1):
        line = lines[i]
        if line.page != page:
            break
        text = " ".join(line.text.split())
        if _EXAM_NAME.search(text) and len(text) <= 100 and not uncertain(line):
            return text
    return ""


def first_paper_title(lines: list[Line], chain: list[Candidate], fallback: str) -> str:
    """The first paper's title when a file holds several: named like the others'."""
    headers = [h for h in header_lines(lines) if h < chain[0].index] if chain else []
    return (_exam_name(lines, headers[0], -1) if headers else "") or fallback


def _block_start(lines: list[Line], header: int, floor: int) -> int:
    page = lines[header].page
    top = header
    while top - 1 > floor and lines[top - 1].page == page:
        top -= 1
    page_top = top == 0 or lines[top - 1].page != page  # not stopped by the question before
    if page_top and header - top < TOP_OF_PAGE:
        return top
    begin = header
    while begin - 1 > floor and header - (begin - 1) <= _TITLE_ABOVE and _title_line(lines[begin - 1].text):
        begin -= 1
    return begin


def _title_line(text: str) -> bool:
    """Short, without a sentence's full stop: a course name, a code, an examination's name."""
    text = text.strip()
    return 0 < len(text) <= 80 and not text.endswith((".", "?", ":")) and len(text.split()) <= 10

"""Answers printed in the paper: worked answers, solutions, answer keys and rubrics.

Rules a person can check on the page:
- **An answer begins at an answer label** at the start of a line: `Answer:`, `Ans.`,
  `Solution:`, `Sol.`, `Marking scheme`, `Rubric:`, `Model answer:`, `Examiner's notes`
  (followed by a colon, a full stop, a dash or nothing else on the line). It runs to the
  next part label (`(b)`, `c)`), which starts the question's next part, or to the end of
  its question. A question's answers, in order, become its `given_answer`, not its text.
  A label followed only by a rule (`Answer: ________`) is a space to write in, not an
  answer.
- **Numbers inside an answer are not questions.** From an answer label until the next
  number that continues the questions' numbering (the last question's number plus one,
  in its style), a part label, a section heading or a new page, a numbered line is a
  point of the answer. When the answer numbers its own points from 1, a number is its
  next point before it is the next question (question 1's answer "1. ... 2. ..." keeps
  its point 2; the next "2." after them is question 2).
- **An answer may follow its question on the same line**, after the question's last
  word and a label: "What is the capital of France? Ans: Paris".
- **Unnumbered `Question:` items are numbered in order.** When a paper labels its items
  `Question:` or `Q:` with no number and prints no numbered questions, the items are
  questions 1, 2, 3, ...
"""

from __future__ import annotations

import bisect
import re

from qagen.documents.lines import Line
from qagen.parsing.numbering import Candidate

ANSWER_LABEL = re.compile(
    r"^\s*\(?(?:(?:model|correct|suggested|sample|expected|worked)\s+)?(?:answers?|ans|sol(?:ution)?s?|"
    r"marking\s+(?:scheme|guide|key)|rubrics?|answer\s+key|examiner'?s?\s+(?:notes?|comments?|report))"
    r"\s*(?:[.:\-–—)]|$)",
    re.IGNORECASE,
)
PART_LABEL = re.compile(r"^\s*(?:\([a-zA-Z]{1,4}\)|[a-zA-Z]{1,4}\)|(?:[a-z]|[ivx]{1,4})\.\s|\(\d{1,2}\))\s*\S")
# 'Answer: ________': space left for the candidate's answer, not an answer.
_ANSWER_SPACE = re.compile(r"^[\s_.…\-–—]*$")
UNNUMBERED_QUESTION = re.compile(r"^\s*(?:Question|QUESTION|Q)\s*[:.\-–]\s*(?=\S)")
_CONTINUES = ("kw", "letter", "num", "numparen", "roman", "bare", "paren")


def is_answer_label(text: str) -> bool:
    return bool(ANSWER_LABEL.match(text))


def answer_lines(lines: list[Line]) -> list[int]:
    """Lines that begin a printed answer (not a space left to write one in)."""
    return [i for i, line in enumerate(lines) if is_answer_label(line.text) and not _answer_space(line.text)]


def _answer_space(text: str) -> bool:
    """'Answer: ________': a label followed only by a rule to write on."""
    rest = ANSWER_LABEL.sub("", text, count=1).strip()
    return bool(rest) and bool(_ANSWER_SPACE.match(rest))


def drop_numbers_in_answers(cands: list[Candidate], lines: list[Line], breaks: set[int]) -> list[Candidate]:
    """Candidates that number the points of a printed answer are not questions.

    `breaks` are lines that end an answer whatever follows (headings, page tops)."""
    labels = answer_lines(lines)
    if not labels:
        return cands
    ends = sorted(breaks | {i for i, line in enumerate(lines) if PART_LABEL.match(line.text)})
    kept: list[Candidate] = []
    last: Candidate | None = None
    in_answer = False
    opened = -1
    points: dict[str, int] = {}  # style -> last value of a numbered list inside the answer
    k = 0
    for cand in cands:
        while k < len(labels) and labels[k] <= cand.index:
            if last is not None and labels[k] > last.index:
                in_answer, opened, points = True, labels[k], {}
            k += 1
        after = bisect.bisect_right(ends, opened)
        if in_answer and after < len(ends) and ends[after] <= cand.index:
            in_answer = False  # a part, a heading or a new page came first: the answer ended
        if in_answer and last is not None:
            continues = cand.value == last.value + 1 and (cand.style == last.style or cand.style == "kw")
            # The answer's own list (1., 2., 3.) goes on before the questions' numbering does.
            next_point = points.get(cand.style, 0) + 1 == cand.value and (cand.value == 1 or cand.style in points)
            if not continues or next_point:
                if next_point:
                    points[cand.style] = cand.value
                continue
            in_answer = False
        kept.append(cand)
        if last is None or cand.style == last.style or cand.style == "kw":
            last = cand
    return kept


def unnumbered_questions(lines: list[Line], cands: list[Candidate]) -> list[Candidate]:
    """`Question:` items without numbers, numbered 1, 2, 3 ... when nothing else is numbered
    as a question by keyword and there are at least two of them."""
    if any(c.style == "kw" for c in cands):
        return []
    found: list[Candidate] = []
    for i, line in enumerate(lines):
        match = UNNUMBERED_QUESTION.match(line.text)
        if match:
            value = len(found) + 1
            found.append(Candidate(i, "kw", value, "q", str(value), line.text[match.end():].strip(), line.indent))
    return found if len(found) >= 2 else []


# '... is the capital of France? Ans: Paris': an answer key printed on the question's line.
_INLINE_ANSWER = re.compile(
    r"(?<=[?.)\]:])\s+(?:\(?\s*)?(?:Ans(?:wer)?|Sol(?:ution)?)\s*[:.\-–—]\s*(?P<answer>\S.*?)\s*\)?\s*$",
    re.IGNORECASE,
)


def split_inline_answer(text: str) -> tuple[str, str | None]:
    """A line's question text and the answer printed after it on the same line, if any."""
    match = _INLINE_ANSWER.search(text)
    if not match or _ANSWER_SPACE.match(match.group("answer")):
        return text, None
    return text[: match.start()].rstrip(), match.group("answer")


def given_answers(lines: list[Line], start: int, end: int) -> tuple[set[int], str] | None:
    """The answers printed inside a question's lines [start, end): their lines and text.

    Each answer runs from its label to the next part label or the question's end; an
    answer after a part is prefixed with the part's label ("(b) ...")."""
    taken: set[int] = set()
    pieces: list[str] = []
    part = ""
    i = start + 1
    while i < end:
        text = lines[i].text
        if PART_LABEL.match(text):
            part = text.split(")", 1)[0].strip().lstrip("(")
        if not is_answer_label(text):
            i += 1
            continue
        taken.add(i)
        i += 1
        if _answer_space(text):
            continue  # a space to write in: it holds no answer and ends at once
        body = [ANSWER_LABEL.sub("", text, count=1).strip()]
        while i < end and not PART_LABEL.match(lines[i].text):
            body.append(lines[i].text.strip())
            taken.add(i)
            i += 1
        answer = "\n".join(b for b in body if b)
        pieces.append(f"({part}) {answer}" if part else answer)
    return (taken, "\n".join(pieces)) if pieces else None

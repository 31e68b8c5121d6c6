"""Recover question numbers that OCR lost ('6.' read as '20.', a tick mark over '3.').

Only used on OCR'd lines and only inside a validated numbering: when question n and
question n+k are found but the k-1 numbers between them are not, the lines between are
searched for question starts, first with a misread number at the margin, then with an
unreadable token followed by text in a hanging-indent paragraph that begins after a
finished sentence. The same is done before the first number found (e.g. '1' lost).
"""

from __future__ import annotations

import re

from qagen.documents.lines import Line
from qagen.parsing.numbering import Candidate

MAX_GAP = 8
_NUMBERED = re.compile(r"^\W{0,3}(\d{1,3})(?:\s?[.,)]|\s+(?=[A-Z(]))")
_JUNK_START = re.compile(r"^(?P<junk>\S{1,3})\s+(?P<rest>(?:\(|[A-Za-z]{2,}).*)$")
_LABEL = re.compile(r"^\(?[a-zA-Z]{1,4}\)|^\([0-9]{1,2}\)")
_ENDS_SENTENCE = re.compile(r"[.?!):;]\s*$|marks?\s*$", re.IGNORECASE)
_WORDS = {"a", "an", "the", "in", "if", "of", "on", "at", "by", "to", "is", "it", "as", "or", "and",
          "for", "let", "we", "be", "do", "how", "why", "who", "all", "any", "use", "you", "are", "can"}


def fill_gaps(chain: list[Candidate], lines: list[Line]) -> list[Candidate]:
    if not chain or not any(line.ocr for line in lines):
        return chain
    margin = _margins(chain, lines)
    out: list[Candidate] = []
    first = chain[0]
    if 1 < first.value <= MAX_GAP:
        lo = max(0, first.index - 80)
        out.extend(_search(lines, lo, first.index, first.value - 1, 1, first, margin, backward=True))
    out.append(first)
    for prev, cand in zip(chain, chain[1:]):
        missing = cand.value - prev.value - 1
        if 1 <= missing <= MAX_GAP and cand.group == prev.group:
            out.extend(_search(lines, prev.index + 1, cand.index, missing, prev.value + 1, cand, margin))
        out.append(cand)
    return out


def _margins(chain: list[Candidate], lines: list[Line]) -> dict[int, float]:
    per_page: dict[int, float] = {}
    for c in chain:
        page = lines[c.index].page
        per_page[page] = min(per_page.get(page, lines[c.index].x0), lines[c.index].x0)
    return per_page


def _search(lines: list[Line], lo: int, hi: int, count: int, first_value: int, like: Candidate,
            margin: dict[int, float], backward: bool = False) -> list[Candidate]:
    numbered: list[int] = []
    unreadable: list[int] = []
    order = range(hi - 1, lo - 1, -1) if backward else range(lo, hi)
    for i in order:
        line = lines[i]
        if not line.ocr:
            continue
        page_margin = margin.get(line.page, min(margin.values()))
        if line.x0 > page_margin + 0.04:
            continue
        text = line.text.strip()
        if _NUMBERED.match(text):
            numbered.append(i)
        elif _unreadable_start(lines, i):
            unreadable.append(i)
    picked = (numbered + unreadable)[:count] if backward else _pick(numbered, unreadable, count)
    picked.sort()
    out = []
    for k, i in enumerate(picked):
        value = first_value + k if not backward else like.value - len(picked) + k
        text = lines[i].text.strip()
        match = _NUMBERED.match(text) or _JUNK_START.match(text)
        rest = text[match.end():] if match and match.re is _NUMBERED else (match.group("rest") if match else text)
        out.append(Candidate(i, like.style, value, like.group, str(value), rest.strip(), lines[i].indent))
    return out


def _pick(numbered: list[int], unreadable: list[int], count: int) -> list[int]:
    if len(numbered) >= count:
        return numbered[:count]
    need = count - len(numbered)
    return numbered + unreadable[:need] if len(unreadable) >= need else numbered + unreadable


def _unreadable_start(lines: list[Line], i: int) -> bool:
    """A paragraph start whose number is unreadable: junk token, then text; the previous
    line ends a sentence (or is a short heading); the next line is indented further."""
    line = lines[i]
    match = _JUNK_START.match(line.text.strip())
    if not match or _LABEL.match(line.text.strip()):
        return False
    junk = match.group("junk")
    if junk.lower() in _WORDS and junk[:1].isupper() and junk != junk.upper():
        return False  # 'The', 'If': an ordinary sentence, not a lost number
    prev = lines[i - 1] if i else None
    if prev is not None and prev.page == line.page:
        short = prev.x1 - prev.x0 < 0.45
        if not (_ENDS_SENTENCE.search(prev.text) or short):
            return False
    nxt = lines[i + 1] if i + 1 < len(lines) else None
    return bool(nxt and nxt.page == line.page and _content_x0(nxt) > line.x0 + 0.015)


def _content_x0(line: Line) -> float:
    """Left edge of a line's text, ignoring a short junk segment at the scan's margin."""
    for seg in line.segments:
        if sum(ch.isalpha() for ch in seg.text) >= 3:
            return seg.x0
    return line.x0


# A number printed as a token of its own at the start of a line: '22', '22.', '22)'.
_LEADING_NUMBER = re.compile(r"^(?P<num>\d{1,3})(?:[.)]|\s|$)")


def fill_skipped_numbers(chain: list[Candidate], lines: list[Line]) -> list[Candidate]:
    """Questions the numbering skipped, found where their numbers are printed.

    A numbering may miss a question whose number is printed in another form than the
    rest: '22' where the others read '23.', because the full stop was set in a font the
    reader drops (a bilingual paper's other script), or a number followed by a formula.
    Two rules, both on lines that start at the numbering's margin with the number alone:
    - between questions n and n+k (k <= MAX_GAP), the k-1 missing numbers are taken when
      all of them are printed, in order;
    - after the last question, n+1, n+2, ... are taken in order while each is printed on
      a line that opens a question: text in another script, or a capitalised word.
    """
    if not chain:
        return chain
    margin = _margins(chain, lines)
    out: list[Candidate] = []
    for prev, cand in zip(chain, chain[1:]):
        out.append(prev)
        missing = cand.value - prev.value - 1
        if 1 <= missing <= MAX_GAP and cand.group == prev.group:
            found = _numbers_in_order(lines, prev.index + 1, cand.index, prev.value + 1, missing, prev, margin)
            if len(found) == missing:
                out.extend(found)
    last = chain[-1]
    out.append(last)
    if last.style in ("num", "numparen", "bare"):
        out.extend(_numbers_in_order(lines, last.index + 1, len(lines), last.value + 1, MAX_GAP, last, margin,
                                     opens_question=True))
    return out


def _numbers_in_order(lines: list[Line], lo: int, hi: int, first: int, count: int, like: Candidate,
                      margin: dict[int, float], opens_question: bool = False) -> list[Candidate]:
    found: list[Candidate] = []
    expected = first
    for i in range(lo, hi):
        if len(found) == count:
            break
        line = lines[i]
        text = line.text.strip()
        match = _LEADING_NUMBER.match(text)
        if not match or int(match.group("num")) != expected:
            continue
        if line.positioned and line.x0 > margin.get(line.page, min(margin.values())) + 0.02:
            continue
        rest = text[match.end():].strip()
        if opens_question and not _opens_question(line, rest):
            break
        found.append(Candidate(i, like.style, expected, like.group, str(expected), rest, line.indent))
        expected += 1
    return found


def _opens_question(line: Line, rest: str) -> bool:
    latin = sum(ch.isalpha() and ord(ch) < 0x250 for ch in line.text)
    other = line.foreign + sum(ch.isalpha() and ord(ch) >= 0x250 for ch in line.text)
    return (other >= 10 and other >= latin) or bool(re.match(r"^[A-Z“\"‘(][a-z]", rest))

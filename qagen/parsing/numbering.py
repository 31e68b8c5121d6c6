"""Find the top-level question numbers: candidates at line starts, then the best sequence.

Every line that starts like a question number ("1.", "Q3", "Question 4", "IV.", "A.2")
is a candidate. Candidates are grouped by style, and for each style a dynamic programme
picks the subsequence that reads most like a question numbering: each number follows the
previous one, a restart at 1 needs evidence (a section heading, a marks rule, a new page),
gaps cost, and numbers indented past the style's left margin are ignored. The style whose
sequence scores best (keyword styles such as "Q1" weigh more than bare "1.") wins.
"""

from __future__ import annotations

import bisect
import re
import statistics
from dataclasses import dataclass

from qagen.documents.lines import Line

KEYWORDS = (
    r"Q(?:uestion|ues|n|s)?|Prob(?:lem)?|Exercise|Task|Zadatak|Aufgabe|Exercice|Pregunta"
    r"|Frage|Opgave|Uppgift|Esercizio|प्रश्न|प्र"
)
_UNITS = re.compile(
    r"^\s*(?:hours?|hrs?|minutes?|mins?|marks?\b|points?\b|pts?\b|%|am\b|pm\b|a\.m|p\.m|days?|years?"
    r"|st\b|nd\b|rd\b|th\b)",
    re.IGNORECASE,
)
_OPERATOR = re.compile(r"^\s*(?:[x×X*]\s*\d|=|\+|/|-\s*\d)")
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("kw", re.compile(rf"^(?P<label>(?P<kw>{KEYWORDS})\s*[.:]?\s*(?:No\.?\s*)?(?P<num>\d{{1,3}}))"
                      r"(?P<punct>\s*[.:)\-–]?)(?=\s|$|[A-Z(\[“\"‘'])", re.IGNORECASE)),
    ("letter", re.compile(r"^(?P<label>(?P<kw>[A-Z])\s?[.\-]\s?(?P<num>\d{1,2}))(?P<punct>[.:)]?)"
                          r"(?=\s|$|[-–:])")),
    ("num", re.compile(r"^(?P<label>(?P<num>\d{1,3}))(?P<punct>\s?(?:\)\.|\.(?!\d)))")),
    ("numparen", re.compile(r"^(?P<label>(?P<num>\d{1,3}))(?P<punct>\))(?!\.)")),
    ("paren", re.compile(r"^(?P<label>\((?P<num>\d{1,3})\))(?P<punct>)(?=\s|[A-Z])")),
    ("roman", re.compile(r"^(?P<label>(?P<num>[IVX]{1,5}))(?P<punct>\s?[.)])(?=\s)")),
    ("bare", re.compile(r"^(?P<label>(?P<num>\d{1,3}))(?P<punct>)\s+(?=[A-Z“\"‘(])")),
]
# A question's heading on a line of its own: a keyword and a number, after at most three
# capitalised words ("Free-Response Question 2", "Bonus Problem 1"), nothing after.
QUESTION_HEADING = re.compile(
    rf"^(?:[A-Z][\w'-]*\s+){{0,3}}?(?P<label>(?P<kw>Question|QUESTION|Problem|PROBLEM|Exercise|EXERCISE|Task|TASK"
    rf"|Aufgabe|AUFGABE|Exercice|Pregunta|Frage|Esercizio)\s*(?:(?:No|NO)\.?\s*)?(?P<num>\d{{1,3}}))(?P<punct>\s*[.:]?)\s*$")
_OCR_NUM = re.compile(r"^(?P<label>(?P<num>\d{1,3}))(?P<punct>\s?[,.:]{1,3})(?=\s?\S)")  # OCR reads '4.' as '4,' or '4:'
_OCR_NOISE = re.compile(r"^(?:[|!~_—–\-=•*°'‘’\"«»]+\s*|[vV✓]\s+(?=\d))+")
STYLE_WEIGHT = {"kw": 2.0, "letter": 1.8, "num": 1.0, "numparen": 0.95, "roman": 0.7, "paren": 0.6, "bare": 0.45}
# A restart at 1 with no heading, marks rule or new page before it costs more than a short
# run gains, so option lists numbered 1)-4) under each question never outscore the questions.
RESTART_GAIN = 0.7
UNEXPLAINED_RESTART_GAIN = -4.0
_ROMAN = {"I": 1, "V": 5, "X": 10}


@dataclass
class Candidate:
    index: int  # line index
    style: str
    value: int
    group: str  # keyword or letter prefix; letter style restarts per group
    label: str  # as printed, without trailing punctuation
    rest: str  # line text after the label
    indent: float
    alt_values: tuple[int, ...] = ()  # OCR readings that may stand for another number
    ocr: bool = False


def roman_value(text: str) -> int:
    total = 0
    for i, ch in enumerate(text):
        value = _ROMAN[ch]
        nxt = _ROMAN[text[i + 1]] if i + 1 < len(text) else 0
        total += -value if value < nxt else value
    return total


def find_candidates(lines: list[Line]) -> list[Candidate]:
    found: list[Candidate] = []
    for index, line in enumerate(lines):
        heading = QUESTION_HEADING.match(line.text.strip())
        if heading:  # "Free-Response Question 2" on a line of its own, wherever it is set
            cand = _candidate(index, "kw", heading, heading.group("label"), line)
            if cand:
                found.append(cand)
            continue
        if line.positioned and line.indent > 0.3:
            continue  # question numbers sit at the column's left, not mid-line
        text = line.text.lstrip()
        if line.ocr:
            text = _OCR_NOISE.sub("", text)
        for style, pattern in PATTERNS:
            match = pattern.match(text)
            if not match:
                continue
            cand = _candidate(index, style, match, text, line)
            if cand:
                found.append(cand)
        if line.ocr and not any(c.index == index and c.style == "num" for c in found[-3:]):
            match = _OCR_NUM.match(text)
            if match:
                cand = _candidate(index, "num", match, text, line)
                if cand:
                    found.append(cand)
    return found


def _candidate(index: int, style: str, match: re.Match[str], text: str, line: Line) -> Candidate | None:
    rest = text[match.end():]
    dotted = "." in match.group("punct")
    operator = style in ("num", "numparen", "bare", "paren") and not dotted
    if (_UNITS.match(rest) and not dotted) or (operator and _OPERATOR.match(rest)):
        return None
    raw = match.group("num")
    if style == "roman":
        if not re.fullmatch(r"X{0,3}(IX|IV|V?I{0,3})", raw):
            return None
        value = roman_value(raw)
    else:
        value = int(raw)
    if value == 0:
        return None
    group = (match.groupdict().get("kw") or "").lower()
    if style == "kw":
        group = "q" if group.startswith("q") else group
    if style == "numparen" and rest.strip() and rest.strip()[0].isdigit():
        return None
    alt: tuple[int, ...] = ()
    if line.ocr and value >= 10:
        alt = tuple(v for v in ((value % 10,) if value < 100 else (value % 100, value % 10)) if v)
    label = match.group("label").strip()
    rest = re.sub(r"^[\s\-–—:]+(?=\S)", "", rest) if style in ("letter", "kw") else rest.strip()
    return Candidate(index, style, value, group, label, rest.strip(), line.indent, alt, line.ocr)


@dataclass
class Evidence:
    """Line indexes where a numbering restart is plausible (headings, rules, page tops)."""

    breaks: list[int]  # sorted

    def between(self, start: int, end: int) -> bool:
        """Is there a break after line `start` and at or before line `end`?"""
        k = bisect.bisect_right(self.breaks, start)
        return k < len(self.breaks) and self.breaks[k] <= end


def best_chain(cands: list[Candidate], evidence: Evidence) -> tuple[float, list[Candidate]]:
    """Highest-scoring plausible numbering subsequence of same-style candidates."""
    n = len(cands)
    if not n:
        return 0.0, []
    score = [0.0] * n
    back = [-1] * n
    value_of = [0] * n
    by_value: dict[int, list[int]] = {}  # chosen value -> candidates ending a chain with it
    for i, cand in enumerate(cands):
        best_val, best_prev, best_v = float("-inf"), -1, cand.value
        ocr = cand.ocr
        for v in (cand.value, *cand.alt_values):
            start = 1.0 - (min(2.0, 0.3 * (v - 1)) if ocr else min(3.0, 1.0 * (v - 1)))
            if start > best_val:
                best_val, best_prev, best_v = start, -1, v
            for j in _predecessors(i, v, ocr, by_value):
                gain = _transition(cands[j], value_of[j], cand, v, evidence)
                if gain is not None and score[j] + gain > best_val:
                    best_val, best_prev, best_v = score[j] + gain, j, v
        score[i], back[i], value_of[i] = best_val, best_prev, best_v
        by_value.setdefault(best_v, []).append(i)
    end = max(range(n), key=lambda k: score[k])
    chain: list[Candidate] = []
    k = end
    while k >= 0:
        cand = cands[k]
        if value_of[k] != cand.value:
            cand = Candidate(cand.index, cand.style, value_of[k], cand.group, str(value_of[k]),
                             cand.rest, cand.indent)
        chain.append(cand)
        k = back[k]
    chain.reverse()
    return score[end], chain


WINDOW = 400  # how far back (in candidates) a chain may continue from


def _predecessors(i: int, v: int, ocr: bool, by_value: dict[int, list[int]]) -> list[int]:
    """Candidates a chain could come from: those ending with v-1 (or a small gap below it,
    or v itself); for v == 1 any earlier candidate (a restart)."""
    low = max(0, i - WINDOW)
    if v == 1:
        return [j for js in by_value.values() for j in js if j >= low]
    span = 9 if ocr else 4
    out = []
    for p in range(max(1, v - span), v + 1):
        out.extend(j for j in by_value.get(p, ()) if j >= low)
    return out


def _transition(prev: Candidate, p: int, cand: Candidate, v: int, evidence: Evidence) -> float | None:
    if prev.index == cand.index:
        return None
    if cand.style == "letter" or (cand.style == "kw" and cand.group != prev.group):
        if cand.group != prev.group:
            return 1.0 if v == 1 else None
    if v == p + 1:
        return 1.0
    if p + 1 < v <= p + 4 and not cand.ocr:
        return 1.0 - 0.7 * (v - p - 1)
    if p + 1 < v <= p + 9 and cand.ocr:
        return 1.0 - 0.15 * (v - p - 1)  # OCR loses numbers under tick marks and stains
    if v == 1 and p >= 1:
        return RESTART_GAIN if evidence.between(prev.index, cand.index) else UNEXPLAINED_RESTART_GAIN
    if v == p and cand.style in ("kw", "letter"):
        return 0.1
    return None


def margin_filter(chain: list[Candidate], cands: list[Candidate], lines: list[Line]) -> list[Candidate]:
    """Drop candidates indented well past the margin where the chain's numbers sit on the
    same page (pages of a scan are shifted differently, so the margin is per page)."""
    if len(chain) < 3:
        return cands
    positioned = any(line.positioned for line in lines)
    tol = 0.035 if positioned else 0.025
    overall = statistics.median(c.indent for c in chain)
    per_page: dict[int, float] = {}
    for c in chain:
        page = lines[c.index].page
        per_page[page] = min(per_page.get(page, c.indent), c.indent)
    out = []
    for c in cands:
        margin = per_page.get(lines[c.index].page, overall)
        if positioned and lines[c.index].ocr:
            margin = max(margin, overall)
        if c.indent <= margin + tol:
            out.append(c)
    return out


INSTRUCTION_HEAD = re.compile(
    r"instructions?|\bnotes?\s*[:.-]|read the following|rules|निर्देश", re.IGNORECASE
)
INSTRUCTION_WORDS = re.compile(
    r"compulsory|calculators?|permitted|not allowed|are allowed|candidates?|answer[- ]?(?:book|sheet|script)"
    r"|mobile|electronic|rough work|indicated|all questions|question paper|\bensure\b|examiner"
    r"|\bmust\b|\bshould\b|\bwill be\b|\bmarks? (?:are|is|will|for)\b|\bno marks?\b|internal choice",
    re.IGNORECASE,
)


def drop_instruction_run(chain: list[Candidate], lines: list[Line]) -> list[Candidate]:
    """'General Instructions: 1. All questions are compulsory. 2. ...' then 'SECTION A 1. ...':
    when the numbering restarts, a first run that reads like instructions is not questions."""
    restart = next((k for k in range(1, len(chain)) if chain[k].value <= chain[k - 1].value), None)
    if restart is None:
        return chain
    first = chain[:restart]
    before = [lines[i].text for i in range(max(0, first[0].index - 3), first[0].index)]
    headed = any(INSTRUCTION_HEAD.search(t) for t in before)
    hits = sum(bool(INSTRUCTION_WORDS.search(c.rest)) for c in first)
    if (headed and hits) or (hits >= 0.6 * len(first) and len(first) >= 2):
        return chain[restart:]
    return chain


def choose_numbering(lines: list[Line], evidence: Evidence, cands: list[Candidate] | None = None) -> list[Candidate]:
    """The top-level question numbers of a document, in reading order."""
    cands = find_candidates(lines) if cands is None else cands
    best: tuple[float, list[Candidate]] = (float("-inf"), [])
    plain: tuple[float, list[Candidate]] = (float("-inf"), [])  # the best numbering that is not keywords
    keyword_chain: list[Candidate] = []
    for style, weight in STYLE_WEIGHT.items():
        group = [c for c in cands if c.style == style]
        if not group:
            continue
        _, chain = best_chain(group, evidence)
        group = margin_filter(chain, group, lines)
        score, chain = best_chain(group, evidence)
        weighted = score * weight if score > 0 else score / weight
        if style == "kw":
            keyword_chain = chain
        elif chain and (score > 0 or len(chain) >= 2) and weighted > plain[0]:
            plain = (weighted, chain)
        if chain and (score > 0 or len(chain) >= 2) and weighted > best[0]:
            best = (weighted, chain)
    if not best[1] and len(cands) == 1 and cands[0].style in ("kw", "num", "numparen", "letter"):
        return cands  # a single numbered question, e.g. one pasted question
    chain = best[1]
    if plain[1] and keyword_chain:
        # Plain numbers before the first keyword question stay questions ("1."-"13.", then
        # "Question 1"-"3"); those that start again under the keyword questions are inside them.
        before = [c for c in plain[1] if c.index < keyword_chain[0].index]
        style = plain[1][0].style
        after = [c for c in cands if c.style == style and c.index > keyword_chain[0].index]
        clean_prefix = [c.value for c in before] == list(range(1, len(before) + 1))
        if after and clean_prefix and nested_in(after, keyword_chain):
            chain = before + keyword_chain
    return drop_instruction_run(chain, lines)


def nested_in(inner: list[Candidate], outer: list[Candidate]) -> bool:
    """Does the `inner` numbering start again at 1 under each number of `outer`, as the parts
    of questions or the points of their answers do?

    The rule: `outer` is a keyword numbering ("Question 1", "Q. 2", "Problem 3") that counts
    1, 2, 3, ... without a restart; nothing of `inner` comes before its first number; and in
    at least two of the spans it opens (each number up to the next), the first `inner`
    number is 1. Then `outer` numbers the questions, and `inner` is inside them."""
    values = [c.value for c in outer]
    if len(outer) < 2 or values != list(range(1, len(outer) + 1)):
        return False
    if inner[0].index < outer[0].index:
        return False
    starts = [c.index for c in outer]
    first_in_span: dict[int, int] = {}
    for cand in inner:
        span = bisect.bisect_right(starts, cand.index) - 1
        first_in_span.setdefault(span, cand.value)
    return sum(value == 1 for value in first_in_span.values()) >= 2

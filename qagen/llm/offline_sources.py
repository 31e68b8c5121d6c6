"""Extractive answers for the offline engine: the most relevant sentences of the cited sources.

No text is written that the notes do not contain: the answer is made of whole sentences
taken from the sources (their own words, Markdown as written; a display formula that a
sentence leads into is shown after it), or a small table from the notes, each tagged with
its source; every citation quotes one of those sentences. How many sentences depends on
the marks. For multiple choice, the option whose distinctive words the sources support
best is chosen, if one clearly is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from qagen.knowledge.analysis import (
    analyzer_name,
    key_term,
    language_of,
    question_terms,
    same_word,
    term_weights,
    terms_for,
    words,
)
from qagen.knowledge.chunking import split_sentences
from qagen.llm.prompt import Prompt
from qagen.llm.question_kinds import asked_facets, compared_sides, gives_facet

MIN_COVERAGE = 0.3  # share of the question's terms the best sentence must contain
# Narration, words to the reader and pointers elsewhere ("let's simulate ...", "you know how
# to use ...", "the stages are covered in unit 7"): the notes talking about themselves, rarely
# the answer, and never what gives a facet asked for.
_NARRATIVE = re.compile(r"^(let's|let us|now,|next,|here,|e\.g|as we (saw|have seen))|\blet's\b|"
                        r"\byou(?:'re| are| know| will| can| should|'ll)\b|\bwe(?:'ll| will| shall)\b|"
                        r"\b(?:covered|discussed|explained|described|dealt\s+with)\s+(?:in|under)\s+(?:unit|chapter|"
                        r"section|lesson|part|module)\b|\bsee\s+(?:unit|chapter|section|page|lesson)\b", re.I)
_DISPLAY_MATH = re.compile(r"^\$\$(.+?)\$\$", re.S)

OFFLINE_NOTE = ("Composed by the offline engine from sentences of the course notes (not a written answer); "
                "check that it covers the question.")


_ASK_END = re.compile(r"(?<=[?.!;])\s+")  # where one ask of a question ends and the next begins
KEY_SHARE = 0.15  # a sentence holding the key term is shown if it scores this share of the best
ABOUT_SHARE = 0.35  # share of the question's term weight a sentence (with its heading) must hold
# A sentence opening with one of these continues the one before it ("It has two ends ...").
_REFERS_BACK = re.compile(r"^(it|its|this|these|they|their|them|such|each|both|here|the latter|the former)\b", re.I)


@dataclass
class Sentence:
    source: int  # index into prompt.sources
    position: int
    text: str  # the source's own words (quoted in the citation)
    terms: frozenset[str]
    shown: str = ""  # what the answer shows: the text, plus a display formula it leads into
    table: bool = False
    heading_terms: frozenset[str] = frozenset()  # the terms of the heading it sits under
    heading: str = ""  # that heading's text
    follows: int | None = None  # position of the sentence before it in the same paragraph
    unit: int = 0  # which paragraph (unit) of its source it is in


# "What is a join in SQL?", "Define standard deviation.", "What is meant by inflation?": a
# definition names its subject right after the asking words, up to "in", "for", "with" ...
_DEFINED = re.compile(r"\b(?:what\s+(?:is|are)(?:\s+meant\s+by)?|define|what\s+do\s+you\s+(?:mean|understand)\s+by)"
                      r"\s+(?:an?\s+|the\s+)?(?P<subject>[^?.,;:]+?)(?=\s+(?:in|for|with|as|used)\b|[?.,;:]|$)",
                      re.I)


def subject_key(question: str, weights: dict[str, float], analyzer: str) -> str | None:
    """The term the question is about: for a definition, the most specific term of what it
    defines ("join" in "What is a join in SQL?", not the rarer "SQL"); else its key term."""
    defined = _DEFINED.search(question)
    if defined:
        named = {t: weights[t] for t in terms_for(analyzer, defined.group("subject")) if t in weights}
        if key_term(named):
            return key_term(named)
    return key_term(weights)


def about_subject(sentences: list[Sentence], weights: dict[str, float], key: str | None,
                  share: float = ABOUT_SHARE) -> set[int]:
    """Indexes of the sentences about the question's subject: holding its key term, or
    ABOUT_SHARE of its term weight, themselves or with their heading; or continuing such a
    sentence with "It", "This", "They" ..."""
    total = sum(weights.values()) or 1.0
    about: set[int] = set()
    by_position = {(s.source, s.position): i for i, s in enumerate(sentences)}
    for i, s in enumerate(sentences):
        own = s.terms | s.heading_terms
        if (key is not None and key in own) or sum(w for t, w in weights.items() if t in own) >= share * total:
            about.add(i)
        elif s.follows is not None and _REFERS_BACK.match(s.text):
            if by_position.get((s.source, s.follows)) in about:
                about.add(i)
    return about


_LIST_MARKER = re.compile(r"^(?:[-*+•▪◦‣]|\d{1,3}[.)])\s+")


def quote_of(sentence: str) -> str:
    """A sentence as a citation quotes it: without a leading list marker, which a reader may
    have added (Word's bullets and list numbers are not text of the document)."""
    return _LIST_MARKER.sub("", sentence, count=1)


def _letters(text: str) -> int:
    """Letters and the marks that belong to them (Devanagari vowel signs are marks)."""
    return sum(c.isalpha() or unicodedata.category(c).startswith("M") for c in text)


def _is_title(line: str) -> bool:
    """A paragraph of one short line with no sentence-ending punctuation: a title, not prose
    (a list item is never a title)."""
    if _LIST_MARKER.match(line):
        return False
    text = line.strip()
    return 0 < len(text.split()) <= 15 and not re.search(r"[.!?:;,]\W*$|[।॥]\s*$", text)


def _units(text: str) -> list[tuple[str, str, str]]:
    """A chunk as (kind, text, nearest heading) units: prose paragraphs, display maths, tables.

    Code blocks, image lines, HTML-ish lines and d2l directives are skipped.
    """
    units: list[tuple[str, str, str]] = []
    fenced, current, kind, heading = False, [], "", ""

    def flush() -> None:
        nonlocal current, kind, heading
        if current and kind == "prose" and _is_title(current[0]) and (
                len(current) == 1 or (len(current[0].split()) <= 8 and current[1][:1].isupper())):
            # A line standing alone that ends no sentence is a title; so is a short such line
            # opening a paragraph whose next line starts a sentence ("Sex determination in humans").
            heading, current = current[0], current[1:]
        if current:
            units.append((kind, ("\n" if kind == "table" else " ").join(current), heading))
        current, kind = [], ""

    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            flush()
            fenced = not fenced
            continue
        if fenced:
            continue
        if stripped.startswith("#"):
            flush()
            heading = stripped.lstrip("#").strip()
            continue
        if not stripped or stripped.startswith(("![", "<", ":")) or line.startswith(("    ", "\t")):
            flush()
            continue
        if stripped.startswith("|"):
            line_kind = "table"
        elif stripped.startswith("$$") or (kind == "math" and not current[-1].endswith("$$")):
            line_kind = "math"
        else:
            line_kind = "prose"
        if kind and (line_kind != kind or (kind == "prose" and _LIST_MARKER.match(stripped))):
            flush()  # each list item is a unit of its own, not a sentence run into the next
        kind = line_kind
        current.append(stripped)
    flush()
    return units


def _sentences(prompt: Prompt, analyzer: str) -> list[Sentence]:
    out: list[Sentence] = []
    seen: set[str] = set()
    for index, source in enumerate(prompt.sources):
        position = 0
        units = _units(source.text)
        for number, (kind, block, heading) in enumerate(units):
            if kind == "table":
                rows = block.split("\n")
                if 2 <= len(rows) <= 14 and rows[0] not in seen:
                    seen.add(rows[0])
                    out.append(Sentence(index, position, rows[0], frozenset(terms_for(analyzer, f"{heading} {block}")),
                                        shown=(f"{heading}:\n\n" if heading else "") + block, table=True))
                    position += 1
                continue
            if kind != "prose":
                continue
            sentences = split_sentences(block)
            heading_terms = frozenset(terms_for(analyzer, f"{source.heading} {heading}"))
            previous: int | None = None
            for at, sentence in enumerate(sentences):
                sentence = sentence.strip()
                key = " ".join(sentence.lower().split())
                if not 5 <= len(sentence.split()) <= 90 or key in seen or _letters(sentence) < 6:
                    continue
                if _letters(sentence) < 0.55 * len(sentence):  # code or a formula dump
                    continue
                seen.add(key)
                shown = sentence
                following = units[number + 1] if number + 1 < len(units) else None
                if at == len(sentences) - 1 and following and following[0] == "math":
                    formula = _DISPLAY_MATH.match(following[1])
                    if formula and len(formula.group(1)) <= 300:
                        shown = f"{sentence} ${formula.group(1).strip()}$"
                out.append(Sentence(index, position, sentence, frozenset(terms_for(analyzer, sentence)), shown,
                                    heading_terms=heading_terms, heading=f"{source.heading} {heading}",
                                    follows=previous, unit=number))
                previous = position
                position += 1
    return out


def _align_inflections(sentences: list[Sentence], wanted: set[str]) -> None:
    """Give each sentence the question's terms whose inflected forms it holds."""
    for s in sentences:
        s.terms = s.terms | {w for w in wanted if w not in s.terms and any(same_word(w, t) for t in s.terms)}
        s.heading_terms = s.heading_terms | {w for w in wanted if any(same_word(w, t) for t in s.heading_terms)}


def sentence_idf(sentences: list[Sentence], wanted: set[str]) -> dict[str, float]:
    n = max(len(sentences), 1)
    return {t: math.log(1 + n / (1 + sum(t in s.terms for s in sentences))) + 0.5 for t in wanted}


def _definition_bonus(question: str, sentence: str) -> float:
    if re.search(r"\b(what is|what are|define|definition|meant by|what do you mean)\b", question.lower()):
        if re.search(r"\b(is|are) (a|an|the|called)\b|\brefers? to\b|\bis defined\b|\bmeans\b|\bdenotes?\b", sentence):
            return 1.0
    return 0.0


def _how_many(marks: float | None) -> int:
    if marks is None:
        return 3
    return max(1, min(8, round(marks)))


def _balanced(sentences: list[Sentence], sides: tuple[set[str], set[str]] | None) -> list[Sentence]:
    """For a comparison, sentences on both sides first, then one side and the other in turn,
    each in its own order, so the answer covers both; otherwise unchanged."""
    if sides is None:
        return sentences
    both = [s for s in sentences if s.terms & sides[0] and s.terms & sides[1]]
    only = [[s for s in sentences if s.terms & side and not s.terms & other] for side, other in (sides, sides[::-1])]
    turns = [s for pair in zip(*only) for s in pair] + only[0][len(only[1]):] + only[1][len(only[0]):]
    rest = [s for s in sentences if all(s is not t for t in both + turns)]
    return both + turns + rest


def _same_unit(s: Sentence, top: tuple | None) -> bool:
    return top is not None and (s.source, s.unit) == (top[2].source, top[2].unit)


def read_sources(prompt: Prompt) -> tuple[str, list[Sentence], set[str], set[str]] | None:
    """The analyzer, the sources' sentences, the question's terms and the parent stem's other
    terms; None when there is nothing to match."""
    if not prompt.sources:
        return None
    analyzer = analyzer_name()
    sentences = _sentences(prompt, analyzer)
    wanted = set(question_terms(analyzer, prompt.question))
    context_terms = set(question_terms(analyzer, prompt.context)) - wanted if prompt.context else set()
    if not sentences or not wanted:
        return None
    if language_of(words(prompt.question)) != "en":
        _align_inflections(sentences, wanted | context_terms)
    return analyzer, sentences, wanted, context_terms


def extractive_reply(prompt: Prompt) -> dict[str, Any] | None:
    """A reply from the sources' sentences, or None when no sentence bears on the question."""
    read = read_sources(prompt)
    if read is None:
        return None
    analyzer, sentences, wanted, context_terms = read
    # A term's weight: how rare it is among these sentences, times how specific its word is in
    # general language (function words such as Hindi "की" weigh little however rare here).
    specificity = term_weights(analyzer, f"{prompt.question}\n{prompt.context}")
    idf = sentence_idf(sentences, wanted | context_terms)
    weights = {t: w * specificity.get(t, 3.0) / 3.0 for t, w in idf.items()}

    def score_of(s: Sentence, terms: set[str], question: str) -> float:
        matched = s.terms & terms
        score = sum(weights[t] for t in matched) + 0.4 * sum(weights[t] for t in s.terms & context_terms)
        if matched:
            score += _definition_bonus(question, s.text)
            score += 0.5 * sum(weights[t] for t in s.heading_terms & terms)  # the nearest heading, in the chunk too
        if "`" in s.text or _NARRATIVE.search(s.text):
            score *= 0.5  # code-laden or narrating ("let's simulate ..."): rarely the answer itself
        return score - 0.15 * s.source - 0.02 * s.position

    score = {id(s): score_of(s, wanted, prompt.question) for s in sentences}
    scored = [(score[id(s)], len(s.terms & wanted), s) for s in sentences]
    # The notes must name what the question is about: its most specific term occurs in the
    # sources ("DFS" in a question, notes only on Dijkstra's algorithm: not covered). Then
    # only sentences about that subject may be shown; sharing other words with the question
    # ("algorithm", "step") does not make a sentence about it.
    specific = {t: w for t, w in term_weights(analyzer, prompt.question).items() if t in wanted}
    key = subject_key(prompt.question, specific, analyzer)
    if key is not None and not any(key in s.terms or key in s.heading_terms for s in sentences):
        return None
    about = {id(sentences[i]) for i in about_subject(sentences, specific, key)}
    # A paragraph keeps to one subject: the rest of the paragraph of the best sentence about
    # it is about it too ("Women have XX, men XY ..." after "... the sex chromosomes decide").
    top = max((item for item in scored if id(item[2]) in about and item[1]), key=lambda item: item[0], default=None)
    if top is not None:
        about |= {id(s) for s in sentences if (s.source, s.unit) == (top[2].source, top[2].unit)}
    scored = [item for item in scored if id(item[2]) in about and (item[1] or _same_unit(item[2], top))]
    if not scored:
        return None
    scored.sort(key=lambda item: -item[0])
    best_score, best_matched, _ = scored[0]
    count = _how_many(prompt.marks)
    # A sentence holding the key term is on the subject however few other question words it
    # shares ("TCP is reliable ..." for "Differentiate between TCP and UDP"); others must
    # score near the best.
    eligible = [s for score, matched, s in scored if matched and s.source < 3
                and (score >= 0.35 * best_score or (key in s.terms and score >= KEY_SHARE * best_score))]
    # A question that asks two things ("What is a p-value? State the rule for rejecting ...")
    # gets the best sentence for each ask first, then the best of the rest.
    picks: list[Sentence] = []
    asks = [a for a in _ASK_END.split(prompt.question) if a.strip()]
    for ask in asks if len(asks) > 1 else []:
        ask_terms = set(question_terms(analyzer, ask)) & wanted
        candidates = [s for s in eligible if s.terms & ask_terms and s not in picks]
        if ask_terms and candidates:
            picks.append(max(candidates, key=lambda s: score_of(s, ask_terms, ask)))
    facets = asked_facets(prompt.question)
    # About the subject (by its own words or its heading), best first.
    about_sentences = sorted((s for s in sentences if id(s) in about), key=lambda s: -score[id(s)])
    # A sentence gives a facet if it names it, or its heading does ("Uses" over a list of uses).
    giving = {f: [s for s in about_sentences if gives_facet(f"{s.heading}\n{s.text}", f) and not _NARRATIVE.search(s.text)]
              for f in facets}
    if facets and not any(giving.values()) and all(asked_facets(ask) for ask in asks):
        return None  # all it asks for is stages, types, an example ... and the notes give none about it
    for facet in facets:
        if giving[facet] and not any(s in giving[facet] for s in picks):
            picks.append(giving[facet][0])
    # Then the other sentences giving an asked facet ("three applications"), then the best of the rest.
    ordered = picks + [s for f in facets for s in giving[f]] + _balanced(eligible, compared_sides(prompt.question, analyzer))
    chosen = [s for i, s in enumerate(ordered) if all(s is not t for t in ordered[:i])][:max(count, len(picks))]
    if len(chosen) < count:  # the marks ask for more: the next sentences about the subject
        chosen += [s for _, _, s in scored if s not in chosen and s.source < 3][:count - len(chosen)]
    # A chosen sentence that refers back ("This is electromagnetic induction.") comes with the
    # sentence it refers to, and one that is continued ("Outer planets: Jupiter, ... They are
    # the gas giants ...") with its continuation.
    by_position = {(s.source, s.position): s for s in sentences}
    continued = {(s.source, s.follows): s for s in sentences if s.follows is not None and _REFERS_BACK.match(s.text)}
    for s in list(chosen):
        before = by_position.get((s.source, s.follows)) if s.follows is not None else None
        after = continued.get((s.source, s.position))
        for other in (before if before is not None and _REFERS_BACK.match(s.text) else None, after):
            if other is not None and all(other is not t for t in chosen):
                chosen.append(other)
    chosen.sort(key=lambda s: (s.source, s.position))
    used = list(dict.fromkeys(s.source for s in chosen))
    tag = {i: prompt.sources[i].tag for i in used}
    if count >= 4 or any(s.table for s in chosen):
        # A table stands in its own paragraphs: a blank line before it (else it continues the
        # list item above) and its tag below it (else the tag reads as one more row).
        lines = [f"\n{s.shown}\n\n[{tag[s.source]}]\n" if s.table else f"- {quote_of(s.shown)} [{tag[s.source]}]"
                 for s in chosen]
        answer = "From the course notes:\n\n" + "\n".join(lines).strip()
    else:
        answer = " ".join(" ".join(s.shown for s in chosen if s.source == i) + f" [{tag[i]}]" for i in used)
    citations = [{"source": tag[i], "quote": quote_of(next(s.text for s in chosen if s.source == i))} for i in used]
    return {"status": "answered", "answer": answer, "choice": None, "citations": citations, "chart": None,
            "notes": [OFFLINE_NOTE]}

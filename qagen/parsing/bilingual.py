"""Papers printed in two languages: keep each question once, the other version as a translation.

Text in legacy-encoded Indic fonts is dropped by the PDF reader and counted in
`Line.foreign`; real Devanagari (or any non-Latin script) counts as foreign here too. Two
layouts are recognised, by rules a person can check on the page:

- **Numbered twice.** A question whose opening is mostly foreign is dropped when a nearby
  question of the same numbering style and number is mostly Latin. This covers each
  question printed twice in turn, a page in one language followed by its page in the
  other, and the whole paper printed again in the other language. The dropped version's
  text, when readable, becomes the kept question's translation.
- **Numbered once, other language first.** A question whose opening is mostly foreign and
  which later starts a sentence in Latin script ("Solve the ...") begins at that sentence;
  the lines before it are the other language's version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qagen.documents.lines import Line
from qagen.model import Translation
from qagen.parsing.languages import language_of, other_script_letters
from qagen.parsing.numbering import Candidate

# A nearby twin is looked for this many candidates of the same style either way: enough
# for a whole paper printed again after the first copy.
TWIN_REACH = 60
FOREIGN_OPENING = 0.12  # an opening this foreign may be the other language's version ...
LATIN_TWIN = 0.4  # ... when its twin is less than 0.4 times as foreign
_WORD = re.compile(r"[A-Za-z]{3,}")
_LATIN_SENTENCE = re.compile(r"^[A-Z][a-z]+\b")  # "Find", "If", "Using": a capitalised word
_OR_LINE = re.compile(r"^\(?\s*(?:OR|Or|or)\s*\)?$")


@dataclass
class Versions:
    """What the language rules found: candidates kept, lines of other-language versions,
    translations by the kept candidate's line index, and counts for the parse's warnings."""

    cands: list[Candidate]
    skipped: set[int] = field(default_factory=set)
    translations: dict[int, list[Translation]] = field(default_factory=dict)
    twins_dropped: int = 0
    unreadable: int = 0  # dropped versions in a font the reader cannot decode
    languages: set[str] = field(default_factory=set)


def foreign_ratio(lines: list[Line]) -> float:
    foreign = sum(line.foreign for line in lines)
    other = latin = 0
    for line in lines:
        for ch in line.text:
            if ch.isalpha():
                if ord(ch) < 0x250:
                    latin += 1
                else:
                    other += 1
    total = foreign + other + latin
    return (foreign + other) / total if total else 0.0


def _opening(lines: list[Line], start: int, end: int, letters: int = 80) -> list[Line]:
    """The first lines of a block, enough to hold `letters` letters (its stem's language)."""
    out: list[Line] = []
    count = 0
    for line in lines[start:end]:
        out.append(line)
        count += line.foreign + sum(ch.isalpha() for ch in line.text)
        if count >= letters:
            break
    return out


def translation_of(texts: list[str], foreign: int) -> Translation | None:
    """The other-language text as a translation, when it is readable (real letters of
    another script rather than a legacy font the reader dropped)."""
    text = "\n".join(t for t in texts if t.strip()).strip()
    other = other_script_letters(text)
    if other < 3 or foreign > other:
        return None
    return Translation(language=language_of(text), text=text)


def drop_foreign_twins(cands: list[Candidate], lines: list[Line]) -> Versions:
    """Bilingual papers print each question twice; keep the version in Latin script."""
    by_style: dict[str, list[Candidate]] = {}
    for cand in cands:
        by_style.setdefault(cand.style, []).append(cand)
    found = Versions(cands)
    dropped: set[int] = set()
    for group in by_style.values():
        ends = [c.index for c in group[1:]] + [len(lines)]
        ratios = [foreign_ratio(_opening(lines, c.index, end)) for c, end in zip(group, ends)]
        for i, cand in enumerate(group):
            if ratios[i] < FOREIGN_OPENING:
                continue
            for j in range(max(0, i - TWIN_REACH), min(len(group), i + TWIN_REACH)):
                other = group[j]
                if j == i or other.value != cand.value or ratios[j] >= LATIN_TWIN * ratios[i]:
                    continue
                dropped.add(id(cand))
                page = lines[cand.index].page
                version = [k for k in range(cand.index, ends[i])
                           if lines[k].page == page or lines[k].foreign or len(lines[k].text.split()) < 4]
                found.skipped.update(version)
                texts = [cand.rest] + [lines[k].text for k in version if k != cand.index]
                record_version(found, other.index, texts, sum(lines[k].foreign for k in version))
                break
    found.cands = [c for c in cands if id(c) not in dropped]
    found.twins_dropped = len(dropped)
    return found


def record_version(found: Versions, kept_index: int, texts: list[str], foreign: int) -> None:
    """The other language's version of the question at `kept_index`: its translation, or a
    count of the unreadable (legacy-font) versions."""
    translation = translation_of(texts, foreign)
    if translation is None:
        found.unreadable += 1
        return
    found.languages.add(translation.language)
    found.translations.setdefault(kept_index, []).append(translation)


def leading_version(lines: list[Line], start: int, end: int) -> int | None:
    """Where the Latin version of a question begins, when the other language comes first.

    The Latin version's first line is the first line of the question, before any OR, that
    begins with a capitalised Latin word, holds at least 4 letters of Latin words and
    nothing foreign. The lines before it must be mostly foreign: more foreign letters than
    letters in Latin words (formulas the other version quotes are letters, not words).
    Returns that line's index.
    """
    for k in range(start + 1, end):
        line = lines[k]
        text = line.text.strip()
        if _OR_LINE.match(text):
            return None  # the question's alternative begins: its first version had no Latin text
        if line.foreign or other_script_letters(text) or not _LATIN_SENTENCE.match(text):
            continue
        if sum(len(w) for w in _WORD.findall(text)) < 4:
            continue
        before = lines[start:k]
        foreign = sum(line.foreign + other_script_letters(line.text) for line in before)
        # Formulas quoted in the other version ("a = i + j - 2k") are Latin letters, not words.
        words = sum(len(w) for line in before for w in _WORD.findall(line.text))
        return k if foreign >= 10 and foreign >= words else None
    return None

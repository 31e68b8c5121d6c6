"""A model's second look at the parsed structure: the reply's schema, its corrections, and the
rules for applying them.

Pure functions; the prompt and the model call are `qagen.llm.parse_check`. The model sees the
page text and the parser's questions and may propose corrections (`KINDS`), each naming a
question by its position in the list it was sent and the number listed there:
- merge: the question joins the one before it (its text follows that one's, after its number);
- split: the question's text is cut where the second question begins (`split_at`, a piece of
  its text, or `split_offset`, a character offset); the second gets `second_number`, and the
  first `new_number` when given; parts, options, alternatives, translations and the answer
  key, printed after the text, go with the second, and so do the marks; a printed number at
  the start of the second's text that is `second_number` ("4.") becomes its number;
- renumber: the question gets `new_number`;
- not_a_question: the item leaves the questions; its text, with its number, goes to the end
  of its section's instructions (or the paper's), so no text is lost.

A reply is applied whole or not at all: a model that misreads one question has misread the
paper, so the rest of its reply is not trusted either. It is ignored (one warning says why)
when it is malformed (not JSON, not the schema, a position or number the parser did not list,
a split point not in the text, a question named twice) or when its result is inconsistent:
more numbering problems than the parser's (`checks.numbering_warnings`), a word of the
questions lost or out of order, a question left without text, a merge across a section or a
paper, or a question count outside 1..MAX_QUESTIONS. Each applied correction adds a warning
naming it, and the confidence is then at most "medium": a person should look.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, replace

from qagen.model import Paper, Part, Question
from qagen.parsing import MAX_QUESTIONS
from qagen.parsing.checks import Findings, check, number_value, numbering_warnings

KINDS = ("merge", "split", "renumber", "not_a_question")
MAX_CORRECTIONS = 100  # a longer list is not a correction of a parse but a rewrite
_MAX_NUMBER_CHARS = 20  # "Question 12", "Zadatak 2", "A.1": numbers are short


class Rejected(ValueError):
    """A reply that cannot be applied; the message says why, for a person."""


@dataclass(frozen=True)
class Correction:
    kind: str
    index: int  # 1-based position in the list sent to the model
    number: str  # the number listed at that position
    new_number: str | None = None
    second_number: str | None = None
    split_at: str | None = None
    split_offset: int | None = None


def reply_schema() -> dict:
    """The reply's JSON schema, in the strict form OpenAI-compatible servers enforce."""
    nullable_text = {"type": ["string", "null"]}
    correction = {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "index": {"type": "integer"},
            "number": {"type": "string"},
            "new_number": nullable_text,
            "second_number": nullable_text,
            "split_at": nullable_text,
            "split_offset": {"type": ["integer", "null"]},
            "reason": {"type": "string"},
        },
        "required": ["kind", "index", "number", "new_number", "second_number", "split_at", "split_offset", "reason"],
        "additionalProperties": False,
    }
    return {"type": "object", "properties": {"corrections": {"type": "array", "items": correction}},
            "required": ["corrections"], "additionalProperties": False}


def response_format() -> dict:
    return {"type": "json_schema", "json_schema": {"name": "parse_corrections", "strict": True,
                                                   "schema": reply_schema()}}


# --- reading the reply -------------------------------------------------------------------


def parse_corrections(reply: str, paper: Paper) -> list[Correction]:
    """The corrections a reply proposes, checked against the paper; raises `Rejected`."""
    body = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", reply)  # a model that fenced its JSON anyway
    try:
        data = json.loads(body)
    except ValueError:
        raise Rejected("the reply was not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("corrections"), list):
        raise Rejected('the reply did not follow the schema (no "corrections" list)')
    if len(data["corrections"]) > MAX_CORRECTIONS:
        raise Rejected(f"the reply proposed {len(data['corrections'])} corrections, more than {MAX_CORRECTIONS}")
    corrections = [_correction(item, paper) for item in data["corrections"]]
    named = Counter(c.index for c in corrections)
    twice = [paper.questions[i - 1].number for i, n in sorted(named.items()) if n > 1]
    if twice:
        raise Rejected(f"the reply named question {twice[0]} in more than one correction")
    return sorted(corrections, key=lambda c: c.index)


def _correction(item: object, paper: Paper) -> Correction:
    if not isinstance(item, dict) or item.get("kind") not in KINDS:
        raise Rejected("the reply did not follow the schema (a correction of no known kind)")
    kind, index, number = item["kind"], item.get("index"), item.get("number")
    if type(index) is not int or not isinstance(number, str):
        raise Rejected(f"the reply did not follow the schema (a {kind} without a question's index and number)")
    fields = {name: item.get(name) for name in ("new_number", "second_number", "split_at")}
    if any(value is not None and not isinstance(value, str) for value in fields.values()):
        raise Rejected(f"the reply did not follow the schema (a {kind} with a number that is not text)")
    offset = item.get("split_offset")
    if offset is not None and type(offset) is not int:
        raise Rejected(f"the reply did not follow the schema (a {kind} with an offset that is not a whole number)")
    shown = " ".join(number.split())[:_MAX_NUMBER_CHARS]  # the model's words in a warning: short, one line
    if not 1 <= index <= len(paper.questions):
        raise Rejected(f"the reply named question {shown} at position {index}, but the parser listed "
                       f"{len(paper.questions)} question{'s' if len(paper.questions) != 1 else ''}")
    question = paper.questions[index - 1]
    if " ".join(number.split()) != " ".join(question.number.split()):
        raise Rejected(f"the reply named question {shown} at position {index}, where the parser found "
                       f"question {question.number}")
    correction = Correction(kind, index, question.number, _number(fields["new_number"]),
                            _number(fields["second_number"]), fields["split_at"], offset)
    _check_kind(correction, question)
    return correction


def _number(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split()).rstrip(".:)")
    if not value or len(value) > _MAX_NUMBER_CHARS:
        raise Rejected(f"the reply gave a question number that cannot be one ({value[:30]!r})")
    return value


def _check_kind(c: Correction, question: Question) -> None:
    if c.kind == "merge" and c.index == 1:
        raise Rejected(f"the reply merged question {c.number}, the first, into a question before it")
    if c.kind == "renumber" and c.new_number is None:
        raise Rejected(f"the reply renumbered question {c.number} without a new number")
    for given in (c.new_number, c.second_number):
        if given is not None and number_value(question) is not None and number_value(replace(question, number=given)) is None:
            raise Rejected(f"the reply numbered a question {given!r}, which does not end in a number as "
                           f"question {c.number} does")
    if c.kind != "split":
        return
    if c.second_number is None:
        raise Rejected(f"the reply split question {c.number} without the second question's number")
    if (c.split_at is None) == (c.split_offset is None):
        raise Rejected(f"the reply split question {c.number} without one split point (split_at or split_offset)")
    if c.split_at is not None and split_point(question.text, c.split_at) is None:
        raise Rejected(f"the reply split question {c.number} at text that is not in it")
    if c.split_offset is not None and not 0 < c.split_offset < len(question.text):
        raise Rejected(f"the reply split question {c.number} at offset {c.split_offset}, outside its text "
                       f"({len(question.text)} characters)")


# --- applying it -------------------------------------------------------------------------


def apply_reply(paper: Paper, reply: str) -> tuple[Paper, list[str], list[str]]:
    """(the paper to keep, the applied corrections' warnings, the reasons the reply was ignored).

    The paper kept carries the warnings: one per applied correction, or one saying why the
    model's corrections were ignored."""
    try:
        corrections = parse_corrections(reply, paper)
    except Rejected as exc:
        return _ignored(paper, str(exc))
    return apply_corrections(paper, corrections)


def apply_corrections(paper: Paper, corrections: list[Correction]) -> tuple[Paper, list[str], list[str]]:
    """Apply all `corrections` (checked by `parse_corrections`) when the result is consistent."""
    if not corrections:
        return paper, [], []
    try:
        result, applied = _apply(paper, corrections)
    except Rejected as exc:
        return _ignored(paper, str(exc))
    derived = set(check(paper, Findings())[0])
    recomputed, confidence = check(result, Findings())
    result.warnings = [*recomputed, *(w for w in paper.warnings if w not in derived), *applied]
    result.confidence = "low" if confidence == "low" else "medium"
    return result, applied, []


def _ignored(paper: Paper, reason: str) -> tuple[Paper, list[str], list[str]]:
    warning = f"The model's corrections to the questions were ignored ({reason}): the questions are as the parser found them."
    return replace(paper, warnings=[*paper.warnings, warning]), [], [reason]


@dataclass
class _Item:
    question: Question
    origin: int  # index of the parser's question it comes from
    label: list[str]  # words of a printed number a split took off the text (they count as text)


def _apply(paper: Paper, corrections: list[Correction]) -> tuple[Paper, list[str]]:
    result = copy.deepcopy(paper)
    items = [_Item(q, k, []) for k, q in enumerate(result.questions)]
    dropped: dict[int, Question] = {}  # origin -> the question that left the list
    applied: list[str] = []
    for c in corrections:
        target = result.questions[c.index - 1]
        pos = next(k for k, item in enumerate(items) if item.question is target)
        if c.kind == "renumber":
            applied.append(f"The model renumbered question {target.number} as {c.new_number}: check it on the "
                           "printed paper.")
            target.number = c.new_number or target.number
        elif c.kind == "merge":
            applied.append(_merge(items, pos, paper))
        elif c.kind == "split":
            applied.append(_split(items, pos, c))
        else:
            item = items.pop(pos)
            applied.append(_move_to_instructions(result, item.question))
            dropped[item.origin] = item.question
    result.questions = [item.question for item in items]
    _recount_papers(result, items)
    _check_consistent(paper, result, items, dropped)
    return result, applied


def _merge(items: list[_Item], pos: int, paper: Paper) -> str:
    if pos == 0:
        raise Rejected(f"the reply merged question {items[0].question.number} into a question before it, "
                       "but none is left")
    before, item = items[pos - 1], items[pos]
    q, into = item.question, before.question
    if _paper_of(paper, before.origin) != _paper_of(paper, item.origin) or into.section != q.section:
        raise Rejected(f"the reply merged question {q.number} into question {into.number}, across a "
                       f"{'section' if into.section != q.section else 'paper'}")
    text = f"{q.number}. {q.text}".strip()
    holder: Question | Part = into
    if not (into.options or into.alternatives or into.translations or into.given_answer):
        while holder.parts and not holder.options:
            holder = holder.parts[-1]  # the text printed last, where the merged text follows
    holder.text = f"{holder.text}\n{text}".strip()
    into.parts += q.parts
    into.options += q.options
    into.alternatives += q.alternatives
    into.translations += q.translations
    if q.given_answer:
        into.given_answer = f"{into.given_answer}\n{q.given_answer}" if into.given_answer else q.given_answer
    if q.marks is not None:
        into.marks = q.marks + (into.marks or 0)  # the paper's total stays what the parser found
    items.pop(pos)
    return f"The model merged question {q.number} into question {into.number}: check it on the printed paper."


def _split(items: list[_Item], pos: int, c: Correction) -> str:
    item = items[pos]
    q = item.question
    cut = split_point(q.text, c.split_at) if c.split_at is not None else c.split_offset
    cut = cut or 0
    head, tail = q.text[:cut].strip(), q.text[cut:].strip()
    second_number = c.second_number or ""
    label = _label(tail, second_number, at_end=False)
    tail = tail[len(label):].strip()
    if not label:  # the split point was after the printed number: it ends the first's text
        label = _label(head, second_number, at_end=True)
        head = head[:len(head) - len(label)].strip()
    second = Question(number=second_number, text=tail, marks=q.marks, section=q.section, parts=q.parts,
                      options=q.options, alternatives=q.alternatives, translations=q.translations,
                      given_answer=q.given_answer)
    old_number = q.number
    q.number, q.text, q.marks = c.new_number or q.number, head, None
    q.parts, q.options, q.alternatives, q.translations, q.given_answer = [], [], [], [], None
    items.insert(pos + 1, _Item(second, item.origin, _words(label)))
    return (f"The model split question {old_number} into questions {q.number} and {second.number}: check them "
            "on the printed paper.")


def split_point(text: str, piece: str) -> int | None:
    """Where `piece` first occurs in `text`, spaces and line breaks counting as one another."""
    words = piece.split()
    match = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
    return match.start() if match else None


def _label(text: str, number: str, *, at_end: bool) -> str:
    """The printed `number` ("4.", "Q. 4", "Question 4:") at the start (or end) of `text`, else "".

    A bare "4" is content ("4 apples"), and so is one after a word ("y = 4."): at the end, a
    label follows the end of a sentence."""
    for n in (1, 2, 3):
        words = rf"\S+(?:\s+\S+){{{n - 1}}}"
        match = re.search(r"(?:^|(?<=\s))" + words + r"$", text) if at_end else re.match(words, text)
        if not match or _core(match.group(0)) != _core(number) or not _core(number) or match.group(0).isdigit():
            continue
        if at_end and not re.search(r"(?:^|[.?!:;)\]]\s*)$", text[:match.start()]):
            continue
        return match.group(0)
    return ""


def _move_to_instructions(paper: Paper, question: Question) -> str:
    text = "\n".join(line for line in (f"{question.number}. {question.text}".strip(), *_reading(question)) if line)
    section = next((s for s in paper.sections if s.name == question.section), None)
    holder = section if section is not None else paper
    holder.instructions = f"{holder.instructions}\n{text}".strip()
    where = f"the instructions of {section.name}" if section is not None else "the paper's instructions"
    return (f"The model found that question {question.number} is not a question; its text is kept with {where}: "
            "check it on the printed paper.")


def _reading(item: Question | Part) -> list[str]:
    """What follows an item's own text, in print order: parts, options, OR versions, translations, key."""
    lines: list[str] = []
    for part in item.parts:
        lines += [f"({part.label}) {part.text}".strip(), *_reading(part)]
    lines += [f"({o.label}) {o.text}" for o in item.options]
    if isinstance(item, Question):
        for alternative in item.alternatives:
            lines += [f"OR {alternative.text}".strip(), *_reading(alternative)]
        lines += [t.text for t in item.translations]
        lines += [item.given_answer] if item.given_answer else []
    return lines


def _paper_of(paper: Paper, index: int) -> int:
    return next((k for k, p in enumerate(paper.papers) if p.first <= index < p.first + p.count), -1)


def _recount_papers(result: Paper, items: list[_Item]) -> None:
    papers = []
    for p in result.papers:
        mine = [k for k, item in enumerate(items) if p.first <= item.origin < p.first + p.count]
        if not mine:
            raise Rejected(f"the reply left the paper {p.title or 'in the file'} without questions")
        papers.append(replace(p, first=mine[0], count=len(mine)))
    result.papers = papers


def _check_consistent(before: Paper, after: Paper, items: list[_Item], dropped: dict[int, Question]) -> None:
    if not 1 <= len(after.questions) <= MAX_QUESTIONS:
        raise Rejected(f"the result would have {len(after.questions)} questions")
    empty = [item.question.number for item in items if not _words_of(item.question)]
    if len(empty) > sum(not _words_of(q) for q in before.questions):
        raise Rejected(f"the result would leave question {empty[0]} without text")
    if len(numbering_warnings(after)) > len(numbering_warnings(before)):
        raise Rejected("the result's numbering would jump or go back where the parser's does not")
    kept = [w for k, q in enumerate(before.questions) if k not in dropped for w in _words_of(q)]
    now = [w for item in items for w in [*item.label, *_words_of(item.question)]]
    lost = _first_missing(kept, now)
    if lost is None:
        moved = [w for q in dropped.values() for w in _words_of(q)]
        kept_apart = _words("\n".join([after.instructions, *(s.instructions for s in after.sections)]))
        lost = next(iter(Counter(moved) - Counter(kept_apart)), None)
    if lost is not None:
        raise Rejected(f"the result would lose text or change its order (the word {lost!r})")


def _words_of(item: Question | Part) -> list[str]:
    return _words("\n".join([item.text, *_reading(item)]))


def _words(text: str) -> list[str]:
    return [core for word in text.split() if (core := _core(word))]


def _core(word: str) -> str:
    return re.sub(r"\W+", "", word.lower())


def _first_missing(words: list[str], within: list[str]) -> str | None:
    """The first of `words` that `within` does not hold in the same order, or None."""
    k = 0
    for word in words:
        while k < len(within) and within[k] != word:
            k += 1
        if k == len(within):
            return word
        k += 1
    return None

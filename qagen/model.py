"""The domain model: a question paper, its questions and their answers.

This is the contract between the pipeline stages, the PDF, the CLI's JSON and the
API's result: parse produces a `Paper`, answer fills in `answer` on every question
and part, render turns it into a PDF. Plain dataclasses with `to_dict`/`from_dict`
so the same structure travels through JSON unchanged (docs/schema.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Citation:
    """Where an answer's claim comes from: a document, its page, the quoted text."""

    document: str
    page: int | None
    excerpt: str


@dataclass
class Answer:
    """A structured answer; `chart` is an optional chart spec for charts/.

    `status` says whether the item was answered (ANSWER_STATUSES): "answered"; "not_in_notes"
    (the course notes searched do not cover it, so no answer is given); "needs_model" (the
    offline engine does not write proofs, designs, diagrams or opinions); "unanswerable" (the
    question lacks what it needs, e.g. a figure or data); "failed" (the model did not respond
    or a computation could not be completed). When it is not "answered", `text` says why.
    """

    text: str
    citations: list[Citation] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    status: str = "answered"

    @property
    def answered(self) -> bool:
        return self.status == "answered"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(
            text=data.get("text", ""),
            citations=[Citation(**c) for c in data.get("citations") or []],
            chart=data.get("chart"),
            notes=list(data.get("notes") or []),
            status=data.get("status") if data.get("status") in ANSWER_STATUSES else "answered",
        )


ANSWER_STATUSES = ("answered", "not_in_notes", "needs_model", "unanswerable", "failed")


@dataclass
class Option:
    """One listed choice of a multiple-choice item."""

    label: str
    text: str


@dataclass
class Part:
    """A sub-part such as (a) or (ii); parts nest."""

    label: str
    text: str
    marks: float | None = None
    parts: list[Part] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    answer: Answer | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Part:
        return cls(
            label=data["label"],
            text=data.get("text", ""),
            marks=data.get("marks"),
            parts=[Part.from_dict(p) for p in data.get("parts") or []],
            options=[Option(**o) for o in data.get("options") or []],
            answer=Answer.from_dict(data["answer"]) if data.get("answer") else None,
        )


@dataclass
class Translation:
    """The same question printed in another language; `language` is a name ("Hindi") or ""."""

    language: str
    text: str


@dataclass
class Question:
    """One top-level printed question; `alternatives` holds its un-numbered 'OR' choices.

    `translations` are other-language versions of the question the paper also prints;
    `given_answer` is the worked answer, solution or marking scheme the paper itself prints
    after the question (an answer key), verbatim.
    """

    number: str
    text: str
    marks: float | None = None
    section: str | None = None
    parts: list[Part] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    alternatives: list[Question] = field(default_factory=list)
    answer: Answer | None = None
    translations: list[Translation] = field(default_factory=list)
    given_answer: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        return cls(
            number=str(data["number"]),
            text=data.get("text", ""),
            marks=data.get("marks"),
            section=data.get("section"),
            parts=[Part.from_dict(p) for p in data.get("parts") or []],
            options=[Option(**o) for o in data.get("options") or []],
            alternatives=[Question.from_dict(a) for a in data.get("alternatives") or []],
            answer=Answer.from_dict(data["answer"]) if data.get("answer") else None,
            translations=[Translation(**t) for t in data.get("translations") or []],
            given_answer=data.get("given_answer"),
        )


@dataclass
class Section:
    """A heading that groups questions (Section A, Part I), with its own instructions."""

    name: str
    instructions: str = ""
    marks: float | None = None


@dataclass
class PaperInFile:
    """One of several papers printed in one file: `questions[first:first + count]` of the Paper."""

    title: str
    first: int
    count: int
    total_marks: float | None = None


CONFIDENCE_LEVELS = ("high", "medium", "low")


@dataclass
class Paper:
    """A parsed question paper.

    `warnings` are what a person should check ("numbering jumps from 7 to 9"); `confidence`
    ("high", "medium", "low") summarises the parser's consistency checks. `papers` lists the
    papers when one file holds several; `questions` is always all of them, in print order.
    """

    title: str
    questions: list[Question]
    instructions: str = ""
    total_marks: float | None = None
    sections: list[Section] = field(default_factory=list)
    papers: list[PaperInFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    confidence: str = "high"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Paper:
        return cls(
            title=data.get("title", ""),
            questions=[Question.from_dict(q) for q in data.get("questions") or []],
            instructions=data.get("instructions", ""),
            total_marks=data.get("total_marks"),
            sections=[Section(**s) for s in data.get("sections") or []],
            papers=[PaperInFile(**p) for p in data.get("papers") or []],
            warnings=[str(w) for w in data.get("warnings") or []],
            confidence=data.get("confidence") or "high",
        )


def answerable_items(paper: Paper) -> list[Question | Part]:
    """Every item that gets its own answer: a question without parts, or its leaf parts.

    Alternatives are answered too, so a student who picks either choice is covered.
    """
    items: list[Question | Part] = []

    def walk(item: Question | Part) -> None:
        if item.parts:
            for part in item.parts:
                walk(part)
        else:
            items.append(item)

    for question in paper.questions:
        walk(question)
        for alternative in question.alternatives:
            walk(alternative)
    return items

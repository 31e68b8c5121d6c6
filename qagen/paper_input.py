"""A paper a person edited (a review's PUT, `qagen answer --paper`): checked, then a `Paper`.

    from qagen.paper_input import read_paper, PaperInvalid
    paper = read_paper(json.loads(text))          # -> qagen.model.Paper, or PaperInvalid

The shape is docs/schema.md's, field for field; nothing else is accepted, so a misspelt
field is an error rather than silently dropped. The limits are those of parsing, so an
edited paper costs no more to answer than an uploaded one could: at most
`qagen.parsing.MAX_QUESTIONS` questions, a text field no longer than a line may be
(`qagen.documents.MAX_LINE_CHARS`), all text no longer than the most a paper of
`max_pages` pages may hold. Text may not carry control characters other than newline,
carriage return and tab: they break the PDF and mean the text was not typed by a person.

The models are pydantic (in the base install, so the client and the CLI check a file
before sending it); `paper_json_schema()` is their JSON Schema, published in the API's
OpenAPI document. Plain data in, plain data out; no I/O.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from qagen.documents import MAX_LINE_CHARS, MAX_TEXT_CHARS_PER_PAGE
from qagen.errors import InputError
from qagen.model import CONFIDENCE_LEVELS, Paper
from qagen.parsing import MAX_QUESTIONS

MAX_FIELD_CHARS = MAX_LINE_CHARS  # one text field holds no more than one line of a paper may
MAX_LABEL_CHARS = 40  # a question number or part label ("Question 12", "Part B", "OR b")
MAX_NAME_CHARS = 500  # a section's heading, a language's name
MAX_CHILDREN = 100  # parts or options under one item
MAX_ALTERNATIVES = 10
MAX_TRANSLATIONS = 10
MAX_SECTIONS = 100
MAX_PAPERS = 50
MAX_WARNINGS = 200
MAX_DEPTH = 6  # parts within parts: (a) > (i) > A. > ... far past any printed paper
MAX_MARKS = 10_000.0

# Newline, carriage return and tab are text; every other C0 control and DEL is not.
NO_CONTROLS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Text = Annotated[str, StringConstraints(max_length=MAX_FIELD_CHARS, pattern=NO_CONTROLS)]
Label = Annotated[str, StringConstraints(max_length=MAX_LABEL_CHARS, pattern=NO_CONTROLS)]
Name = Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS, pattern=NO_CONTROLS)]
Number = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LABEL_CHARS, pattern=NO_CONTROLS)]
Marks = Annotated[float, Field(ge=0, le=MAX_MARKS, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class OptionIn(_Strict):
    label: Label
    text: Text = ""


class PartIn(_Strict):
    label: Label
    text: Text = ""
    marks: Marks | None = None
    parts: list[PartIn] = Field(default_factory=list, max_length=MAX_CHILDREN)
    options: list[OptionIn] = Field(default_factory=list, max_length=MAX_CHILDREN)
    answer: None = Field(default=None, description="Always null: answers are written by qagen.")


class TranslationIn(_Strict):
    language: Name = ""
    text: Text = ""


class QuestionIn(_Strict):
    number: Number
    text: Text = ""
    marks: Marks | None = None
    section: Name | None = None
    parts: list[PartIn] = Field(default_factory=list, max_length=MAX_CHILDREN)
    options: list[OptionIn] = Field(default_factory=list, max_length=MAX_CHILDREN)
    alternatives: list[QuestionIn] = Field(default_factory=list, max_length=MAX_ALTERNATIVES)
    answer: None = Field(default=None, description="Always null: answers are written by qagen.")
    translations: list[TranslationIn] = Field(default_factory=list, max_length=MAX_TRANSLATIONS)
    given_answer: Text | None = None


class SectionIn(_Strict):
    name: Name
    instructions: Text = ""
    marks: Marks | None = None


class PaperInFileIn(_Strict):
    title: Name = ""
    first: Annotated[int, Field(ge=0, le=MAX_QUESTIONS)]
    count: Annotated[int, Field(ge=0, le=MAX_QUESTIONS)]
    total_marks: Marks | None = None


class PaperIn(_Strict):
    """A question paper as `GET /api/v1/sessions/{id}/paper` returns it, possibly edited."""

    title: Name = ""
    instructions: Text = ""
    total_marks: Marks | None = None
    sections: list[SectionIn] = Field(default_factory=list, max_length=MAX_SECTIONS)
    questions: list[QuestionIn] = Field(min_length=1, max_length=MAX_QUESTIONS)
    papers: list[PaperInFileIn] = Field(default_factory=list, max_length=MAX_PAPERS)
    warnings: list[Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS * 2, pattern=NO_CONTROLS)]] = Field(
        default_factory=list, max_length=MAX_WARNINGS)
    confidence: Annotated[str, Field(pattern="^(" + "|".join(CONFIDENCE_LEVELS) + ")$")] = "high"


class PaperInvalid(InputError):
    """An edited paper that breaks the schema or a limit; `problems` maps each field's path to what is wrong."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        shown = "; ".join(f"{path}: {why}" for path, why in list(problems.items())[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"The paper is not valid: {shown}{more}.")


def paper_json_schema() -> dict[str, Any]:
    """The JSON Schema an edited paper must meet (the size of all text is checked besides)."""
    return PaperIn.model_json_schema()


def read_paper(data: Any, *, max_pages: int = 60) -> Paper:
    """`data` (parsed JSON) as a `Paper`, or `PaperInvalid` naming every field that is wrong."""
    if not isinstance(data, dict):
        raise PaperInvalid({"(body)": "must be a JSON object: the paper, as GET .../paper returns it"})
    try:
        checked = PaperIn.model_validate(data)
    except ValidationError as exc:
        raise PaperInvalid(_problems(exc)) from None
    problems = _structure_problems(checked, max_pages)
    if problems:
        raise PaperInvalid(problems)
    return Paper.from_dict(checked.model_dump())


def _problems(exc: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "(body)"
        problems.setdefault(path, _say(error))
    return problems


def _say(error: dict[str, Any]) -> str:
    """A pydantic error in words a person editing the paper can act on."""
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        if error["loc"] and error["loc"][-1] == "confidence":
            return f"must be one of {', '.join(CONFIDENCE_LEVELS)}"
        return "contains a control character (only newline, carriage return and tab are allowed in text)"
    if kind == "extra_forbidden":
        return "is not a field of the paper (docs/schema.md lists them)"
    if kind == "string_too_long":
        return f"is longer than {context.get('max_length'):,} characters"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_long":
        return f"has more than {context.get('max_length'):,} entries"
    if kind == "too_short" and error["loc"] == ("questions",):
        return "must hold at least one question"
    if kind == "none_required":
        return "must be null: answers are written by qagen"
    return str(error["msg"])


def _structure_problems(paper: PaperIn, max_pages: int) -> dict[str, str]:
    """What the schema cannot say: total text, nesting depth, papers-in-file ranges."""
    problems: dict[str, str] = {}
    total = len(paper.title) + len(paper.instructions) + sum(len(s.name) + len(s.instructions) for s in paper.sections)
    for index, question in enumerate(paper.questions):
        total += _question_chars(question)
        depth = max((_depth(p) for p in question.parts), default=0)
        depth = max([depth, *(max((_depth(p) for p in a.parts), default=0) for a in question.alternatives)])
        if depth > MAX_DEPTH:
            problems[f"questions.{index}.parts"] = f"parts are nested {depth} deep; at most {MAX_DEPTH} levels"
    limit = max_pages * MAX_TEXT_CHARS_PER_PAGE
    if total > limit:
        problems["questions"] = (f"hold {total:,} characters of text; a paper of at most {max_pages} pages holds at "
                                 f"most {limit:,}")
    for index, entry in enumerate(paper.papers):
        if entry.first + entry.count > len(paper.questions):
            problems[f"papers.{index}"] = (f"questions {entry.first}..{entry.first + entry.count - 1} are past the "
                                           f"paper's {len(paper.questions)} questions")
    return problems


def _question_chars(question: QuestionIn) -> int:
    return (len(question.number) + len(question.text) + len(question.given_answer or "")
            + sum(len(o.label) + len(o.text) for o in question.options)
            + sum(len(t.text) for t in question.translations)
            + sum(_part_chars(p) for p in question.parts)
            + sum(_question_chars(a) for a in question.alternatives))


def _part_chars(part: PartIn) -> int:
    return (len(part.label) + len(part.text) + sum(len(o.label) + len(o.text) for o in part.options)
            + sum(_part_chars(p) for p in part.parts))


def _depth(part: PartIn) -> int:
    return 1 + max((_depth(p) for p in part.parts), default=0)


"""Section headings ('SECTION A', 'Part II: Short answer (6 × 5 = 30)', 'भाग - २')."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qagen.parsing.marks import product_rule

# The word for "section" or "part" in the languages papers come in (English, Hindi, and the
# European languages: German Teil/Abschnitt, French/Spanish/Italian/Portuguese Partie/Parte/
# Sección/Sezione/Seção, Dutch Deel, Croatian Dio); "Part" may also label a question's part.
_KEYWORD = (r"SECTION|Section|SEC\.?|PART|Part|UNIT|Unit|MODULE|Module|खण्ड|खंड|भाग|अनुभाग|Dio|DIO"
            r"|TEIL|Teil|ABSCHNITT|Abschnitt|PARTIE|Partie|PARTE|Parte|SECCIÓN|Sección|SEZIONE|Sezione"
            r"|SEÇÃO|Seção|DEEL|Deel")
HEADING = re.compile(
    rf"^\s*(?P<kw>{_KEYWORD})\s*(?P<sep>[-–—:.]?)\s*"
    r"(?P<label>[A-Z]{1,2}|[IVX]{1,4}|\d{1,2}|[०-९]{1,2}|[a-z]|One|Two|Three|Four|Five)?"
    r"(?=\s|$|[:.)\-–—(\[])(?P<rest>.*)$"
)
NAMED_SECTION = re.compile(r"^\s*(?P<name>[A-Z][\w&/,' -]{2,50}?)\s+(?:Section|SECTION)\s*:?\s*$")
MAX_HEADING_CHARS = 90


@dataclass
class Heading:
    index: int  # line index
    keyword: str
    label: str  # 'A', 'II', '1', or a name
    name: str  # the heading as printed (short)
    rule: tuple[int, float, float | None] | None  # n × m = t found on the heading line

    @property
    def is_part(self) -> bool:
        """'Part B' may be a sub-part of a question rather than a section."""
        return self.keyword.lower().startswith("part")

    @property
    def first_label(self) -> bool:
        return self.label in ("A", "a", "I", "1", "One", "१")


def find_headings(texts: list[str]) -> list[Heading]:
    found = []
    for index, text in enumerate(texts):
        heading = parse_heading(text, index)
        if heading:
            found.append(heading)
    return found


def parse_heading(text: str, index: int = 0) -> Heading | None:
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_HEADING_CHARS:
        return None
    match = HEADING.match(stripped)
    if match:
        rest = match.group("rest").strip()
        label = match.group("label") or ""
        keyword = match.group("kw")
        if not label:
            # 'Section : Numerical Ability' names the section instead of lettering it.
            if match.group("sep") != ":" or len(rest) < 4 or rest[:1].islower():
                return None
            label = rest.strip()
        elif rest and not re.match(r"^[:.)\-–—(\[]|^\s*$", rest):
            if len(rest) > 50 or rest[:1].islower():
                return None
        name = re.sub(r"\s{2,}.*$", "", stripped)
        name = re.sub(r"\s*[\[(][^\])]*\d\s*[x×X*]\s*\d[^\])]*[\])]\s*$", "", name)  # '(6 × 5 = 30)'
        name = name.rstrip(" :-–—") or stripped
        return Heading(index, keyword, label, name[:80], product_rule(stripped))
    match = NAMED_SECTION.match(stripped)
    if match:
        return Heading(index, "Section", match.group("name"), stripped, None)
    return None

"""From the builder's nodes to the domain model (`Question`, `Part`, `Option`)."""

from __future__ import annotations

import re

from qagen.model import Option, Part, Question
from qagen.parsing.marks import EXTRA_CREDIT, NUMBER_PATTERN, amount
from qagen.parsing.tree import Built, Node


def number_label(label: str) -> str:
    """'Q. 1.' -> 'Q. 1', '12)' -> '12', 'Zadatak 3' -> 'Zadatak 3'."""
    return re.sub(r"[\s.:)\-–]+$", "", label.strip()) or label.strip()


def bare_label(label: str) -> str:
    """'(a)' -> 'a', 'ii)' -> 'ii', 'A.' -> 'A', 'Part B' -> 'Part B' (as the model's labels)."""
    label = re.sub(r"[\s.:]+$", "", label.strip())
    match = re.fullmatch(r"\(\s*(.*?)\s*\)|(.*?)\)", label)
    if match:
        label = match.group(1) if match.group(1) is not None else match.group(2)
    return label.strip() or "?"


def part_label(node: Node) -> str:
    """The part's label; an OR alternative of the previous part is labelled 'OR b'."""
    label = bare_label(node.label or "")
    return f"OR {label}" if node.alternative else label


# 'Attempt any four', 'Answer any two of the following': a choice among the parts.
ANY_OF = re.compile(rf"\b(?:attempt|answer|solve|do|write)\s+any\s+(?P<k>{NUMBER_PATTERN})\b", re.IGNORECASE)


def node_marks(node: Node) -> float | None:
    """A node's own marks, else the sum over its parts (skipping OR alternatives and extra
    credit); None when nothing is printed. When the stem offers a choice ("attempt any
    four") among parts of equal marks, the marks are the chosen parts' only."""
    if node.marks is not None:
        return node.marks
    values = []
    for k, child in enumerate(node.children):
        if child.alternative or EXTRA_CREDIT.search(child.text[:80]):
            continue
        value = node_marks(child)
        if value is None:
            # An unmarked part takes the marks printed on its OR alternative.
            alts = [c for c in node.children[k + 1:k + 3] if c.alternative]
            value = next((node_marks(a) for a in alts if node_marks(a) is not None), None)
        values.append(value)
    known = [v for v in values if v is not None]
    if not known:
        return None
    choose = ANY_OF.search(node.text)
    pick = amount(choose.group("k")) if choose else None
    if pick and len(known) == len(values) > pick and len(set(known)) == 1:
        return pick * known[0]  # "Attempt any four" of five parts of 5 marks: 20
    return sum(known)


def to_part(node: Node) -> Part:
    return Part(
        label=part_label(node),
        text=node.text,
        marks=node_marks(node),
        parts=[to_part(child) for child in node.children],
        options=[to_option(opt) for opt in node.options],
    )


def to_option(node: Node) -> Option:
    return Option(label=bare_label(node.label or ""), text=node.text)


def to_question(label: str, built: Built, section: str | None) -> Question:
    number = number_label(label)

    def make(root: Node) -> Question:
        return Question(
            number=number,
            text=root.text,
            marks=node_marks(root),
            section=section,
            parts=[to_part(child) for child in root.children],
            options=[to_option(opt) for opt in root.options],
        )

    question = make(built.root)
    question.alternatives = [make(alt) for alt in built.alternatives]
    if question.marks is None:
        question.marks = next((a.marks for a in question.alternatives if a.marks is not None), None)
    return question

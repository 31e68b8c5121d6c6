"""Build a question's tree of sub-parts, options and OR alternatives from its pieces.

Labels must follow in sequence at their level ((a) then (b), (i) then (ii)); a label that
starts a new family at its first value ((i) inside (a)) opens a nested level. After an
'OR' line, a label equal to an earlier sibling is that sibling's alternative; the first
label again, or unlabelled text, starts an alternative version of the whole question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qagen.parsing.marks import trailing_marks
from qagen.parsing.pieces import Piece

MAX_INLINE_GAP = 60  # characters between two same-line labels without a sentence break


@dataclass
class Node:
    label: str | None = None
    family: str = ""
    style: str = ""
    value: int = 0
    texts: list[str] = field(default_factory=list)
    marks: float | None = None
    children: list[Node] = field(default_factory=list)
    options: list[Node] = field(default_factory=list)
    alternative: bool = False  # part-level OR alternative of the previous sibling
    rows: set[int] = field(default_factory=set)

    @property
    def text(self) -> str:
        return join_text(self.texts)

    def add_marks(self, value: float | None) -> None:
        if value is not None:
            self.marks = value + (self.marks or 0)


def join_text(texts: list[str]) -> str:
    """Join wrapped lines: undo end-of-line hyphenation, collapse whitespace."""
    out = ""
    for chunk in texts:
        for line in chunk.splitlines():
            line = re.sub(r"\s+", " ", line).strip()
            if not line:
                continue
            if re.search(r"[A-Za-z]-$", out) and re.match(r"[a-z]", line):
                out = out[:-1] + line
            else:
                out = f"{out} {line}" if out else line
    return out


@dataclass
class Built:
    root: Node
    alternatives: list[Node]


def build_tree(pieces: list[Piece]) -> Built:
    roots = [Node()]
    stack: list[Node] = [roots[0]]
    pending_or = False
    for k, piece in enumerate(pieces):
        if piece.is_or:
            pending_or = True
            stack[-1].add_marks(piece.row_marks)
            continue
        placed = False
        if piece.label:
            placed, stack = _place(piece, pieces, k, stack, roots, pending_or)
        if not placed:
            if pending_or and (not piece.label or piece.line_start):
                roots.append(Node())
                stack = [roots[-1]]
            text = f"{piece.label} {piece.text}" if piece.label else piece.text
            stack[-1].texts.append(text)
        pending_or = False
        stack[-1].rows.add(piece.row)
        stack[-1].add_marks(piece.row_marks)
    for root in roots:
        _finish(root)
    return Built(roots[0], roots[1:])


def _place(piece: Piece, pieces: list[Piece], k: int, stack: list[Node], roots: list[Node],
           pending_or: bool) -> tuple[bool, list[Node]]:
    # 1. After OR: an alternative of an earlier sibling, or of the whole question.
    if pending_or and piece.line_start:
        root = stack[0]
        for level in range(len(stack) - 1, 0, -1):
            node = stack[level]
            for family, value in piece.readings:
                if node.family == family and node.style == piece.style and value <= node.value:
                    parent = stack[level - 1]
                    first = parent.children[0] if parent.children else None
                    whole = level == 1 and len(parent.children) >= 2
                    if whole and first is not None and value == first.value and value == 1:
                        alt_root = Node()
                        roots.append(alt_root)
                        new = _node(piece, family, value)
                        alt_root.children.append(new)
                        return True, [alt_root, new]
                    new = _node(piece, family, value)
                    new.alternative = True
                    parent.children.append(new)
                    return True, [*stack[:level], new]
        if len(root.children) == 1 and not root.text.strip():
            only = root.children[0]
            for family, value in piece.readings:
                if only.family == family and value == only.value + 1:
                    # "A) ... OR B) ...": two versions of the question, labelled A and B.
                    root.children = only.children  # A's own (a), (b) become the question's
                    root.texts = [only.text]
                    root.add_marks(only.marks)
                    alt_root = Node(texts=[piece.text], marks=piece.marks)
                    roots.append(alt_root)
                    return True, [alt_root]
    # 2. Next in sequence at an open level (innermost first).
    for level in range(len(stack) - 1, 0, -1):
        node = stack[level]
        for family, value in piece.readings:
            if node.family == family and node.style == piece.style and value == node.value + 1:
                if not _inline_ok(piece, pieces, k, node, first=False):
                    continue
                parent = stack[level - 1]
                new = _node(piece, family, value)
                parent.children.append(new)
                return True, [*stack[:level], new]
    # 3. First value of a family: a new, nested level.
    for family, value in piece.readings:
        if value != 1:
            continue
        if any(n.family == family and n.style == piece.style for n in stack[1:]):
            continue
        if not _inline_ok(piece, pieces, k, None, first=True):
            continue
        new = _node(piece, family, value)
        stack[-1].children.append(new)
        return True, [*stack, new]
    return False, stack


def _inline_ok(piece: Piece, pieces: list[Piece], k: int, prev: Node | None, first: bool) -> bool:
    if piece.line_start:
        return True
    if first:
        # An inline "(a)" must be followed by its "(b)" to count as a label.
        return piece.boundary and any(
            p.label and any(r[1] == 2 and r[0] in {f for f, _ in piece.readings} for r in p.readings)
            for p in pieces[k + 1:k + 40]
        )
    if piece.boundary:
        return True
    before = pieces[k - 1] if k else None
    return bool(before and before.row == piece.row and len(before.text) <= MAX_INLINE_GAP)


def _node(piece: Piece, family: str, value: int) -> Node:
    node = Node(label=piece.label, family=family, style=piece.style, value=value)
    if piece.text:
        node.texts.append(piece.text)
    node.add_marks(piece.marks)
    node.rows.add(piece.row)
    return node


def _finish(node: Node) -> None:
    """Trailing marks in text, MCQ option detection, recursively."""
    if node.marks is None and node.texts:
        value, stripped = trailing_marks(node.texts[-1])
        if value is not None and (node.label is not None or len(node.text.split()) >= 3):
            node.marks = value
            node.texts[-1] = stripped
    for child in node.children:
        _finish(child)
    if node.children and _looks_like_options(node.children, bool(node.text.strip())):
        node.options, node.children = node.children, []


def _looks_like_options(children: list[Node], has_stem: bool) -> bool:
    """Choices rather than sub-parts: 2-6 short items without marks or sub-items; lettered
    (A)-(D), or several on one line. Without a stem only one- or few-word items count
    (cloze rows such as '(a) every (b) no (c) any (d) desert')."""
    items = [c for c in children if not c.alternative]
    if not 2 <= len(items) <= 6 or any(c.children or c.options for c in items):
        return False
    if any(c.marks is not None for c in items):
        return False
    words = [len(c.text.split()) for c in items]
    family = items[0].family
    shared_rows = len({r for c in items for r in c.rows}) < len(items)
    if family in ("upper",) and max(words) <= 25:
        return True
    if family == "digit" and max(words) <= 6:
        return True
    if not shared_rows:
        return False
    if has_stem:
        return max(words) <= 12
    # No stem: only cloze-style rows of single words ('(a) every (b) no'), not sentences.
    return max(words) <= 3 and not any(c.text.rstrip().endswith((".", "?")) for c in items)

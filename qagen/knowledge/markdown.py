"""Text and Markdown notes -> sections: the structure of the text a reader decoded.

ATX and setext headings start sections; fenced code is kept whole; HTML comments, bare tag
lines, image lines and d2l directives are dropped; YAML front matter's title is the root.
"""

from __future__ import annotations

import re

from qagen.knowledge.sections import Block, Section, clean_heading

# Every pattern here runs in time linear in its line: no two quantifiers may both match the
# same characters (a heading's text and its trailing blanks), because notes are uploaded by
# anyone and "# a" followed by 50,000 blanks must not cost minutes (issue 16). Where a
# pattern would need that, the line is cut with string methods instead.
# (tests/knowledge/test_linear_patterns.py feeds each pattern its worst case.)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_OPEN = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_TAG_LINE = re.compile(r"^\s*</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>\s*$")
_IMAGE_LINE = re.compile(r"^\s*!\[[^\]]*\]\([^)]*\)\s*$")
_DIRECTIVE_LINE = re.compile(r"^\s*:\w+:`[^`]*`\s*$")  # d2l-style ':label:`sec_x`'
_FRONT_MATTER_OPEN = re.compile(r"---[ \t]*\n")
_FRONT_MATTER_CLOSE = re.compile(r"\n---[ \t]*\n")


def normalise(text: str) -> str:
    """Line breaks as "\n"; a form feed (a page break in a text file) ends a paragraph."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")


def atx_heading(line: str) -> tuple[int, str] | None:
    """An ATX heading's level and text ('## Queues ##' -> (2, 'Queues')), else None."""
    opening = _ATX_OPEN.match(line)
    if not opening:
        return None
    title = line[opening.end():].strip(" \t")
    closing = title.rstrip("#")
    if closing != title and (not closing or closing[-1] in " \t"):
        title = closing.rstrip(" \t")  # a closing run of #s after a blank is not the title's
    return (len(opening.group(1)), title) if title else None


def strip_comments(text: str) -> str:
    """HTML comments removed: one pass with str.find, linear however many open and never close."""
    out: list[str] = []
    at = 0
    while True:
        start = text.find("<!--", at)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break  # an unclosed comment runs to the end: keep the text as written
        out.append(text[at:start])
        at = end + 3
    out.append(text[at:])
    return "".join(out)


def front_matter(text: str) -> tuple[str, str]:
    """YAML front matter's title ('' when none) and the text after the front matter."""
    opening = _FRONT_MATTER_OPEN.match(text)
    if not opening:
        return "", text
    closing = _FRONT_MATTER_CLOSE.search(text, opening.end() - 1)
    if not closing:
        return "", text
    title = ""
    for line in text[opening.end():closing.start()].split("\n"):
        if line.startswith("title:"):
            title = line[len("title:"):].strip().strip("'\"").strip()
            break
    return title, text[closing.end():]


def markdown_sections(text: str) -> list[Section]:
    """Sections of a text/Markdown document: ATX and setext headings start new sections."""
    root: tuple[str, ...] = ()
    title, text = front_matter(text)
    if title and not any(line.startswith(("# ", " # ", "  # ", "   # ")) for line in text.split("\n")):
        root = (clean_heading(title),)
    text = strip_comments(text)
    stack: list[tuple[int, str]] = [(0, root[0])] if root else []
    sections = [Section(page=None, path=root)]
    current: list[str] = []
    code = False
    fence = ""

    def flush() -> None:
        nonlocal current
        body = "\n".join(current).strip("\n")
        if body.strip():
            sections[-1].blocks.append(Block(body, code=code or body.lstrip().startswith(("```", "~~~"))))
        current = []

    def start(level: int, title: str, line: str) -> None:
        flush()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, clean_heading(title)))
        sections.append(Section(page=None, path=tuple(t for _, t in stack), heading_line=line.strip()))

    for line in text.split("\n"):
        if fence:
            current.append(line)
            if _FENCE.match(line) and line.strip().startswith(fence[0] * 3) and not line.strip().strip(fence[0]):
                fence = ""
                flush()
                code = False
            continue
        opening = _FENCE.match(line)
        if opening:
            flush()
            fence, code = opening.group(1), True
            current.append(line)
            continue
        atx = atx_heading(line)
        if atx:
            start(atx[0], atx[1], line)
            continue
        setext = _SETEXT.match(line)
        if setext and len(current) == 1 and current[0].strip() and not _FENCE.match(current[0]):
            title = current.pop()
            start(1 if setext.group(1)[0] == "=" else 2, title, title)
            continue
        if not line.strip() or _TAG_LINE.match(line) or _IMAGE_LINE.match(line) or _DIRECTIVE_LINE.match(line):
            flush()
            continue
        current.append(line)
    flush()
    return [s for s in sections if s.blocks]

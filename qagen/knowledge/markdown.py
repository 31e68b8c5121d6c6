"""Text and Markdown notes -> sections: the structure of the text a reader decoded.

ATX and setext headings start sections; fenced code is kept whole; HTML comments, bare tag
lines, image lines and d2l directives are dropped; YAML front matter's title is the root.
"""

from __future__ import annotations

import re

from qagen.knowledge.sections import Block, Section, clean_heading

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG_LINE = re.compile(r"^\s*</?[A-Za-z][\w-]*(\s+[^<>]*)?/?>\s*$")
_IMAGE_LINE = re.compile(r"^\s*!\[[^\]]*\]\([^)]*\)\s*$")
_DIRECTIVE_LINE = re.compile(r"^\s*:\w+:`[^`]*`\s*$")  # d2l-style ':label:`sec_x`'
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)
_TITLE = re.compile(r"^title:\s*['\"]?(.*?)['\"]?\s*$", re.M)


def normalise(text: str) -> str:
    """Line breaks as "\n"; a form feed (a page break in a text file) ends a paragraph."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")


def markdown_sections(text: str) -> list[Section]:
    """Sections of a text/Markdown document: ATX and setext headings start new sections."""
    root: tuple[str, ...] = ()
    front = _FRONT_MATTER.match(text)
    if front:
        text = text[front.end():]
        title = _TITLE.search(front.group(1))
        if title and title.group(1).strip() and not re.search(r"^ {0,3}# ", text, re.M):
            root = (clean_heading(title.group(1)),)
    text = _COMMENT.sub("", text)
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
        atx = _ATX.match(line)
        if atx:
            start(len(atx.group(1)), atx.group(2), line)
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

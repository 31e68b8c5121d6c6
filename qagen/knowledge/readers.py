"""Document readers for knowledge bases: bytes -> sections (heading path, page, blocks of text).

Text/Markdown: ATX and setext headings, fenced code kept whole, HTML comments, bare tag
lines, image lines and d2l directives dropped, YAML front matter's title as the root.
DOCX: headings from paragraph styles ("Heading N", "Title"); tables as "a | b" rows.
PDF: pypdfium2's text layer page by page; numbered ("2.1 Title") and short ALL-CAPS lines
are headings; bare page numbers are dropped. A section never spans two PDF pages.
"""

from __future__ import annotations

import re

from qagen.knowledge.chunking import Block, Section, too_large
from qagen.knowledge.errors import UnreadableKnowledgeDocument

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG_LINE = re.compile(r"^\s*</?[A-Za-z][\w-]*(\s+[^<>]*)?/?>\s*$")
_IMAGE_LINE = re.compile(r"^\s*!\[[^\]]*\]\([^)]*\)\s*$")
_DIRECTIVE_LINE = re.compile(r"^\s*:\w+:`[^`]*`\s*$")  # d2l-style ':label:`sec_x`'
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)
_TITLE = re.compile(r"^title:\s*['\"]?(.*?)['\"]?\s*$", re.M)


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", "replace")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", "replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")


def _clean_heading(title: str) -> str:
    title = re.sub(r"(\*\*|__|\*|_|`)", "", title).strip()
    return re.sub(r"\s+", " ", title)[:200]


def markdown_sections(text: str) -> list[Section]:
    """Sections of a text/Markdown document: ATX and setext headings start new sections."""
    root: tuple[str, ...] = ()
    front = _FRONT_MATTER.match(text)
    if front:
        text = text[front.end():]
        title = _TITLE.search(front.group(1))
        if title and title.group(1).strip() and not re.search(r"^ {0,3}# ", text, re.M):
            root = (_clean_heading(title.group(1)),)
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
        stack.append((level, _clean_heading(title)))
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


# --- DOCX ------------------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.I)


def docx_sections(data: bytes, name: str) -> list[Section]:
    import io
    import zipfile

    try:
        import docx
        from docx.table import Table

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableKnowledgeDocument(f"{name} is a damaged .docx file and cannot be opened: {exc}") from exc
    except Exception as exc:  # python-docx raises assorted XML/packaging errors on broken files
        raise UnreadableKnowledgeDocument(f"{name} could not be read as a .docx file ({type(exc).__name__}).") from exc
    stack: list[tuple[int, str]] = []
    sections = [Section(page=None, path=())]
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if not cells or cells[-1] != text:  # merged cells repeat their text
                        cells.append(text)
                if any(cells):
                    rows.append(" | ".join(cells))
            if rows:
                sections[-1].blocks.append(Block("\n".join(rows)))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        match = _HEADING_STYLE.match(style)
        level = 1 if style.lower() == "title" else int(match.group(1)) if match else 0
        if level and len(text.split()) <= 25:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, _clean_heading(text)))
            sections.append(Section(page=None, path=tuple(t for _, t in stack), heading_line=text))
        else:
            sections[-1].blocks.append(Block(text))
    return [s for s in sections if s.blocks]


# --- PDF -------------------------------------------------------------------------------

_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+([A-Z][^.!?:;]{1,80})$")
_PAGE_NUMBER = re.compile(r"^(page\s+)?\d{1,4}(\s+(of|/)\s+\d{1,4})?$", re.I)


def pdf_sections(data: bytes, name: str, max_chunks: int) -> list[Section]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = "it is password-protected" if "password" in str(exc).lower() else "it is damaged or truncated"
        raise UnreadableKnowledgeDocument(f"{name} cannot be opened as a PDF: {reason}.") from exc
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    raw = textpage.get_text_bounded()
                finally:
                    textpage.close()
            finally:
                page.close()
            section = Section(page=index + 1, path=tuple(t for _, t in stack))
            sections.append(section)
            paragraph: list[str] = []

            def flush() -> None:
                if paragraph:
                    section.blocks.append(Block(" ".join(paragraph)))
                    paragraph.clear()

            for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
                line = " ".join(line.split())
                if not line:
                    flush()
                    continue
                if _PAGE_NUMBER.match(line):
                    continue
                level = _pdf_heading_level(line)
                if level:
                    flush()
                    while stack and stack[-1][0] >= level:
                        stack.pop()
                    stack.append((level, _clean_heading(line)))
                    section = Section(page=index + 1, path=tuple(t for _, t in stack), heading_line=line)
                    sections.append(section)
                    continue
                paragraph.append(line)
            flush()
            # A page is at least one chunk: stop early rather than read a huge file to the end.
            if sum(1 for s in sections if s.blocks) > max_chunks:
                raise too_large(name, max_chunks)
    finally:
        pdf.close()
    return [s for s in sections if s.blocks]


def _pdf_heading_level(line: str) -> int:
    """A heading in a PDF's text layer: '2.1 Estimators' style lines, or short ALL-CAPS lines."""
    words = line.split()
    if len(words) > 12 or line.endswith((".", ",", ";", ":")):
        return 0
    numbered = _NUMBERED_HEADING.match(line)
    if numbered:
        return numbered.group(1).count(".") + 1
    letters = [c for c in line if c.isalpha()]
    if 3 <= len(letters) and len(words) <= 8 and all(c.isupper() for c in letters):
        return 1
    return 0

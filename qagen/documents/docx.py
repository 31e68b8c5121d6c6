"""Read a .docx into lines with python-docx, restoring Word's automatic list numbers.

Word keeps the "1." of a numbered list in numbering.xml, not in the paragraph text, so a
question typed as an auto-numbered list would otherwise lose its number. We replay the
numbering counters (per list and level, with restarts) and prefix the rendered label.
"""

from __future__ import annotations

import io
import re
import zipfile

from qagen.documents.errors import CorruptFile, TooManyPages
from qagen.documents.lines import Document, Line, Segment, text_line

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
PAGE_TWIPS = 9000.0  # a typical text width; indents become fractions of it
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
          (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a zip bomb is refused before python-docx inflates it


def read_docx(data: bytes, max_pages: int = 60) -> Document:
    import docx  # python-docx; imported here so sniffing stays light
    from docx.opc.exceptions import PackageNotFoundError

    _check_package(data, max_pages)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CorruptFile(
            "The .docx file could not be opened: it is damaged or incomplete. Open it in "
            "Word or LibreOffice, save it again and upload the new file."
        ) from exc
    except Exception as exc:  # lxml errors on malformed XML parts
        raise CorruptFile(f"The .docx file is damaged and could not be read ({type(exc).__name__}).") from exc
    numbering = Numbering(document)
    headings = heading_styles(document)
    lines: list[Line] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == W + "p":
            line = _paragraph_line(child, numbering)
            if line:
                line.heading_level = headings.get(_style_id(child), 0)
                lines.append(line)
        elif child.tag == W + "tbl":
            lines.extend(_table_lines(child))
    return Document(kind="docx", pages=[lines], page_count=1)


def _check_package(data: bytes, max_pages: int) -> None:
    """Refuse archives that inflate to absurd sizes, and documents longer than the limit
    (Word stores its page count in docProps/app.xml)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise CorruptFile("The .docx file unpacks to more than 200 MB; no paper or notes file is that large.")
            _check_entries(archive)
            try:
                app = archive.read("docProps/app.xml").decode("utf-8", "replace")
            except KeyError:
                return
    except zipfile.BadZipFile as exc:
        raise CorruptFile("The .docx file is damaged or incomplete (not a valid ZIP archive).") from exc
    match = re.search(r"<Pages>(\d+)</Pages>", app)
    if match and int(match.group(1)) > max_pages:
        raise TooManyPages(
            f"The document has {match.group(1)} pages; the limit is {max_pages}. Upload only the "
            "pages needed (split the file), or ask for a higher limit."
        )


def _check_entries(archive: zipfile.ZipFile) -> None:
    """Inflate every entry in small steps: a ZIP whose directory understates sizes (a bomb
    that lies) fails its CRC check here, after at most its declared size, instead of
    inflating to gigabytes in one `read()` inside python-docx."""
    for info in archive.infolist():
        if info.compress_size > info.file_size * 1.01 + 1024:
            raise CorruptFile("The .docx file is damaged: its ZIP directory gives sizes that cannot be right.")
        try:
            with archive.open(info) as part:
                while part.read(1 << 16):
                    pass
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise CorruptFile(f"The .docx file is damaged: {info.filename} cannot be unpacked ({exc}).") from exc


def _text(element) -> str:  # type: ignore[no-untyped-def]
    parts = []
    for node in element.iter(W + "t", W + "tab", W + "br", W + "cr"):
        if node.tag == W + "t":
            parts.append(node.text or "")
        elif node.tag == W + "tab":
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _paragraph_line(p, numbering: Numbering) -> Line | None:  # type: ignore[no-untyped-def]
    text = _text(p).replace("\n", " ").strip()
    label, indent = numbering.label(p)
    if label:
        text = f"{label} {text}".strip()
    if not text:
        return None
    cells = [c.strip() for c in text.split("\t") if c.strip()]
    line = text_line(text.replace("\t", "   "), indent=indent)
    if len(cells) > 1:
        width = max(len(text), 60)
        segments, pos = [], 0
        for cell in cells:
            start = text.find(cell, pos)
            segments.append(Segment(indent + start / width, indent + (start + len(cell)) / width, cell))
            pos = start + len(cell)
        line.segments = segments
        line.text = "   ".join(cells)
    return line


_HEADING_NAME = re.compile(r"^heading\s*(\d)$", re.I)


def heading_styles(document) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Paragraph style id -> heading level: "Title" is 1, "Heading N" is N (Word's built-in names)."""
    from docx.enum.style import WD_STYLE_TYPE

    levels = {}
    for style in document.styles:
        if style.type != WD_STYLE_TYPE.PARAGRAPH or not style.name:
            continue
        match = _HEADING_NAME.match(style.name)
        if match or style.name.lower() == "title":
            levels[style.style_id] = int(match.group(1)) if match else 1
    return levels


def _style_id(p) -> str:  # type: ignore[no-untyped-def]
    style = p.find(f"{W}pPr/{W}pStyle")
    return _val(style, "") if style is not None else ""


def _table_lines(tbl) -> list[Line]:  # type: ignore[no-untyped-def]
    lines = []
    for tr in tbl.iter(W + "tr"):
        cells = [" ".join(_text(tc).split()) for tc in tr.iter(W + "tc")]
        cells = [c for c in cells if c]
        if not cells:
            continue
        n = len(cells)
        segments = [Segment(i / n, (i + 1) / n - 0.01, c) for i, c in enumerate(cells)]
        lines.append(Line(text="   ".join(cells), x0=0.0, x1=1.0, segments=segments, table_row=True))
    return lines


class Numbering:
    """Replays Word list numbering (numbering.xml) paragraph by paragraph."""

    def __init__(self, document) -> None:  # type: ignore[no-untyped-def]
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}
        self.counters: dict[str, list[int]] = {}
        self.style_num: dict[str, tuple[str, int]] = {}
        try:
            part = document.part.numbering_part
        except (NotImplementedError, KeyError, AttributeError):
            return
        root = part.element
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for an in root.iter(W + "abstractNum"):
            levels = {}
            for lvl in an.iter(W + "lvl"):
                ilvl = int(lvl.get(W + "ilvl", "0"))
                start = _val(lvl.find(W + "start"), "1")
                fmt = _val(lvl.find(W + "numFmt"), "decimal")
                text = _val(lvl.find(W + "lvlText"), "%1.")
                levels[ilvl] = (int(start) if start.isdigit() else 1, fmt, text)
            abstract[an.get(W + "abstractNumId", "")] = levels
        for num in root.iter(W + "num"):
            ref = num.find(W + "abstractNumId")
            if ref is not None:
                self.levels[num.get(W + "numId", "")] = abstract.get(_val(ref, ""), {})
        for style in document.styles.element.iter(W + "style"):
            num_pr = style.find(f"{W}pPr/{W}numPr")
            if num_pr is not None:
                num_id = _val(num_pr.find(W + "numId"), "")
                ilvl = int(_val(num_pr.find(W + "ilvl"), "0") or 0)
                self.style_num[style.get(W + "styleId", "")] = (num_id, ilvl)

    def label(self, p) -> tuple[str, float]:  # type: ignore[no-untyped-def]
        ppr = p.find(W + "pPr")
        indent = _indent(ppr)
        num_id, ilvl = "", 0
        if ppr is not None:
            num_pr = ppr.find(W + "numPr")
            style = ppr.find(W + "pStyle")
            if num_pr is not None:
                num_id = _val(num_pr.find(W + "numId"), "")
                ilvl = int(_val(num_pr.find(W + "ilvl"), "0") or 0)
            elif style is not None and _val(style, "") in self.style_num:
                num_id, ilvl = self.style_num[_val(style, "")]
        levels = self.levels.get(num_id)
        if not levels or ilvl not in levels:
            return "", indent
        counters = self.counters.setdefault(num_id, [0] * 10)
        start, fmt, text = levels[ilvl]
        counters[ilvl] = counters[ilvl] + 1 if counters[ilvl] else start
        for deeper in range(ilvl + 1, 10):
            counters[deeper] = 0
        if fmt in ("bullet", "none"):
            return ("•" if fmt == "bullet" else ""), indent
        label = text
        for lv in range(9):
            if f"%{lv + 1}" in label:
                lv_fmt = levels.get(lv, (1, "decimal", ""))[1]
                label = label.replace(f"%{lv + 1}", _format(counters[lv] or 1, lv_fmt))
        return label, indent


def _val(element, default: str) -> str:  # type: ignore[no-untyped-def]
    return element.get(W + "val", default) if element is not None else default


def _indent(ppr) -> float:  # type: ignore[no-untyped-def]
    ind = ppr.find(W + "ind") if ppr is not None else None
    if ind is None:
        return 0.0
    try:
        left = int(ind.get(W + "left") or ind.get(W + "start") or 0)
        hanging = int(ind.get(W + "hanging") or 0)
    except ValueError:
        return 0.0
    return max(0.0, (left - hanging) / PAGE_TWIPS)


def _format(n: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return chr(96 + (n - 1) % 26 + 1)
    if fmt == "upperLetter":
        return chr(64 + (n - 1) % 26 + 1)
    if fmt in ("lowerRoman", "upperRoman"):
        out = ""
        for value, sym in _ROMAN:
            while n >= value:
                out += sym
                n -= value
        return out.upper() if fmt == "upperRoman" else out
    return str(n)

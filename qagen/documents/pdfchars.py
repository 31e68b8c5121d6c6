"""Text lines of one PDF page from pdfium's character boxes.

pdfium gives every character with its box and text object at a few microseconds each, an
order of magnitude faster than pdfminer (which pdfplumber uses). From the boxes we build
lines (vertical grouping), words (small gaps) and segments (wide gaps: a right-hand marks
column, the other column of a two-column page). Characters in legacy-encoded Indic fonts
(Kruti Dev, Shree-Dev, Chanakya...) extract as Latin-1 gibberish; they are dropped and
counted in `Line.foreign`.
"""

from __future__ import annotations

import ctypes
import math
import re
import statistics
from dataclasses import dataclass

import pypdfium2.raw as pdfium_c

from qagen.documents.lines import Line, Segment

LEGACY_INDIC_FONT = re.compile(
    r"SHREE[-_ ]?(DEV|PUN|GUJ|BEN|BAN|ORI|TAM|TEL|KAN|MAL|GUR)|KRUTI|DEVLYS|CHANAKYA|WALKMAN"
    r"|SHUSHA|AKRUTI|APS[-_ ]?DV|DV[-_ ]?TT|AGRA|KANTIPUR|PREETI|SUSHA|MANGAL-LEGACY",
    re.IGNORECASE,
)
MAX_CHARS_PER_PAGE = 60_000  # a page with more is no paper or notes page; bounded time
WORD_GAP = 0.18  # of glyph height: a gap wider than this is a space
TURNED_DEGREES = 30  # italic and slanted maths lean up to ~20 degrees; side-margin text is turned 90
SPACE_OVERLAP = 0.1  # of glyph height: a written space still breaks words whose boxes touch or overlap this much
SEGMENT_GAP = 1.0  # of glyph height: a gap wider than this starts a new segment


@dataclass(slots=True)
class Char:
    ch: str
    x0: float
    x1: float
    top: float
    bottom: float
    legacy: bool
    idx: int = 0
    space_before: bool = False  # the page's text has a space character just before this one
    turned: bool = False  # its baseline is turned more than TURNED_DEGREES from horizontal
    font: int = 0  # the font's handle, for facts about the font as a whole

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def h(self) -> float:
        return self.bottom - self.top


class FontCache:
    """Font facts per text object, looked up once per object (objects hold many chars)."""

    def __init__(self) -> None:
        self._by_obj: dict[int, tuple[bool, int, int]] = {}
        self._by_font: dict[int, bool] = {}

    def new_page(self) -> None:
        """Object handles are per page (addresses get reused), fonts are per document."""
        self._by_obj.clear()

    def lookup(self, obj: object) -> tuple[bool, int, int]:
        """(is legacy Indic font, text render mode, font key) of a text object."""
        key = ctypes.cast(obj, ctypes.c_void_p).value or 0
        found = self._by_obj.get(key)
        if found is None:
            legacy = False
            mode = 0
            font_key = 0
            if key:
                font = pdfium_c.FPDFTextObj_GetFont(obj)
                font_key = ctypes.cast(font, ctypes.c_void_p).value or 0
                if font_key in self._by_font:
                    legacy = self._by_font[font_key]
                elif font_key:
                    buf = ctypes.create_string_buffer(256)
                    pdfium_c.FPDFFont_GetBaseFontName(font, buf, 256)
                    legacy = bool(LEGACY_INDIC_FONT.search(buf.value.decode("latin-1")))
                    self._by_font[font_key] = legacy
                mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj)
            found = (legacy, mode, font_key)
            self._by_obj[key] = found
        return found

    def mark_legacy(self, font_key: int) -> None:
        """A font found to be legacy-encoded by what it prints (`legacy_fonts`): so for every later page."""
        self._by_font[font_key] = True
        self._by_obj = {k: (True, mode, f) if f == font_key else (legacy, mode, f)
                        for k, (legacy, mode, f) in self._by_obj.items()}


def page_chars(textpage: object, page_height: float, fonts: FontCache) -> tuple[list[Char], int]:
    """All visible characters of a page (y measured from the top) and the invisible count."""
    raw = textpage.raw  # type: ignore[attr-defined]
    fonts.new_page()
    count = min(pdfium_c.FPDFText_CountChars(raw), MAX_CHARS_PER_PAGE)
    rect = pdfium_c.FS_RECTF()
    chars: list[Char] = []
    invisible = 0
    pending_high = 0
    space = False
    for index in range(count):
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        if 0xD800 <= code < 0xDC00:
            pending_high = code
            continue
        if 0xDC00 <= code < 0xE000 and pending_high:
            code = 0x10000 + ((pending_high - 0xD800) << 10) + (code - 0xDC00)
        pending_high = 0
        if code in (9, 32, 0xA0):
            space = True  # a word break the PDF wrote (or pdfium inferred), whatever the glyphs' gap
            continue
        if code in (2, 0xFFFE):
            code = 0x2D  # pdfium's mark for a hyphen that ends a line: the printed hyphen
        if code < 32 or code == 0xFFFF or 0xE000 <= code < 0xF900:
            continue  # control and private-use glyphs (symbol-font bullets)
        if pdfium_c.FPDFText_IsGenerated(raw, index):
            continue
        legacy, mode, font_key = fonts.lookup(pdfium_c.FPDFText_GetTextObject(raw, index))
        if legacy and (48 <= code <= 57 or code == 46):
            legacy = False  # digits and full stops keep their meaning in legacy fonts
        if mode == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
            invisible += 1
        pdfium_c.FPDFText_GetLooseCharBox(raw, index, ctypes.byref(rect))
        top, bottom = page_height - rect.top, page_height - rect.bottom
        if bottom - top <= 0.01:
            continue
        degrees = math.degrees(pdfium_c.FPDFText_GetCharAngle(raw, index)) % 360
        turned = TURNED_DEGREES < degrees < 360 - TURNED_DEGREES
        chars.append(Char(chr(code), rect.left, rect.right, top, bottom, legacy, index, space, turned, font_key))
        space = False
    for font_key in legacy_fonts(chars):
        fonts.mark_legacy(font_key)
        for char in chars:
            if char.font == font_key and not (char.ch.isdigit() or char.ch == "."):
                char.legacy = True
    # A page whose text runs left to right: text turned from it is a side margin's "do not write
    # in this area", a watermark or a rotated label, never part of a question's line.
    if sum(c.turned for c in chars) * 2 < len(chars):
        chars = [c for c in chars if not c.turned]
    return chars, invisible


LEGACY_SHARE = 0.4  # of a font's letters in U+00C0-U+00FF: no Latin-script language comes near
LEGACY_MIN_CHARS = 20


def legacy_fonts(chars: list[Char]) -> set[int]:
    """Fonts that print Indic text in a legacy (non-Unicode) encoding, by what they print: most
    of their letters come out as accented Latin-1 letters ("ëö", "ïöö"), which in French,
    Spanish or German text are a few per cent at most. Whatever the font is named."""
    letters: dict[int, int] = {}
    accented: dict[int, int] = {}
    for char in chars:
        if char.legacy or not char.font or not char.ch.isalpha():
            continue
        letters[char.font] = letters.get(char.font, 0) + 1
        if "\u00c0" <= char.ch <= "\u00ff":
            accented[char.font] = accented.get(char.font, 0) + 1
    return {font for font, n in letters.items()
            if n >= LEGACY_MIN_CHARS and accented.get(font, 0) >= LEGACY_SHARE * n}


def build_lines(chars: list[Char], page: int, width: float, height: float) -> list[Line]:
    """Group characters into lines by vertical position, then into words and segments."""
    rows: list[list[Char]] = []
    centers: list[float] = []
    heights: list[float] = []
    for char in sorted(chars, key=lambda c: c.cy):
        if rows and abs(char.cy - centers[-1]) <= 0.45 * max(min(char.h, heights[-1]), 1e-3):
            row = rows[-1]
            row.append(char)
            n = len(row)
            centers[-1] += (char.cy - centers[-1]) / n
            heights[-1] += (char.h - heights[-1]) / n
        else:
            rows.append([char])
            centers.append(char.cy)
            heights.append(char.h)
    lines = [_line(row, page, width, height) for row in rows]
    return [line for line in lines if line is not None]


def _line(row: list[Char], page: int, width: float, height: float) -> Line | None:
    row.sort(key=lambda c: c.x0)
    h = statistics.median(c.h for c in row if not c.legacy) if any(not c.legacy for c in row) else row[0].h
    segments: list[Segment] = []
    words: list[str] = []
    word: list[str] = []
    seg_x0 = None
    last_x1 = None
    last_visible_x1 = None
    foreign = 0
    prev: Char | None = None
    for char in row:
        if prev and char.ch == prev.ch and abs(char.x0 - prev.x0) < 0.1 * h and abs(char.idx - prev.idx) > 1:
            continue  # overprinted (fake bold) duplicate; adjacent ones are ligature halves
        prev = char
        if char.legacy:
            foreign += 1
            if word:
                words.append("".join(word))
                word = []
            last_x1 = char.x1 if last_x1 is None else max(last_x1, char.x1)
            continue
        if seg_x0 is not None and last_x1 is not None:
            gap = char.x0 - last_x1
            if last_visible_x1 is not None and char.x0 - last_visible_x1 > SEGMENT_GAP * h:
                if word:
                    words.append("".join(word))
                    word = []
                segments.append(Segment(seg_x0 / width, last_visible_x1 / width, " ".join(words)))
                words = []
                seg_x0 = None
            elif word and (gap > WORD_GAP * h or (char.space_before and gap > -SPACE_OVERLAP * h)):
                words.append("".join(word))
                word = []
        if seg_x0 is None:
            seg_x0 = char.x0
        word.append(char.ch)
        last_x1 = char.x1 if last_x1 is None else max(last_x1, char.x1)
        last_visible_x1 = last_x1
    if word:
        words.append("".join(word))
    if seg_x0 is not None and words:
        segments.append(Segment(seg_x0 / width, (last_visible_x1 or seg_x0) / width, " ".join(words)))
    if not segments:
        if not foreign:
            return None
        segments = []
    top = min(c.top for c in row) / height
    bottom = max(c.bottom for c in row) / height
    return Line(
        text="   ".join(s.text for s in segments),
        page=page,
        x0=segments[0].x0 if segments else row[0].x0 / width,
        x1=segments[-1].x1 if segments else row[-1].x1 / width,
        top=top,
        bottom=bottom,
        height=h / height,
        segments=segments,
        foreign=foreign,
        positioned=True,
    )

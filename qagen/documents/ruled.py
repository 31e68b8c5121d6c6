"""Question numbers in the first column of a ruled table on a scanned page.

Papers set as a table (Q. No | part | question | marks) print each number in a narrow
cell at the table's left edge. Reading the whole page, Tesseract often drops those digits
as specks between the ruling lines, so the questions lose their numbers. The rule, which a
person can check on the page: when two vertical rules near the page's left edge bound a
narrow column (1.5-10% of the page's width), that column holds the question numbers; it
is read on its own, digits only, and each number found goes in front of the page line
level with it.
"""

from __future__ import annotations

import io
import re
import subprocess

from qagen.documents.environment import safe_environment
from qagen.documents.lines import Line

DARK = 190  # grey level below which a pixel is ink (scanned rules are often faint)
SKEW = 3  # pixels a scanned rule may drift sideways
RULE_LENGTH = 0.06  # a vertical rule is unbroken ink over at least this share of the page's height
COLUMN_WIDTH = (0.01, 0.10)  # the number column's width, as a share of the page's width
LEFT_PART = 0.35  # the table's left edge lies in this left share of the page


def _widen(ink, reach: int, axis: int):  # type: ignore[no-untyped-def]
    import numpy as np

    out = ink.copy()
    for d in range(1, reach + 1):
        out |= np.roll(ink, d, axis=axis)
        out |= np.roll(ink, -d, axis=axis)
    return out


def _longest_runs(ink):  # type: ignore[no-untyped-def]
    """For each column, the length of its longest vertical run of ink."""
    import numpy as np

    run = np.zeros(ink.shape[1], dtype=np.int32)
    best = np.zeros(ink.shape[1], dtype=np.int32)
    for y in range(ink.shape[0]):
        run = (run + 1) * ink[y]
        np.maximum(best, run, out=best)
    return best


def number_column(gray) -> tuple[int, int, int, int] | None:  # type: ignore[no-untyped-def]
    """The pixel box (x0, y0, x1, y1) of a ruled table's number column, or None.

    `gray` is the page as a 2-D numpy array of grey levels. A vertical rule is a column
    of ink, allowing for a scan's skew and small breaks, unbroken over 6% of the page's
    height; the number column lies between the two leftmost rules when they are 1-10% of
    the page's width apart, the first is in the page's left third, and a rule across
    (a cell's border) joins them somewhere."""
    import numpy as np

    height, width = gray.shape
    ink = _widen(_widen(gray < DARK, SKEW, 1), 2, 0)
    best = _longest_runs(ink)
    margin = max(2, width // 100)
    rules: list[list[int]] = []
    for x in np.nonzero(best >= RULE_LENGTH * height)[0]:
        if not margin <= x < width - margin:
            continue
        if rules and x - rules[-1][-1] <= 2:
            rules[-1].append(int(x))
        else:
            rules.append([int(x)])
    for first, second in zip(rules, rules[1:]):
        if first[0] > LEFT_PART * width:
            return None
        a, b = first[len(first) // 2], second[len(second) // 2]  # the rules' centres
        # Rule pixels a skewed scan carries inside are cleared later (clean_column).
        left, right = a + SKEW, b - SKEW + 1
        if COLUMN_WIDTH[0] * width <= b - a <= COLUMN_WIDTH[1] * width:
            # The table's height: rows where both rules have ink (through their breaks).
            both = np.nonzero(ink[:, a] & ink[:, b])[0]
            if not len(both) or both[-1] - both[0] < RULE_LENGTH * height:
                continue
            # A table's cells are closed by rules across: one must cross the column.
            cell = _widen(gray[both[0]:both[-1] + 1, a:b + 1] < DARK, 1, 0)
            if (cell.mean(axis=1) >= 0.9).any():
                return left, int(both[0]), right, int(both[-1]) + 1
    return None


GLYPH_HEIGHT = 0.03  # no glyph is taller than this share of the page's height
FAINT = 35  # ink is at least this much darker than the paper around it
_NUMBER_TOKEN = re.compile(r"^[“\"'‘(\[]?(\d{1,2}|[Il|])[.,:;)\]]?$")  # 'I', 'l', '|': a faint '1'


def _blank_long_runs(ink, longest: int) -> None:  # type: ignore[no-untyped-def]
    """Clear vertical runs of ink longer than any glyph: a rule, even where a scan's skew
    carries it a pixel or two into the column."""
    import numpy as np

    for x in range(ink.shape[1]):
        column = np.concatenate(([0], ink[:, x].astype(np.int8), [0]))
        edges = np.diff(column)
        for start, end in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
            if end - start > longest:
                ink[start:end, x] = False


def clean_column(cell, page_height: int):  # type: ignore[no-untyped-def]
    """The number column with its rules whitened: only the digits' ink is left."""
    import numpy as np

    # Digits in a scanned cell are often fainter than the rules: ink is anything clearly
    # darker than the paper around it.
    ink = cell < float(np.median(cell)) - FAINT
    _blank_long_runs(ink, max(8, int(GLYPH_HEIGHT * page_height)))  # the rules bounding the column
    ink[ink.mean(axis=1) >= 0.85, :] = False  # rules across the table (a digit never spans the cell)
    return np.where(ink, cell, 255).astype(np.uint8)


def read_numbers(png: bytes, timeout: float, exe: str) -> list[tuple[int, float]]:
    """Numbers in the page's number column, each with its vertical centre (0-1 of the page).

    The cleaned column is read on its own as one block of text (Tesseract's `--psm 6`);
    tokens that are a number of one or two digits are kept."""
    import numpy as np
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(png)) as image:
        gray = np.asarray(image.convert("L"))
    box = number_column(gray)
    if box is None:
        return []
    x0, y0, x1, y1 = box
    height = gray.shape[0]
    pad = 30
    clean = clean_column(gray[y0:y1, x0:x1], height)
    column = ImageOps.expand(Image.fromarray(clean), pad, fill=255)
    out = io.BytesIO()
    column.save(out, format="PNG")
    env = safe_environment(OMP_THREAD_LIMIT="1")  # no service secrets for Tesseract
    try:
        proc = subprocess.run([exe, "stdin", "stdout", "-l", "eng", "--psm", "6", "tsv"],
                              input=out.getvalue(), capture_output=True, timeout=timeout, env=env, check=False)
    except (subprocess.TimeoutExpired, OSError):
        return []
    if proc.returncode != 0:
        return []
    found = []
    for row in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        match = _NUMBER_TOKEN.match(cols[11].strip())
        if not match:
            continue
        token = match.group(1)
        left, width = int(cols[6]) - pad, int(cols[8])
        if not token.isdigit():
            # A stroke read as a letter is a '1' only in the middle of the column; at its
            # edges it is what is left of a rule.
            middle = left + width / 2
            if not 0.2 * (x1 - x0) <= middle <= 0.8 * (x1 - x0):
                continue
        value = 1 if not token.isdigit() else int(token)
        if value:
            centre = y0 + int(cols[7]) - pad + int(cols[9]) / 2
            found.append((value, centre / height))
    found += [(1, (y0 + centre) / height) for centre in _lone_strokes(clean, height)
              if not any(abs((y0 + centre) / height - y) < GLYPH_HEIGHT for _, y in found)]
    return sorted(found, key=lambda item: item[1])


def _lone_strokes(clean, page_height: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Upright strokes standing alone in the number column: the digit 1, which Tesseract
    often misses in a narrow cell. Returns their vertical centres in the column."""
    import numpy as np

    ink = clean < 255
    rows = np.nonzero(ink.any(axis=1))[0]
    runs: list[list[int]] = []
    for y in rows:
        if runs and y - runs[-1][1] <= 2:
            runs[-1][1] = int(y)
        else:
            runs.append([int(y), int(y)])
    width = clean.shape[1]
    strokes = []
    for top, bottom in runs:
        tall = bottom - top + 1
        if not 0.006 * page_height <= tall <= GLYPH_HEIGHT * page_height:
            continue
        inner = int(0.15 * width)  # ink at the column's edges is left of its rules
        xs = np.nonzero(ink[top:bottom + 1, inner:width - inner].any(axis=0))[0] + inner
        if not len(xs):
            continue
        wide = xs[-1] - xs[0] + 1
        middle = (xs[0] + xs[-1]) / 2
        if wide <= 0.45 * tall and 0.2 * width <= middle <= 0.8 * width:
            strokes.append((top + bottom) / 2)
    return strokes


def number_lines(lines: list[Line], numbers: list[tuple[int, float]]) -> list[Line]:
    """Put each number in front of the line level with it, as '3. '. A number level with
    no line is dropped."""
    for value, centre in numbers:
        level = [ln for ln in lines if ln.top - ln.height <= centre <= ln.bottom + ln.height / 2]
        if not level:
            continue
        line = min(level, key=lambda ln: (abs((ln.top + ln.bottom) / 2 - centre), ln.x0))
        # The reading may hold the number with stray marks ("3} a)"): it is replaced.
        printed = re.compile(rf"^\W*{value}(?!\d)\W*")
        line.text = f"{value}. {printed.sub('', line.text)}"
        if line.segments:
            line.segments[0].text = f"{value}. {printed.sub('', line.segments[0].text)}"
    return lines

"""Columns: two-column pages read column by column, and each column's text edges.

A gutter is an empty vertical strip in the middle of the page that many lines start
right of. Lines crossing it are split at it (or, if they span it with text, are headers
or centred headings that cut the page into bands). Within a band, the two columns'
numbered chunks are merged in numeric order.
"""

from __future__ import annotations

import re

from qagen.documents.lines import Line, Segment

# A line that starts with a question number: used to merge two columns in numeric order.
NUMBERED = re.compile(r"^\s*(?:Q(?:uestion)?\s*\.?\s*)?(\d{1,3})\s*[.)]", re.IGNORECASE)


def set_bounds(lines: list[Line], left: float, right: float) -> None:
    margin = left_margin(lines, left)
    edge = right_edge(lines, right)
    for line in lines:
        line.col_left = max(left, margin)
        line.col_right = max(edge, line.col_left + 0.05)


_LONE_NUMBER = re.compile(r"^[\[(]?\s*[\d.,+ ]{1,8}\s*[\])]?$|^[lI|]$")


def right_edge(lines: list[Line], default: float) -> float:
    """Where the body text ends on the right (a marks column, if any, lies beyond it)."""
    ends = []
    for line in lines:
        segs = line.segments
        if len(segs) > 1 and _LONE_NUMBER.match(segs[-1].text.strip()):
            segs = segs[:-1]
        if segs and segs[-1].x1 - line.x0 >= 0.3:
            ends.append(segs[-1].x1)
    if len(ends) < 3:
        return max((ln.x1 for ln in lines), default=default)
    ends.sort()
    return ends[int(0.8 * (len(ends) - 1))]


def left_margin(lines: list[Line], default: float) -> float:
    """The leftmost x where at least two lines start (one stray mark at a scan's edge, or a
    lone overhanging glyph, does not count)."""
    xs = sorted(ln.x0 for ln in lines)
    for i, x in enumerate(xs):
        if i + 1 < len(xs) and xs[i + 1] - x <= 0.012:
            return x
    return xs[0] if xs else default


def find_gutter(lines: list[Line]) -> float | None:
    """x of an empty vertical strip in the page's middle separating two text columns."""
    if len(lines) < 12:
        return None
    bins = 200
    cover = [0] * bins
    for line in lines:
        for seg in line.segments:
            for b in range(max(0, int(seg.x0 * bins)), min(bins, int(seg.x1 * bins) + 1)):
                cover[b] += 1
    allowed = max(2, len(lines) // 8)
    runs: list[tuple[int, int]] = []
    start = None
    for b in range(int(0.3 * bins), int(0.7 * bins) + 2):
        if b <= int(0.7 * bins) and cover[b] <= allowed:
            start = b if start is None else start
        elif start is not None:
            runs.append((start, b - 1))
            start = None
    if not runs:
        return None

    def support(run: tuple[int, int]) -> tuple[int, int]:
        edge = (run[1] + 1) / bins
        starting = sum(edge - 0.01 <= ln.x0 <= edge + 0.03 for ln in lines)
        return starting, run[1] - run[0]

    best = max(runs, key=support)
    low = min(cover[best[0]:best[1] + 1])
    lows = [b for b in range(best[0], best[1] + 1) if cover[b] == low]
    # centre of the last stretch of least-covered bins (nearest the right column's edge)
    end = lows[-1]
    first = end
    while first - 1 in lows:
        first -= 1
    gx = (first + end + 1) / 2 / bins
    segments = [seg for ln in lines for seg in ln.segments]
    left = [seg for seg in segments if seg.x1 <= gx and seg.x1 - seg.x0 > 0.12]
    right = [seg for seg in segments if seg.x0 >= gx and seg.x1 - seg.x0 > 0.12]
    if len(left) < 5 or len(right) < 5:
        return None
    right_edge = min(seg.x0 for seg in right)
    aligned = sum(seg.x0 - right_edge < 0.04 for seg in right)
    if aligned < 0.4 * len(right) or right_edge > 0.75:
        return None
    return gx


def order_columns(lines: list[Line]) -> list[Line]:
    """Reading order for a page; two-column pages are read column by column.

    Within each band (between full-width lines) the left and right columns' numbered
    chunks are merged in numeric order, which handles both newspaper-style columns and
    layouts where each column continues its own run of question numbers.
    """
    lines = sorted(lines, key=lambda ln: (round(ln.top, 4), ln.x0))
    gx = find_gutter(lines)
    if gx is None:
        set_bounds(lines, 0.0, 1.0)
        return lines
    left_col: list[Line] = []
    right_col: list[Line] = []
    full: list[Line] = []
    crossing: list[Line] = []
    for line in lines:
        if line.x1 <= gx + 0.01:
            left_col.append(line)
        elif line.x0 >= gx - 0.01:
            right_col.append(line)
        else:
            crossing.append(line)
    col_top = min((ln.top for ln in left_col + right_col if ln.x1 - ln.x0 > 0.12), default=0.0)
    col_bottom = max((ln.bottom for ln in left_col + right_col if ln.x1 - ln.x0 > 0.12), default=1.0)
    for line in crossing:
        centred = len(line.segments) == 1 and abs((line.x0 + line.x1) / 2 - gx) < 0.08
        spans = any(seg.x0 < gx - 0.01 and seg.x1 > gx + 0.01 for seg in line.segments)
        outside = line.top < col_top or line.top > col_bottom
        if spans and (outside or (centred and line.x1 - line.x0 < 0.5)):
            full.append(line)  # page header/footer, or a centred heading across the gutter
            continue
        lpart, rpart = _split(line, gx)
        if lpart:
            left_col.append(lpart)
        if rpart:
            right_col.append(rpart)
    left_col.sort(key=lambda ln: ln.top)
    right_col.sort(key=lambda ln: ln.top)
    set_bounds(left_col, 0.0, gx)
    set_bounds(right_col, gx, 1.0)
    set_bounds(full, 0.0, 1.0)
    cuts = sorted(ln.top for ln in full if col_top < ln.top < col_bottom)
    out = [ln for ln in full if ln.top <= col_top]
    edges = [-1.0, *cuts, 2.0]
    for lo, hi in zip(edges, edges[1:]):
        band_left = [ln for ln in left_col if lo <= ln.top < hi]
        band_right = [ln for ln in right_col if lo <= ln.top < hi]
        out.extend(_merge_columns(band_left, band_right))
        out.extend(ln for ln in full if ln.top == hi)
    out.extend(ln for ln in full if ln.top >= col_bottom and ln not in out)
    return out


def _split(line: Line, gx: float) -> tuple[Line | None, Line | None]:
    segments: list[Segment] = []
    for seg in line.segments:
        segments.extend(_cut_segment(seg, gx) if seg.x0 < gx < seg.x1 else [seg])
    left = [s for s in segments if (s.x0 + s.x1) / 2 < gx]
    right = [s for s in segments if (s.x0 + s.x1) / 2 >= gx]
    return _sub_line(line, left), _sub_line(line, right)


def _cut_segment(seg: Segment, gx: float) -> list[Segment]:
    """Split a segment that runs across the gutter at the space nearest to it (character
    positions estimated proportionally)."""
    text = seg.text
    width = seg.x1 - seg.x0
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces or width <= 0:
        return [seg]
    pos = lambda i: seg.x0 + width * i / max(len(text), 1)  # noqa: E731
    best = min(spaces, key=lambda i: abs(pos(i) - gx))
    if abs(pos(best) - gx) > 0.06:
        return [seg]
    return [Segment(seg.x0, pos(best), text[:best].strip()), Segment(pos(best + 1), seg.x1, text[best + 1:].strip())]


def _sub_line(line: Line, segments: list[Segment]) -> Line | None:
    if not segments:
        return None
    return Line(
        text="   ".join(s.text for s in segments),
        page=line.page,
        x0=segments[0].x0,
        x1=segments[-1].x1,
        top=line.top,
        bottom=line.bottom,
        height=line.height,
        segments=segments,
        foreign=line.foreign,
        positioned=True,
        ocr=line.ocr,
    )


def _chunks(lines: list[Line]) -> list[tuple[int | None, list[Line]]]:
    chunks: list[tuple[int | None, list[Line]]] = []
    for line in lines:
        match = NUMBERED.match(line.text)
        if match or not chunks:
            chunks.append((int(match.group(1)) if match else None, [line]))
        else:
            chunks[-1][1].append(line)
    return chunks


def _merge_columns(left: list[Line], right: list[Line]) -> list[Line]:
    lchunks, rchunks = _chunks(left), _chunks(right)
    lnums = [n for n, _ in lchunks if n is not None]
    rnums = [n for n, _ in rchunks if n is not None]
    increasing = all(a < b for a, b in zip(lnums, lnums[1:])) and all(
        a < b for a, b in zip(rnums, rnums[1:])
    )
    if not (lnums and rnums and increasing):
        return left + right
    out: list[Line] = []
    if lchunks and lchunks[0][0] is None:
        out.extend(lchunks.pop(0)[1])
    r_lead = rchunks.pop(0)[1] if rchunks and rchunks[0][0] is None else []
    while lchunks or rchunks:
        take_left = not rchunks or (lchunks and (lchunks[0][0] or 0) < (rchunks[0][0] or 0))
        if take_left:
            out.extend(lchunks.pop(0)[1])
        else:
            out.extend(r_lead)
            r_lead = []
            out.extend(rchunks.pop(0)[1])
    return out + r_lead

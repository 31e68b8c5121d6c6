"""OCR of page images with the Tesseract command-line program (Debian `tesseract-ocr`).

One subprocess per page, `OMP_THREAD_LIMIT=1` (Tesseract's OpenMP threading is several
times slower on small machines) and a hard timeout per page, so a bad page can cost at most
`timeout` seconds; its environment is an allow-list without the service's keys
(`qagen.documents.environment`). Pages run in parallel on a small thread pool; pdfium
rendering stays on the caller's thread because pdfium is not thread-safe.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import statistics
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from qagen.documents.environment import safe_environment
from qagen.documents.lines import Line, Segment

DEFAULT_DPI = 200
PAGE_TIMEOUT_SECONDS = 45.0  # per Tesseract run (a page is read at most twice)
DOCUMENT_BUDGET_SECONDS = 600.0  # pages not started within this budget are skipped
MAX_PIXELS = 4200 * 4200  # renders larger than this are scaled down (bounded memory)
# Page segmentation mode 6 (one uniform block) keeps the left-margin question numbers that
# the automatic mode 3 tends to drop as separate "blocks" on exam pages.
PSM = "6"


@functools.lru_cache(maxsize=1)
def tesseract_path() -> str | None:
    return shutil.which("tesseract")


@functools.lru_cache(maxsize=1)
def languages() -> frozenset[str]:
    exe = tesseract_path()
    if not exe:
        return frozenset()
    try:
        out = subprocess.run(
            [exe, "--list-langs"], capture_output=True, text=True, timeout=20, check=False, env=safe_environment()
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def available() -> bool:
    return bool(tesseract_path()) and "eng" in languages()


AUTO = "auto"
LOW_CONFIDENCE = 70.0  # mean word confidence below which an English-pass line is suspect


SECOND_LANGUAGE = "hin"  # bilingual Indian papers are common; used only when installed


def default_language() -> str:
    """'auto': English, re-read with English+Hindi where English reads poorly. Callers pass
    another Tesseract language string (e.g. 'eng+fra') as `ocr_lang` to parse_document."""
    return AUTO


def _second_language() -> str | None:
    return f"eng+{SECOND_LANGUAGE}" if SECOND_LANGUAGE in languages() else None


def ocr_png(png: bytes, page: int, lang: str, timeout: float = PAGE_TIMEOUT_SECONDS) -> list[Line]:
    """OCR one PNG page image and return its text lines (empty on timeout or failure).

    With lang 'auto' the page is read in English; if many lines come back with low
    confidence (another script, e.g. the Hindi half of a bilingual paper) it is read again
    with English+Hindi and those lines are taken from the second reading. English lines
    read confidently keep the English reading, whose digits and Latin letters are better.
    """
    return _numbered_rows(png, _read(png, page, lang, timeout), timeout)


def _numbered_rows(png: bytes, lines: list[Line], timeout: float) -> list[Line]:
    """A ruled table's question numbers that the page's reading lost (documents.ruled)."""
    from qagen.documents import ruled

    exe = tesseract_path()
    if not lines or not exe:
        return lines
    try:
        numbers = ruled.read_numbers(png, timeout, exe)
    except (OSError, ValueError, MemoryError):
        return lines  # the page's own reading stands
    return ruled.number_lines(lines, numbers)


def _read(png: bytes, page: int, lang: str, timeout: float) -> list[Line]:
    if lang != AUTO:
        return _run(png, page, lang, timeout)
    lines = _run(png, page, "eng", timeout)
    second = _second_language()
    weak = [ln for ln in lines if ln.conf < LOW_CONFIDENCE and len(ln.text) >= 8]
    if not second or len(weak) < max(2, 0.15 * len(lines)):
        return lines
    other = _run(png, page, second, timeout)
    if not other:
        return lines
    kept = [ln for ln in lines if ln.conf >= LOW_CONFIDENCE or len(ln.text) < 8]
    merged = list(kept)
    for line in other:
        centre = (line.top + line.bottom) / 2
        if not any(k.top <= centre <= k.bottom for k in kept):
            merged.append(line)
    merged.sort(key=lambda ln: (round(ln.top, 3), ln.x0))
    return merged


def _run(png: bytes, page: int, lang: str, timeout: float) -> list[Line]:
    exe = tesseract_path()
    if not exe:
        return []
    env = safe_environment(OMP_THREAD_LIMIT="1")  # no service secrets for Tesseract
    try:
        proc = subprocess.run(
            [exe, "stdin", "stdout", "-l", lang, "--psm", PSM, "tsv"],
            input=png,
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError):
        return []
    if proc.returncode != 0:
        return []
    return tsv_to_lines(proc.stdout.decode("utf-8", "replace"), page)


_NOISE = re.compile(r"^[|!¦\\/_~\-—–=:;.,'\"`*°»«<>\[\](){}]{1,3}$")


def tsv_to_lines(tsv: str, page: int) -> list[Line]:
    """Group Tesseract's TSV words into lines with normalised positions and gap segments."""
    rows = [r.split("\t") for r in tsv.splitlines()]
    if not rows or len(rows[0]) < 12:
        return []
    width = height = 0
    groups: dict[tuple[str, str, str], list[tuple[int, int, int, int, str]]] = {}
    confs: dict[tuple[str, str, str], list[float]] = {}
    for row in rows[1:]:
        if len(row) < 12:
            continue
        level = row[0]
        if level == "1":
            width, height = int(row[8]), int(row[9])
            continue
        if level != "5" or not row[11].strip():
            continue
        left, top, w, h = (int(v) for v in row[6:10])
        key = (row[2], row[3], row[4])
        groups.setdefault(key, []).append((left, top, w, h, row[11].strip()))
        try:
            confs.setdefault(key, []).append(float(row[10]))
        except ValueError:
            pass
    if not width or not height:
        return []
    lines = []
    for key, words in groups.items():
        words.sort()
        conf = statistics.mean(confs.get(key) or [0.0])
        while words and _NOISE.match(words[0][4]):
            words.pop(0)  # scan edges and rules read as '|', '!', '_'
        while words and _NOISE.match(words[-1][4]):
            words.pop()
        if not words:
            continue
        h_med = statistics.median(w[3] for w in words) or 1
        segments: list[Segment] = []
        current: list[tuple[int, int, int, int, str]] = []
        for word in words:
            if current and word[0] - (current[-1][0] + current[-1][2]) > 2.2 * h_med:
                segments.append(_segment(current, width))
                current = []
            current.append(word)
        segments.append(_segment(current, width))
        top = min(w[1] for w in words)
        bottom = max(w[1] + w[3] for w in words)
        lines.append(
            Line(
                text="   ".join(s.text for s in segments),
                page=page,
                x0=segments[0].x0,
                x1=segments[-1].x1,
                top=top / height,
                bottom=bottom / height,
                height=h_med / height,
                segments=segments,
                positioned=True,
                ocr=True,
                conf=conf,
            )
        )
    lines.sort(key=lambda ln: (round(ln.top, 3), ln.x0))
    return lines


def _segment(words: list[tuple[int, int, int, int, str]], width: int) -> Segment:
    return Segment(
        x0=words[0][0] / width,
        x1=(words[-1][0] + words[-1][2]) / width,
        text=" ".join(w[4] for w in words),
    )


def ocr_pages(
    renders: Iterable[tuple[int, Callable[[], bytes]]],
    lang: str | None = None,
    workers: int = 2,
    timeout: float = PAGE_TIMEOUT_SECONDS,
    budget: float = DOCUMENT_BUDGET_SECONDS,
) -> tuple[dict[int, list[Line]], list[int]]:
    """OCR several pages; `renders` yields (page index, function returning PNG bytes).

    Returns the lines per page and the pages skipped because the document's time budget
    ran out. Rendering happens on this thread, at most `workers` pages ahead of the OCR
    workers, so memory holds a bounded number of page images.
    """
    lang = lang or default_language()
    results: dict[int, list[Line]] = {}
    skipped: list[int] = []
    started = time.monotonic()
    in_flight: deque[tuple[int, Future[list[Line]]]] = deque()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for page, render in renders:
            while len(in_flight) >= max(1, workers):
                done_page, future = in_flight.popleft()
                results[done_page] = future.result()
            if time.monotonic() - started > budget:
                skipped.append(page)
                continue
            in_flight.append((page, pool.submit(ocr_png, render(), page, lang, timeout)))
        for done_page, future in in_flight:
            results[done_page] = future.result()
    return results, skipped


def image_to_png(data: bytes, max_pixels: int = MAX_PIXELS) -> bytes:
    """Normalise an uploaded image (PNG/JPEG) to a grayscale PNG of bounded size."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = 20 * max_pixels  # refuse decompression bombs
    with Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image)
        image = image.convert("L")
        pixels = image.width * image.height
        if pixels > max_pixels:
            scale = (max_pixels / pixels) ** 0.5
            image = image.resize((int(image.width * scale), int(image.height * scale)))
        elif max(image.width, image.height) < 1200:
            # Phone thumbnails: upscale so glyphs reach Tesseract's comfortable size.
            scale = 1600 / max(image.width, image.height)
            image = image.resize((int(image.width * scale), int(image.height * scale)))
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

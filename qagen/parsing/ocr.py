"""OCR of page images with the Tesseract command-line program (Debian `tesseract-ocr`).

One subprocess per page, `OMP_THREAD_LIMIT=1` (Tesseract's OpenMP threading is several
times slower on small machines) and a hard timeout per page, so a bad page can cost at most
`timeout` seconds. Pages run in parallel on a small thread pool; pdfium rendering stays on
the caller's thread because pdfium is not thread-safe.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import statistics
import subprocess
from collections.abc import Callable, Iterable
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from qagen.parsing.lines import Line, Segment

DEFAULT_DPI = 200
PAGE_TIMEOUT_SECONDS = 30.0
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
            [exe, "--list-langs"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def available() -> bool:
    return bool(tesseract_path()) and "eng" in languages()


def default_language() -> str:
    """English, plus Hindi when installed (bilingual Indian papers are common)."""
    override = os.environ.get("QAGEN_OCR_LANG")
    if override:
        return override
    return "eng+hin" if "hin" in languages() else "eng"


def ocr_png(png: bytes, page: int, lang: str, timeout: float = PAGE_TIMEOUT_SECONDS) -> list[Line]:
    """OCR one PNG page image and return its text lines (empty on timeout or failure)."""
    exe = tesseract_path()
    if not exe:
        return []
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        proc = subprocess.run(
            [exe, "stdin", "stdout", "-l", lang, "--psm", PSM, "tsv"],
            input=png,
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return []
    except OSError:
        return []
    if proc.returncode != 0:
        return []
    return tsv_to_lines(proc.stdout.decode("utf-8", "replace"), page)


def tsv_to_lines(tsv: str, page: int) -> list[Line]:
    """Group Tesseract's TSV words into lines with normalised positions and gap segments."""
    rows = [r.split("\t") for r in tsv.splitlines()]
    if not rows or len(rows[0]) < 12:
        return []
    width = height = 0
    groups: dict[tuple[str, str, str], list[tuple[int, int, int, int, str]]] = {}
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
        groups.setdefault((row[2], row[3], row[4]), []).append((left, top, w, h, row[11].strip()))
    if not width or not height:
        return []
    lines = []
    for words in groups.values():
        words.sort()
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
) -> dict[int, list[Line]]:
    """OCR several pages; `renders` yields (page index, function returning PNG bytes).

    Rendering happens on this thread, one page ahead of the OCR workers, so memory holds at
    most `workers + 1` page images.
    """
    lang = lang or default_language()
    results: dict[int, list[Line]] = {}
    in_flight: deque[tuple[int, Future[list[Line]]]] = deque()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for page, render in renders:
            while len(in_flight) >= max(1, workers):
                done_page, future = in_flight.popleft()
                results[done_page] = future.result()
            in_flight.append((page, pool.submit(ocr_png, render(), page, lang, timeout)))
        for done_page, future in in_flight:
            results[done_page] = future.result()
    return results


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

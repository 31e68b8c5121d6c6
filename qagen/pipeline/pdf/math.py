"""LaTeX math ($...$, $$...$$) as images, drawn by matplotlib's mathtext.

mathtext is a TeX subset: common LLM spellings it lacks (\\le, \\tfrac, \\boxed,
\\displaystyle, ...) are rewritten first, and anything it still cannot parse comes back as
None, so the caller prints the formula's plain text instead. Formulas are rendered with
`MathTextParser("agg")` straight to a small greyscale PNG (no Figure, no savefig: ~2 ms
each) and cached per `MathRenderer`, i.e. within one PDF render.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass

MAX_FORMULA_CHARS = 400
DPI = 300

# mathtext's parser is one shared object (pyparsing with a global packrat cache): not thread-safe.
_PARSER_LOCK = threading.Lock()
_parser = None

_ALIASES = [
    (re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![A-Za-z])"), ""),
    (re.compile(r"\\(?:tfrac|cfrac)(?![A-Za-z])"), r"\\frac"),
    (re.compile(r"\\le(?![A-Za-z])"), r"\\leq"),
    (re.compile(r"\\ge(?![A-Za-z])"), r"\\geq"),
    (re.compile(r"\\ne(?![A-Za-z])"), r"\\neq"),
    (re.compile(r"\\(?:lvert|rvert)(?![A-Za-z])"), "|"),
    (re.compile(r"\\(?:lVert|rVert)(?![A-Za-z])"), r"\\|"),
    (re.compile(r"\\boxed(?![A-Za-z])"), ""),
    (re.compile(r"\\(?:mbox|textnormal)(?![A-Za-z])"), r"\\text"),
    (re.compile(r"\\textrm(?![A-Za-z])"), r"\\mathrm"),
    (re.compile(r"\\textbf(?![A-Za-z])"), r"\\mathbf"),
    (re.compile(r"\\textit(?![A-Za-z])"), r"\\mathit"),
    (re.compile(r"\\dots[bcm]?(?![A-Za-z])"), r"\\ldots"),
    (re.compile(r"\\(?:qquad)(?![A-Za-z])"), r"\\quad\\quad"),
    (re.compile(r"\\\\"), r"\\quad "),  # a line break inside a formula: mathtext has none
    (re.compile(r"&"), " "),
]


# Second try for unbalanced \left/\right pairs ("\left. ... \right|"): drop the sizing.
_UNSIZED = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])(?:\s*\.)?")


@dataclass(frozen=True)
class MathImage:
    png: bytes
    width: float  # points
    height: float  # points
    depth: float  # points below the baseline
    path: str = ""  # a file holding `png`, for reportlab's <img src> (which refuses data: URIs)


def normalise(tex: str) -> str:
    """LaTeX as mathtext reads it: aliases rewritten, whitespace collapsed."""
    tex = " ".join(tex.split())
    for pattern, replacement in _ALIASES:
        tex = pattern.sub(replacement, tex)
    return tex.strip()


def render_formula(tex: str, size: float) -> MathImage | None:
    """The formula as a PNG, or None when mathtext cannot draw it."""
    global _parser
    tex = normalise(tex)
    if not tex or len(tex) > MAX_FORMULA_CHARS or "$" in tex or "\\begin" in tex:
        return None
    import numpy as np
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser
    from PIL import Image

    prop = FontProperties(family="DejaVu Sans", size=size, math_fontfamily="dejavusans")
    result = None
    for attempt in (tex, _UNSIZED.sub("", tex)):
        try:
            with _PARSER_LOCK:
                if _parser is None:
                    _parser = MathTextParser("agg")
                result = _parser.parse(f"${attempt}$", dpi=DPI, prop=prop)
            break
        except Exception:  # a ValueError for bad TeX; never let a formula fail the document
            continue
    if result is None:
        return None
    image = np.asarray(result.image)
    if image.size == 0 or image.shape[0] < 1 or image.shape[1] < 1:
        return None
    # Dark text on a transparent background, so a tall formula never blanks out a neighbour.
    rgba = np.zeros(image.shape + (4,), dtype="uint8")
    rgba[..., :3] = (17, 24, 31)
    rgba[..., 3] = image
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG", compress_level=6)
    scale = 72.0 / DPI
    return MathImage(buffer.getvalue(), image.shape[1] * scale, image.shape[0] * scale, result.depth * scale)


class MathRenderer:
    """Renders formulas once per document into a private temporary folder; call `close()` after the build.

    reportlab's paragraph `<img src>` reads a file name (it refuses data: URIs unless hosts
    are trusted process-wide), so each formula is written once as a small PNG file.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, float], MathImage | None] = {}
        self._folder: str | None = None

    def image(self, tex: str, size: float) -> MathImage | None:
        key = (tex, size)
        if key not in self._cache:
            image = render_formula(tex, size)
            if image is not None:
                if self._folder is None:
                    self._folder = tempfile.mkdtemp(prefix="qagen-math-")
                path = os.path.join(self._folder, f"m{len(self._cache)}.png")
                with open(path, "wb") as handle:
                    handle.write(image.png)
                image = MathImage(image.png, image.width, image.height, image.depth, path)
            self._cache[key] = image
        return self._cache[key]

    def close(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> MathRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def count(self) -> int:
        return sum(1 for value in self._cache.values() if value is not None)

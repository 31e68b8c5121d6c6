"""Making arbitrary text safe for reportlab's paragraph mini-markup.

Everything that reaches a `Paragraph` goes through `esc`: control characters, lone
surrogates and non-characters are dropped, and '<', '>', '&' and quotes are escaped, so
text that looks like HTML or XML prints as itself and can never break the document.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

_DROP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufeff\ufffe\uffff]")
_ENTITIES = {'"': "&quot;", "'": "&#39;"}


def clean(text: object) -> str:
    """Printable text: newlines kept, tabs as spaces, control and invalid characters dropped."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _DROP.sub("", text)


def esc(text: object, *, breaks: bool = True) -> str:
    """`text` as paragraph markup that prints literally; newlines become line breaks."""
    out = escape(clean(text), _ENTITIES)
    return out.replace("\n", "<br/>") if breaks else out.replace("\n", " ")


def shorten(text: object, limit: int) -> str:
    """Clean, single-line text cut to `limit` characters with an ellipsis."""
    flat = " ".join(clean(text).split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)].rstrip() + "…"


def first_words(text: object, words: int = 10, limit: int = 70) -> str:
    return shorten(" ".join(clean(text).split()[:words]), limit)


def number(value: object) -> float | None:
    """A finite number from a marks-like value (3, 2.5, "4"), else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return result if result == result and abs(result) != float("inf") else None


def fmt(value: object) -> str:
    """A number as printed on a paper: 4, 2.5."""
    parsed = number(value)
    return "" if parsed is None else f"{parsed:g}"


def marks_label(marks: object) -> str:
    parsed = number(marks)
    if parsed is None:
        return ""
    return f"{parsed:g} mark" + ("" if parsed == 1 else "s")


def items(value: object) -> list:
    """A list field that may arrive as None."""
    return list(value) if isinstance(value, (list, tuple)) else []

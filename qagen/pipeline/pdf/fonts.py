"""The DejaVu fonts that matplotlib ships, registered with reportlab once per process.

DejaVu covers Latin (with accents), Greek, Cyrillic and the common maths symbols, and
every font is embedded (subset), so no unembedded Helvetica is left in the file.
"""

from __future__ import annotations

import threading

SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
SANS_ITALIC = "DejaVuSans-Oblique"
SANS_BOLD_ITALIC = "DejaVuSans-BoldOblique"
MONO = "DejaVuSansMono"
MONO_BOLD = "DejaVuSansMono-Bold"
MONO_ITALIC = "DejaVuSansMono-Oblique"
MONO_BOLD_ITALIC = "DejaVuSansMono-BoldOblique"

_lock = threading.Lock()
_done = False


def register_fonts() -> None:
    """Register both families (idempotent, thread-safe)."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        base = f"{_matplotlib_data_path()}/fonts/ttf/"
        for name in (SANS, SANS_BOLD, SANS_ITALIC, SANS_BOLD_ITALIC, MONO, MONO_BOLD, MONO_ITALIC, MONO_BOLD_ITALIC):
            pdfmetrics.registerFont(TTFont(name, f"{base}{name}.ttf"))
        pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS_ITALIC,
                                      boldItalic=SANS_BOLD_ITALIC)
        pdfmetrics.registerFontFamily(MONO, normal=MONO, bold=MONO_BOLD, italic=MONO_ITALIC,
                                      boldItalic=MONO_BOLD_ITALIC)
        _done = True


def _matplotlib_data_path() -> str:
    """matplotlib.get_data_path() without importing matplotlib (~0.17 s, numpy with it): a
    paper without charts or formulas never needs it (docs/performance.md, cold start)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("matplotlib is needed for its DejaVu fonts")
    return str(Path(spec.origin).with_name("mpl-data"))

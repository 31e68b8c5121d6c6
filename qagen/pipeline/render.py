"""Render stage: an answered `Paper` in, PDF bytes out.

The implementation lives in the `qagen.pipeline.pdf` package; this module keeps the
stage's public name. All text is escaped before it reaches reportlab's mini-markup, so
'<', '&' and control characters in a paper or an answer can never break the document.
"""

from __future__ import annotations

from qagen.pipeline.pdf.render import PAGE_SIZES, page_size_of, render_pdf
from qagen.pipeline.pdf.text import esc as safe

__all__ = ["PAGE_SIZES", "page_size_of", "render_pdf", "safe"]

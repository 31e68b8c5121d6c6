"""The answers PDF (reportlab platypus): cover, overview, contents, questions and answers.

- `render.py`: `render_pdf`, the entry point (also importable from qagen.pipeline.render)
- `story.py`: what is printed; `markdown.py`: answer Markdown -> flowables
- `math.py`: $...$ formulas as images (matplotlib mathtext); `text.py`: escaping
- `layout.py`: page templates, header/footer, bookmarks, TOC entries; `styles.py`, `fonts.py`
"""

from qagen.pipeline.pdf.render import PAGE_SIZES, render_pdf

__all__ = ["PAGE_SIZES", "render_pdf"]

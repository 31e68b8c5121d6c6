"""Regenerate examples/sample-paper.pdf from sample-paper.txt (a plain, born-digital paper)."""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

here = Path(__file__).parent
import matplotlib  # noqa: E402  (only for its bundled DejaVu font)

pdfmetrics.registerFont(TTFont("DejaVuSans", f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf"))
canvas = Canvas(str(here / "sample-paper.pdf"), pagesize=A4, invariant=1)
y = A4[1] - 25 * mm
for line in (here / "sample-paper.txt").read_text().splitlines():
    canvas.setFont("DejaVuSans", 11)
    canvas.drawString(20 * mm, y, line)
    y -= 7 * mm
canvas.save()

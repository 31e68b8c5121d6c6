"""Regenerate examples/sample-paper.pdf from sample-paper.txt (a plain, born-digital paper)."""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

here = Path(__file__).parent
import matplotlib  # noqa: E402  (only for its bundled DejaVu font)

pdfmetrics.registerFont(TTFont("DejaVuSans", f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf"))
canvas = Canvas(str(here / "sample-paper.pdf"), pagesize=A4, invariant=1)
y = A4[1] - 25 * mm
width = A4[0] - 40 * mm
for line in (here / "sample-paper.txt").read_text().splitlines():
    canvas.setFont("DejaVuSans", 11)
    # A long question wraps under its own text, as a typed paper does (hanging indent after "10. ").
    number = line.split(" ", 1)[0] if line[:1].isdigit() else ""
    indent = stringWidth(number + " ", "DejaVuSans", 11) if number else 0
    for k, piece in enumerate(simpleSplit(line, "DejaVuSans", 11, width - indent) or [""]):
        canvas.drawString(20 * mm + (indent if k else 0), y, piece)
        y -= 7 * mm
canvas.save()

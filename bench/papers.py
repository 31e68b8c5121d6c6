"""Papers the benchmarks submit: small PDFs built in memory (no reportlab, no fonts), salted.

A salt in every question keeps the answer cache (keyed by the question text) out of
the measurement when the same paper is sent again; it is made of letters and put before
the question, where the offline engine's maths never reads it.
"""

from __future__ import annotations

import os

QUESTIONS = [
    "State Newton's second law of motion. [2]",
    "Solve for x: {a}x + 3 = {b}. [2]",
    "Differentiate f(x) = x^3 + {a}x with respect to x. [3]",
    "Evaluate the integral of {a}x from 0 to 3. [3]",
    "Explain why the sky appears blue during the day. [3]",
    "A car travels {c} km in 2.5 hours. Find its average speed in km/h. [2]",
    "Simplify (x^2 - 9)/(x - 3). [2]",
    "The marks of five students are 12, 15, {a}, 18 and 14. Find their mean. [3]",
    "Draw a bar chart: Asha, Ben, Chen and Dev scored {b}, 15, 9 and 18 marks. [3]",
    "Plot the graph of y = x^2 - {a} for x from -4 to 4. [3]",
]


def _letters(salt: str) -> str:
    return "".join("bcdfghjkmnpqrstv"[int(ch, 16)] if ch in "0123456789abcdef" else "x" for ch in salt.lower())


def question_lines(count: int, salt: str = "") -> list[str]:
    lines = []
    for n in range(count):
        template = QUESTIONS[n % len(QUESTIONS)]
        a, b, c = n % 7 + 2, n % 5 + 11, 100 + 5 * n
        text = template.format(a=a, b=b, c=c)
        if salt:
            # Letters only, and before the question: a salt inside an equation ("= 12 (set 4e91)")
            # would be read as part of the maths by the offline engine and change the work.
            text = f"(ref {_letters(salt)}) {text}"
        lines.append(f"{n + 1}. {text}")
    return lines


def text_paper(count: int, salt: str = "") -> bytes:
    head = ["Greenfield School - Benchmark Examination", "Science and Mathematics", "Answer all questions.", ""]
    return ("\n".join(head + question_lines(count, salt)) + "\n").encode()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_paper(count: int, salt: str = "", pad_to: int = 0) -> bytes:
    """A born-digital PDF (Helvetica, A4, 34 lines a page) of `count` questions.

    `pad_to` adds an unreferenced stream of random bytes so the file is that many bytes
    (the API benchmark's 1 MB upload); readers ignore it.
    """
    lines = ["Greenfield School - Benchmark Examination", "Answer all questions.", ""] + question_lines(count, salt)
    pages = [lines[i:i + 34] for i in range(0, len(lines), 34)] or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]
    font_id = 3
    page_ids = []
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # the page tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for page in pages:
        ops = ["BT", "/F1 11 Tf", "14 TL", "56 790 Td"]
        for line in page:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        content = "\n".join(ops).encode("latin-1", "replace")
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        content_id = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font_id))
        page_ids.append(len(objects))
    kids = " ".join(f"{n} 0 R" for n in page_ids).encode()
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids)

    def assemble(extra: list[bytes]) -> bytes:
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects + extra, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref)
        return bytes(out)

    pdf = assemble([])
    if pad_to > len(pdf):
        overhead = len(assemble([b"<< /Length 0 >>\nstream\n\nendstream"]))
        size = max(0, pad_to - overhead - 8)
        pdf = assemble([b"<< /Length %d >>\nstream\n" % size + os.urandom(size) + b"\nendstream"])
        if len(pdf) != pad_to:  # the length's digit count moved the total by a byte or two
            size += pad_to - len(pdf)
            pdf = assemble([b"<< /Length %d >>\nstream\n" % size + os.urandom(size) + b"\nendstream"])
    return pdf

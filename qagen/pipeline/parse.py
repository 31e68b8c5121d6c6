"""Parse stage: bytes of an uploaded paper in, a structured `Paper` out.

Minimal reader for PDF (pdfplumber) and plain text; numbered questions are split out.
"""

from __future__ import annotations

import io
import re

from qagen.errors import EmptyFile, InputError, NoQuestionsFound, UnsupportedFileType
from qagen.model import Paper, Question

_QUESTION = re.compile(r"^\s*(?:Q(?:uestion)?\.?\s*)?(\d{1,3})\s*[.)]\s+(\S.*)$", re.IGNORECASE)
_MARKS = re.compile(r"[\[(]\s*(\d+(?:\.\d+)?)\s*(?:marks?|m)?\s*[\])]\s*$", re.IGNORECASE)


def _pdf_text(data: bytes, max_pages: int) -> str:
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > max_pages:
                raise InputError(f"The PDF has {len(pdf.pages)} pages; the limit is {max_pages}.")
            return "\n".join(page.extract_text() or "" for page in pdf.pages)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"The PDF could not be read ({type(exc).__name__}); it may be corrupt or truncated.") from exc


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def split_questions(text: str) -> Paper:
    lines = [line.rstrip() for line in text.splitlines()]
    preamble: list[str] = []
    questions: list[Question] = []
    for line in lines:
        match = _QUESTION.match(line)
        expected = str(len(questions) + 1)
        if match and match.group(1) == expected:
            questions.append(Question(number=match.group(1), text=match.group(2).strip()))
        elif questions and line.strip():
            questions[-1].text += " " + line.strip()
        elif line.strip():
            preamble.append(line.strip())
    for question in questions:
        marks = _MARKS.search(question.text)
        if marks:
            question.marks = float(marks.group(1))
            question.text = question.text[: marks.start()].rstrip()
    if not questions:
        words = len(text.split())
        raise NoQuestionsFound(f"Read {words} words of text but found no numbered questions (1., 2., ...).")
    title = preamble[0] if preamble else "Question paper"
    return Paper(title=title, questions=questions, instructions=" ".join(preamble[1:]))


def parse(data: bytes, filename: str = "", *, max_pages: int = 60) -> Paper:
    if not data:
        raise EmptyFile("The file is empty.")
    if data.startswith(b"%PDF-"):
        text = _pdf_text(data, max_pages)
    elif b"\x00" in data[:4096]:
        raise UnsupportedFileType("The file is neither a PDF nor text.")
    else:
        text = _text(data)
    return split_questions(text)

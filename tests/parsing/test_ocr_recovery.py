"""OCR text is noisy: edge marks, misread or unreadable question numbers. These rules only
ever apply to OCR'd lines, inside a numbering the rest of the paper validates."""

from __future__ import annotations

from qagen.documents.lines import Line, Segment
from qagen.documents.ocr import tsv_to_lines
from qagen.parsing.segment import segment


def _ocr(text: str, x0: float, top: float) -> Line:
    x1 = min(0.95, x0 + 0.011 * len(text))
    return Line(text=text, x0=x0, x1=x1, top=top, bottom=top + 0.015, height=0.015,
                segments=[Segment(x0, x1, text)], positioned=True, ocr=True, col_left=0.08)


def _paper(lines: list[Line]):  # type: ignore[no-untyped-def]
    lines[0].page_top = True
    paper = segment(lines)
    assert paper is not None
    return paper


def test_a_misread_number_between_two_good_ones_is_recovered() -> None:
    lines = [_ocr("1. Define the moment of inertia of a body.", 0.08, 0.1),
             _ocr("2. State the parallel axis theorem.", 0.08, 0.15),
             _ocr("20. Derive the kinetic energy of rotation.", 0.08, 0.2),  # '3.' under a tick
             _ocr("4. Explain precession of a top.", 0.08, 0.25)]
    assert [q.number for q in _paper(lines).questions] == ["1", "2", "3", "4"]


def test_an_unreadable_number_in_a_hanging_paragraph_is_recovered() -> None:
    lines = [_ocr("1. Write the pdf of the geometric distribution.", 0.08, 0.10),
             _ocr("XX Give a Monte Carlo method to estimate pi. You are given", 0.07, 0.15),
             _ocr("access to uniform samples only.", 0.11, 0.18),
             _ocr("3. Derive the mean of an Erlang random variable.", 0.08, 0.22)]
    paper = _paper(lines)
    assert [q.number for q in paper.questions] == ["1", "2", "3"]
    assert paper.questions[1].text.startswith("Give a Monte Carlo method")


def test_a_lost_first_number_is_recovered() -> None:
    lines = [_ocr("1   What type of substances show antiferromagnetism?", 0.08, 0.10),
             _ocr("2. Express the relation between conductivity and molarity.", 0.08, 0.15),
             _ocr("3. Which has a higher enthalpy of adsorption?", 0.08, 0.20)]
    assert [q.number for q in _paper(lines).questions] == ["1", "2", "3"]


def test_tesseract_tsv_becomes_lines_without_edge_noise() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [header, "1\t1\t0\t0\t0\t0\t0\t0\t1000\t1400\t-1\t"]
    words = [("|", 5), ("5.", 100), ("Define", 140), ("work.", 240), ("2", 900)]
    for n, (word, left) in enumerate(words, 1):
        rows.append(f"5\t1\t1\t1\t1\t{n}\t{left}\t100\t{len(word) * 15}\t30\t91\t{word}")
    (line,) = tsv_to_lines("\n".join(rows), page=0)
    assert line.text == "5. Define work.   2"
    assert [s.text for s in line.segments] == ["5. Define work.", "2"]
    assert line.ocr and round(line.x0, 2) == 0.1


def test_a_full_stop_read_as_a_colon_still_numbers_the_question() -> None:
    lines = [_ocr("3. What is a file server?", 0.08, 0.10),
             _ocr("4:Full form of LCD.", 0.08, 0.15),
             _ocr("5. Define throughput.", 0.08, 0.20)]
    assert [q.number for q in _paper(lines).questions] == ["3", "4", "5"]

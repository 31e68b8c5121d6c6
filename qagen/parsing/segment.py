"""Turn cleaned lines into a `Paper`: numbering, sections, question blocks, marks."""

from __future__ import annotations

import bisect
import re
from dataclasses import replace

from qagen.model import Paper, PaperInFile, Section
from qagen.parsing import marks as M
from qagen.parsing.answers import drop_numbers_in_answers, given_answers, split_inline_answer, unnumbered_questions
from qagen.parsing.assign import Block, apply_counts, apply_rules, reconcile_total, trust_printed
from qagen.parsing.bilingual import Versions, drop_foreign_twins, leading_version, record_version
from qagen.parsing.checks import Findings, check
from qagen.parsing.closures import closing_totals, fill_from_closures
from qagen.parsing.convert import to_question
from qagen.parsing.gaps import fill_gaps, fill_skipped_numbers
from qagen.parsing.header import title_and_instructions
from qagen.documents.lines import Line
from qagen.parsing.numbering import (
    Candidate,
    Evidence,
    choose_numbering,
    find_candidates,
)
from qagen.parsing.papers import PaperStart, find_paper_starts, first_paper_title, header_lines
from qagen.parsing.pieces import Row, split_rows
from qagen.parsing.sections import Heading, find_headings
from qagen.parsing.tree import build_tree


def segment(lines: list[Line], notes: list[str] | None = None) -> Paper | None:
    """The paper's structure, or None when no question numbering is found.

    `notes` are the reader's remarks worth passing on as warnings ("OCR time budget used up").
    """
    texts = [line.text for line in lines]
    headings = find_headings(texts)
    breaks = sorted(
        {h.index for h in headings}
        | set(header_lines(lines))
        | {i for i, line in enumerate(lines) if line.page_top}
        | {i for i, t in enumerate(texts) if len(t) < 90 and M.product_rule(t)}
    )
    cands = find_candidates(lines)
    cands = sorted(cands + unnumbered_questions(lines, cands), key=lambda c: c.index)
    cands = drop_numbers_in_answers(cands, lines, set(breaks))
    versions = drop_foreign_twins(cands, lines)
    cands, skipped = versions.cands, versions.skipped
    chain = choose_numbering(lines, Evidence(breaks), cands)
    if not chain:
        return None
    chain = fill_gaps(chain, lines)
    chain = fill_skipped_numbers(chain, lines)
    chain = fill_from_closures(chain, lines)
    starts = [c.index for c in chain]
    section_heads = [h for h in headings if _is_section(h, starts, headings)]
    later_papers = find_paper_starts(lines, chain)
    blocks = _blocks(chain, section_heads, len(lines), [p.index for p in later_papers])
    first_head = min([h.index for h in section_heads if h.index < starts[0]], default=starts[0])
    head_lines = [i for i in range(starts[0]) if i not in skipped]
    title, instructions = title_and_instructions(lines, head_lines, first_head)
    paper_rules = M.Rules.parse(title + "\n" + instructions)
    sections = []
    for h in section_heads:
        end = next((s for s in starts if s > h.index), len(lines))
        sec_text = "\n".join(texts[i] for i in range(h.index + 1, end) if i not in skipped)
        total = (h.rule[2] or h.rule[0] * h.rule[1]) if h.rule else None
        sections.append(Section(name=h.name, instructions=sec_text, marks=total))
    answers = _given_answers(lines, blocks, skipped)
    block_of = [-1] * len(lines)
    for k, block in enumerate(blocks):
        for i in range(block.start, block.end):
            block_of[i] = k
    anchors = M.column_anchors(lines, block_of)
    questions = []
    for block in blocks:
        _split_leading_version(lines, block, versions)
        lead, rows = _rows(lines, block, skipped, anchors)
        inline = _inline_answers(rows)
        each = bool(re.match(r"^\s*each\b", rows[0].text, re.I)) if rows else False
        digits = {"num": ")", "numparen": ".", "bare": None}.get(block.cand.style, "any")
        built = build_tree(split_rows(rows, digits))
        if lead is not None:
            parts = [c for c in built.root.children if not c.alternative]
            # "10. 5 marks each": the marks apply to each of its parts
            built.root.marks = lead * len(parts) if each and parts else lead
        section = sections[block.section] if block.section is not None else None
        question = to_question(block.cand.label, built, section.name if section else None)
        question.translations = versions.translations.get(block.cand.index, [])
        question.given_answer = "\n".join(a for a in (*inline, answers.get(block.start)) if a) or None
        questions.append(question)
    printed = [q.marks for q in questions]
    apply_counts(questions, paper_rules)
    apply_rules(questions, blocks, section_heads, sections, paper_rules, texts)
    trust_printed(questions, printed, paper_rules, sections, blocks)
    header_text = "\n".join([title] + [texts[i] for i in head_lines])
    total = M.total_marks(header_text)
    if any(line.ocr for line in lines):
        reconcile_total(questions, total)
    stated = closing_totals(lines)
    for question in questions:
        if question.number.isdigit() and int(question.number) in stated:
            question.marks = stated[int(question.number)]
    paper = Paper(
        title=title,
        questions=questions,
        instructions=instructions,
        total_marks=total,
        sections=sections,
    )
    paper.papers = _papers_in_file(paper, blocks, later_papers, first_paper_title(lines, chain, title))
    findings = Findings(
        ocr_pages=sorted({line.page + 1 for line in lines if line.ocr}),
        translated=versions.languages - {""},
        unreadable_versions=versions.unreadable,
        given_answers=sum(q.given_answer is not None for q in questions),
        notes=[f"Reading the file: {note}." for note in notes or []],
    )
    paper.warnings, paper.confidence = check(paper, findings)
    return paper


def _split_leading_version(lines: list[Line], block: Block, versions: Versions) -> None:
    """A question printed in the other language first, then in Latin script under the same
    number: its text starts at the Latin version (bilingual.leading_version)."""
    k = leading_version(lines, block.start, block.end)
    if k is None:
        return
    texts = [block.cand.rest] + [lines[i].text for i in range(block.start + 1, k)]
    foreign = sum(lines[i].foreign for i in range(block.start, k))
    versions.skipped.update(range(block.start + 1, k))
    block.cand = replace(block.cand, rest="")
    record_version(versions, block.cand.index, texts, foreign)


def _given_answers(lines: list[Line], blocks: list[Block], skipped: set[int]) -> dict[int, str]:
    """Answers printed in the questions (answers.given_answers), by block start; their lines
    are left out of the questions' text."""
    found: dict[int, str] = {}
    for block in blocks:
        answer = given_answers(lines, block.start, block.end)
        if answer is not None:
            taken, found[block.start] = answer
            skipped.update(taken)
    return found


def _papers_in_file(paper: Paper, blocks: list[Block], later: list[PaperStart], first_title: str) -> list[PaperInFile]:
    """The papers when the file holds more than one (papers.find_paper_starts), else []."""
    if not later:
        return []
    firsts = [next(k for k, b in enumerate(blocks) if b.start == p.first_question) for p in later]
    bounds = [0, *firsts, len(blocks)]
    titles = [first_title, *(p.title for p in later)]
    totals = [paper.total_marks, *(p.total_marks for p in later)]
    return [PaperInFile(title=titles[k], first=bounds[k], count=bounds[k + 1] - bounds[k], total_marks=totals[k])
            for k in range(len(titles))]


def _is_section(h: Heading, starts: list[int], headings: list[Heading]) -> bool:
    k = bisect.bisect_left(starts, h.index) - 1
    if k < 0 or not h.is_part:
        return True
    if h.first_label:
        return False
    block_end = starts[k + 1] if k + 1 < len(starts) else 10**9
    earlier = [g for g in headings if g.is_part and starts[k] < g.index < h.index < block_end]
    return not earlier


def _blocks(chain: list[Candidate], heads: list[Heading], n_lines: int, paper_starts: list[int]) -> list[Block]:
    head_idx = [h.index for h in heads]
    blocks = []
    for k, cand in enumerate(chain):
        end = chain[k + 1].index if k + 1 < len(chain) else n_lines
        cut = sorted(i for i in head_idx + paper_starts if cand.index < i < end)
        if cut:
            end = cut[0]
        sec = bisect.bisect_right(head_idx, cand.index) - 1
        blocks.append(Block(cand, cand.index, end, sec if sec >= 0 else None))
    return blocks


def _inline_answers(rows: list[Row]) -> list[str]:
    """Answers printed on the questions' own lines (answers.split_inline_answer), taken out."""
    found = []
    for row in rows:
        row.text, answer = split_inline_answer(row.text)
        if answer:
            found.append(answer)
    return found


def _rows(lines: list[Line], block: Block, skipped: set[int], anchors: list[float]) -> tuple[float | None, list[Row]]:
    rows = []
    for i in range(block.start, block.end):
        if i in skipped and i != block.start:
            continue
        value, line = M.column_marks(lines[i], anchors)
        text = line.text
        if i == block.start:
            text = block.cand.rest
            removed = lines[i].text[len(line.text):].strip()
            if value is not None and text.endswith(removed):
                text = text[: len(text) - len(removed)].rstrip()
        if value is None:
            value, text = row_trailing_marks(text)
        rows.append(Row(text=text, marks=value, page_top=lines[i].page_top))
    lead = None
    if rows:
        lead, rows[0].text = M.leading_marks(rows[0].text)
    return lead, rows


def row_trailing_marks(text: str) -> tuple[float | None, str]:
    value, stripped = M.trailing_product(text)
    if value is not None:
        return value, stripped
    value, stripped = M.trailing_marks(text)
    if value is None:
        return None, text
    tail = text[len(stripped):]
    explicit = "[" in tail or re.search(r"[A-Za-z]", tail)
    if explicit or (len(stripped.split()) >= 3 and "=" not in stripped[-30:]):
        return value, stripped
    return None, text



"""Course notes -> chunks: one document's bytes become heading-aware passages to index.

    chunks = chunk_document(data, "notes.pdf")

Every file is read by `qagen.documents`, the reader papers go through too (type from the
content, never the name; the sandbox, zip-bomb checks and page limits): PDF (text layer per
page, OCR for scanned pages) and DOCX (headings from paragraph styles) become sections in
`qagen.knowledge.headings`; text and Markdown are split on their headings in
`qagen.knowledge.markdown`. Image files are refused (a scanned PDF is read by OCR).

A chunk is one heading's section, or part of it: roughly 120-350 words, never across a
page boundary, with a short overlap between consecutive chunks of the same section. Small
neighbouring sections on the same page are merged under their common heading. The text of
a chunk is the document's own text (Markdown kept as written; HTML comments, bare HTML tag
lines and image-only lines dropped), so a quote taken from a chunk occurs in the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qagen.knowledge.errors import (
    EmptyKnowledgeDocument,
    KnowledgeDocumentError,
    KnowledgeTooLarge,
    NoExtractableText,
    UnreadableKnowledgeDocument,
    UnsupportedKnowledgeDocument,
)
from qagen.knowledge.sections import Block, Section

MAX_WORDS = 350
MIN_WORDS = 120
OVERLAP_WORDS = 40
DEFAULT_MAX_CHUNKS = 20_000
MAX_NOTE_PAGES = 500  # pages of one notes file (a paper's limit is QAGEN_MAX_PAGES); a textbook fits
HEADING_SEPARATOR = " > "


@dataclass(frozen=True)
class Chunk:
    """A passage of one document: where it is (page, heading path) and its text."""

    document: str
    page: int | None
    heading: str
    text: str


def chunk_document(data: bytes, filename: str, *, max_chunks: int = DEFAULT_MAX_CHUNKS,
                   max_pages: int = MAX_NOTE_PAGES) -> list[Chunk]:
    """Split one knowledge document into chunks; raise a `KnowledgeDocumentError` if it can't be.

    The file is read by `qagen.documents`, and in a process that configured the sandbox (the
    worker) the whole of it, reading and splitting, runs in a child with bounded memory and
    time: hostile notes fail with a message, as hostile papers do.
    """
    from qagen.documents.sandbox import bounded
    from qagen.errors import InputError

    name = filename or "document"
    try:
        return bounded(_chunk_document, data, name, max_chunks=max_chunks, max_pages=max_pages)
    except KnowledgeDocumentError:
        raise
    except InputError as exc:  # the reader's own errors (damaged, encrypted, a bomb, too long, ...)
        raise UnreadableKnowledgeDocument(f"{name} could not be read as course notes: {exc}") from exc


def _chunk_document(data: bytes, name: str, *, max_chunks: int, max_pages: int) -> list[Chunk]:
    from qagen.documents import IMAGE, TEXT, check_text_bounds, read_document, sniff_kind
    from qagen.errors import EmptyFile, UnsupportedFileType

    try:
        kind = sniff_kind(data)
    except EmptyFile as exc:
        raise EmptyKnowledgeDocument(f"{name} is empty: it has no text to use as course notes.") from exc
    except UnsupportedFileType as exc:
        raise UnsupportedKnowledgeDocument(
            f"{name} is not a document qagen can read as course notes (its content is not a PDF, "
            "a .docx or readable text). Upload a text PDF, a .docx or a text/Markdown file."
        ) from exc
    if kind == IMAGE:
        raise UnsupportedKnowledgeDocument(
            f"{name} is an image: images of notes are not supported; upload a PDF, DOCX or text file."
        )
    if kind == TEXT:
        from qagen.documents.text import decode
        from qagen.knowledge.markdown import markdown_sections, normalise

        text = decode(data)
        check_text_bounds(text, max_pages)
        sections = markdown_sections(normalise(text))
    else:
        from qagen.knowledge.headings import document_sections

        sections = document_sections(read_document(data, max_pages=max_pages))
    if not any(s.words for s in sections):
        raise NoExtractableText(
            f"No text could be extracted from {name} (its pages are blank, or images that OCR could not read). "
            "Upload a PDF with selectable text, a DOCX or a text file."
        )
    chunks: list[Chunk] = []
    for group in _merge_small(sections):
        for text in _pack(group.blocks):
            chunks.append(Chunk(document=name, page=group.page, heading=HEADING_SEPARATOR.join(group.path), text=text))
            if len(chunks) > max_chunks:
                raise too_large(name, max_chunks)
    return chunks


def too_large(name: str, max_chunks: int) -> KnowledgeTooLarge:
    return KnowledgeTooLarge(
        f"{name} is too large for one knowledge base: it would need more than {max_chunks:,} chunks "
        f"(of up to {MAX_WORDS} words each). Split it, or upload only the chapters the paper covers."
    )


# --- packing ---------------------------------------------------------------------------

# A sentence ends at . ! ? before a capital, digit or opening mark, or at a danda (।, ॥),
# which ends a Hindi sentence whatever follows (Devanagari has no capitals).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'*_`$])|(?<=[।॥])\s+")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences (keeps each sentence's own words and punctuation)."""
    parts = _SENTENCE_END.split(text.strip())
    out: list[str] = []
    for part in parts:
        if out and re.search(r"\b(e\.g|i\.e|et al|etc|vs|cf|Fig|Eq|No|Dr|Mr|Ms|Prof)\.$", out[-1]):
            out[-1] = f"{out[-1]} {part}"
        elif part.strip():
            out.append(part.strip())
    return out


def _common_path(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    common = []
    for x, y in zip(a, b):
        if x != y:
            break
        common.append(x)
    return tuple(common)


def _merge_small(sections: list[Section]) -> list[Section]:
    """Merge runs of small sections on the same page under their common heading path."""
    merged: list[Section] = []
    for section in sections:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.page == section.page
            and last.words < MIN_WORDS
            and last.words + section.words <= MAX_WORDS
            and (_common_path(last.path, section.path) or not last.path)
        ):
            heading = [Block(section.heading_line)] if section.heading_line else []
            last.blocks.extend(heading + section.blocks)
            last.path = _common_path(last.path, section.path) if last.path else section.path[:0]
            continue
        merged.append(Section(page=section.page, path=section.path, blocks=list(section.blocks)))
    return merged


def _split_block(block: Block) -> list[Block]:
    """Break a block longer than MAX_WORDS into pieces at sentence (prose) or line (code) ends."""
    if block.words <= MAX_WORDS:
        return [block]
    units = block.text.split("\n") if block.code else split_sentences(block.text)
    pieces: list[Block] = []
    current: list[str] = []
    count = 0
    for unit in units:
        words = len(unit.split())
        if words > MAX_WORDS:  # a run-on "sentence": cut by words
            tokens = unit.split()
            for start in range(0, len(tokens), MAX_WORDS):
                if current:
                    pieces.append(Block(("\n" if block.code else " ").join(current), block.code))
                    current, count = [], 0
                pieces.append(Block(" ".join(tokens[start:start + MAX_WORDS]), block.code))
            continue
        if count + words > MAX_WORDS and current:
            pieces.append(Block(("\n" if block.code else " ").join(current), block.code))
            current, count = [], 0
        current.append(unit)
        count += words
    if current:
        pieces.append(Block(("\n" if block.code else " ").join(current), block.code))
    return pieces


def _overlap(block: Block) -> Block | None:
    """The tail of a prose block (whole sentences, up to OVERLAP_WORDS) to repeat in the next chunk."""
    if block.code:
        return None
    tail: list[str] = []
    count = 0
    for sentence in reversed(split_sentences(block.text)):
        words = len(sentence.split())
        if count + words > OVERLAP_WORDS:
            break
        tail.insert(0, sentence)
        count += words
    return Block(" ".join(tail)) if tail else None


def _pack(blocks: list[Block]) -> list[str]:
    pieces = [piece for block in blocks for piece in _split_block(block)]
    chunks: list[list[Block]] = []
    current: list[Block] = []
    carried = False  # current[0] repeats the end of the previous chunk
    count = 0
    for piece in pieces:
        if current and count + piece.words > MAX_WORDS and not (carried and len(current) == 1):
            chunks.append(current)
            carry = _overlap(current[-1])
            carried = bool(carry and carry.words + piece.words <= MAX_WORDS)
            current = [carry] if carried and carry else []
            count = sum(b.words for b in current)
        current.append(piece)
        count += piece.words
    fresh = current[1:] if carried else current
    if fresh:
        words = sum(b.words for b in fresh)
        # A short tail joins the previous chunk when that keeps it reasonably sized.
        if chunks and words < MIN_WORDS // 2 and sum(b.words for b in chunks[-1]) + words <= MAX_WORDS + MIN_WORDS // 2:
            chunks[-1].extend(fresh)
        else:
            chunks.append(current)
    return ["\n\n".join(b.text for b in chunk) for chunk in chunks]

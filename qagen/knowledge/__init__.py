"""Knowledge bases: course notes chunked and indexed (BM25) so answers can cite them.

    from qagen.knowledge import KnowledgeIndex, chunk_document
    chunks = chunk_document(data, "notes.pdf")            # + more documents' chunks
    index = KnowledgeIndex.build(chunks)
    passages = index.search(question_text, k=5)          # -> list[Passage], best first
    blob = index.to_bytes(); KnowledgeIndex.from_bytes(blob)

Errors for bad documents are `qagen.errors.InputError` subclasses from
`qagen.knowledge.errors`. Importing this package is cheap: numpy, bm25s and the document
readers (`qagen.documents`, shared with papers) load only when used.
"""

from __future__ import annotations

from qagen.knowledge.chunking import Chunk, chunk_document
from qagen.knowledge.errors import (
    EmptyKnowledgeDocument,
    IndexFormatError,
    KnowledgeDocumentError,
    KnowledgeTooLarge,
    NoExtractableText,
    UnreadableKnowledgeDocument,
    UnsupportedKnowledgeDocument,
)
from qagen.knowledge.index import KnowledgeIndex, Passage

__all__ = [
    "Chunk",
    "EmptyKnowledgeDocument",
    "IndexFormatError",
    "KnowledgeDocumentError",
    "KnowledgeIndex",
    "KnowledgeTooLarge",
    "NoExtractableText",
    "Passage",
    "UnreadableKnowledgeDocument",
    "UnsupportedKnowledgeDocument",
    "chunk_document",
]

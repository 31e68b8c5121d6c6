"""Errors raised while reading course notes into a knowledge base.

Every input problem is a `qagen.errors.InputError` (the user must fix the file), and the
message says what to do. Where a general qagen error already exists for the same problem
(`EmptyFile`, `UnsupportedFileType`), the knowledge error also subclasses it, so code that
catches the general one keeps working.
"""

from __future__ import annotations

from qagen.errors import EmptyFile, InputError, QagenError, UnsupportedFileType


class KnowledgeDocumentError(InputError):
    """Base of every problem with an uploaded knowledge document (course notes)."""


class EmptyKnowledgeDocument(KnowledgeDocumentError, EmptyFile):
    """Raised when a knowledge document has no bytes (or only whitespace)."""


class UnsupportedKnowledgeDocument(KnowledgeDocumentError, UnsupportedFileType):
    """Raised when a knowledge document is not a text PDF, a .docx or a text/Markdown file."""


class UnreadableKnowledgeDocument(KnowledgeDocumentError):
    """Raised when a document's bytes are damaged, encrypted or otherwise cannot be opened."""


class NoExtractableText(KnowledgeDocumentError):
    """Raised when a document opened fine but holds no text to index (e.g. a scanned PDF)."""


class KnowledgeTooLarge(KnowledgeDocumentError):
    """Raised when a document (or a whole knowledge base) would exceed the chunk limit."""


class IndexFormatError(QagenError):
    """Raised when stored index bytes are not a valid qagen knowledge index.

    Not an InputError: the bytes come from our own storage, so this means corruption or a
    format change, and the index should be rebuilt from its documents.
    """

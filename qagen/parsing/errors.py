"""Input errors specific to reading documents; all are `qagen.errors.InputError`s."""

from __future__ import annotations

from qagen.errors import InputError


class EncryptedPDF(InputError):
    """Raised when a PDF needs a password to open."""


class CorruptFile(InputError):
    """Raised when a file's bytes are damaged or truncated and cannot be read."""


class TooManyPages(InputError):
    """Raised when a document has more pages than the configured limit."""


class OCRUnavailable(InputError):
    """Raised when a document has only scanned pages and no OCR engine is installed."""


class TooComplex(InputError):
    """Raised when reading a file would take more memory or time than any question paper needs
    (decompression bombs, absurdly long lines, a file built to attack parsers)."""


class TooManyQuestions(InputError):
    """Raised when a paper has more questions than one job answers."""

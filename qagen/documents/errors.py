"""Input errors of reading an uploaded file (a paper or course notes); all are `qagen.errors.InputError`s."""

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
    """Raised when reading a file would take more memory or time than any paper or notes need
    (decompression bombs, absurdly long lines, a file built to attack parsers)."""


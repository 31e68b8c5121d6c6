"""Input errors about a paper's questions (reading the file itself: `qagen.documents.errors`)."""

from __future__ import annotations

from qagen.errors import InputError


class TooManyQuestions(InputError):
    """Raised when a paper has more questions than one job answers."""

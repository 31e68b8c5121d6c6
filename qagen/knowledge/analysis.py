"""Text -> index terms, shared by the index and the offline engine's sentence picking.

Lower-cased word tokens of two or more characters (bm25s's default pattern), English
stopwords removed, then stemmed with the Snowball English stemmer when PyStemmer is
installed. `ANALYZER` names the configuration; it is stored in every index so an index
built one way is never queried another way.
"""

from __future__ import annotations

import functools
import re
from typing import Callable

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_TOKEN = re.compile(TOKEN_PATTERN)


@functools.lru_cache(maxsize=1)
def _stemmer() -> Callable[[list[str]], list[str]] | None:
    try:
        import Stemmer  # PyStemmer
    except ImportError:
        return None
    return Stemmer.Stemmer("english").stemWords


@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def analyzer_name() -> str:
    """The name of the active analysis; an index refuses queries analysed differently."""
    return "en-stop+snowball" if _stemmer() else "en-stop"


def terms(text: str, *, stem: bool | None = None) -> list[str]:
    """The index terms of `text`, in order (repeats kept)."""
    stop = _stopwords()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    stemmer = _stemmer() if stem is not False else None
    if stem and stemmer is None:
        raise RuntimeError("Stemming was requested but PyStemmer is not installed.")
    return stemmer(words) if stemmer else words


def terms_for(analyzer: str, text: str) -> list[str]:
    """Terms of `text` analysed as `analyzer` (the name stored in an index)."""
    if analyzer == "en-stop":
        return terms(text, stem=False)
    if analyzer == "en-stop+snowball":
        return terms(text, stem=True)
    raise ValueError(f"Unknown analyzer {analyzer!r}.")


# Exam instruction words: they say what to do, not what the question is about. Words that
# are also subject terms ("list", "state", "point", "note") are deliberately not here.
QUESTION_WORDS = frozenset(
    """
    what which who whom whose why how when where whether explain define definition describe
    discuss write give name find show prove derive justify illustrate outline mention
    briefly brief short detail detailed suitable example examples answer answers question
    questions following given mark marks please using use used elaborate enumerate
    identify compare comment
    """.split()
)


def question_terms(analyzer: str, question: str) -> list[str]:
    """Terms of a question for searching: instruction words dropped unless nothing else is left."""
    all_terms = terms_for(analyzer, question)
    instruction = set(terms_for(analyzer, " ".join(sorted(QUESTION_WORDS))))
    topical = [t for t in all_terms if t not in instruction]
    return topical or all_terms

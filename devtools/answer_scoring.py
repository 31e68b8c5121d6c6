"""Scoring one answer against an evaluation case: key facts, outcomes, verbatim citations.

Pure functions (no engine, no files) so the rules can be read and tested on their own:

- `normalise_answer` removes Markdown and LaTeX markup, so "**FIFO**" and "$x = 4$" read
  as "fifo" and "x = 4".
- `states(text, wording)`: the wording occurs with no letter or digit directly before or
  after it (nor a decimal point and digit: "2" is not in "2.5"); a wording of digits and
  symbols ("x = 4") also matches with the spaces next to symbols, and between a number and the
  letter it multiplies ("9 x"), removed.
- `outcome(...)`: "right", "wrong" or "silent" for a case that expects an answer; "right"
  or "wrong" for one that expects none (see OUTCOMES).
- `quote_in(page_text, excerpt)`: a citation's excerpt occurs in its page, whitespace
  normalised (an excerpt cut short with " …" is compared without the ellipsis).
"""

from __future__ import annotations

import re
import unicodedata

OUTCOMES = ("right", "wrong", "silent")

_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_LATEX_COMMAND = re.compile(r"\\(?:left|right|displaystyle|mathrm|text|operatorname|,|;|!|quad)\b|\\[,;! ]")
_DASHES = dict.fromkeys(map(ord, "\u2212\u2013\u2014\u2010\u2011"), "-")
_QUOTES = {ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201c"): '"', ord("\u201d"): '"'}


def normalise_answer(text: str) -> str:
    """Lower-cased text with Markdown/LaTeX markup removed and whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "").translate(_DASHES).translate(_QUOTES)
    previous = None
    while previous != text:
        previous, text = text, _LATEX_FRAC.sub(r"(\1)/(\2)", text)
    text = re.sub(r"\(\s*([\w.]+)\s*\)/\(\s*([\w.]+)\s*\)", r"\1/\2", text)  # (3)/(4) -> 3/4
    text = re.sub(r"\\(?:cdot|times)", " × ", text).replace("\\%", "%")
    text = _LATEX_COMMAND.sub(" ", text)
    text = re.sub(r"\\(?=[a-zA-Z])", "", text)  # \sqrt -> sqrt, \pi -> pi
    text = re.sub(r"[$*_`]|\[\d+(?:,\s*\d+)*\]", " ", text)  # markup and citation tags [1]
    text = text.replace("{", "").replace("}", "")
    return " ".join(text.lower().split())


def _symbolic(wording: str) -> bool:
    return not re.search(r"[^\W\d_]{2,}", wording)  # no word of two letters or more


def states(text: str, wording: str) -> bool:
    """Whether the (normalised) answer text states this wording of a key fact."""
    needle = normalise_answer(wording)
    if not needle:
        return False
    pattern = rf"(?<![^\W_])(?<!\d[.,]){re.escape(needle)}(?![^\W_])(?![.,]\d)"
    if re.search(pattern, text):
        return True
    if _symbolic(needle):
        squeezed, needle_squeezed = _squeeze(text), _squeeze(needle)
        return re.search(rf"(?<![^\W_.]){re.escape(needle_squeezed)}(?![^\W_]|[.,]\d)", squeezed) is not None
    return False


def _squeeze(text: str) -> str:
    """Spaces next to symbols removed: "x = 4" -> "x=4", words stay apart."""
    text = re.sub(r"\s*([^\w\s])\s*", r"\1", text)
    return re.sub(r"(?<=\d) (?=[^\W\d_])", "", text)  # "9 x" -> "9x": a coefficient and its variable


def missing_facts(answer_text: str, key_facts: list[list[str]]) -> list[list[str]]:
    """The key facts (each a list of accepted wordings) that the answer does not state."""
    text = normalise_answer(answer_text)
    return [fact for fact in key_facts if not any(states(text, wording) for wording in fact)]


def outcome(expect: str, answered: bool, missing: list[list[str]], choice_ok: bool = True) -> str:
    """"right", "wrong" or "silent" for one case (`expect` as in the case file, already
    resolved for the engine: an offline engine's "needs_model" case expects no answer)."""
    if expect == "answer":
        if not answered:
            return "silent"
        return "right" if not missing and choice_ok else "wrong"
    return "wrong" if answered else "right"


def normalise_space(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").replace("\u00ad", "").replace("\x02", "")
    return " ".join(text.split())


def quote_in(page_text: str, excerpt: str) -> bool:
    """Whether a citation's excerpt occurs verbatim (whitespace normalised) in its page's text."""
    needle = (excerpt or "").rstrip()
    if needle.endswith("…"):
        needle = needle[:-1]
    needle = normalise_space(needle)
    return bool(needle) and needle in normalise_space(page_text)

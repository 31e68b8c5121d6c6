"""Which script a text is written in, and the language that script most often writes.

A question paper printed in two languages is told apart by script (Latin beside
Devanagari, Bengali, Arabic, ...), so the language of a translation is named from its
script: Devanagari is reported as Hindi, the language most papers in it are set in.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

# Unicode script (the first word of a letter's name) -> the language it most often writes.
_LANGUAGE_OF_SCRIPT = {
    "DEVANAGARI": "Hindi", "BENGALI": "Bengali", "GURMUKHI": "Punjabi", "GUJARATI": "Gujarati",
    "ORIYA": "Odia", "TAMIL": "Tamil", "TELUGU": "Telugu", "KANNADA": "Kannada",
    "MALAYALAM": "Malayalam", "SINHALA": "Sinhala", "ARABIC": "Arabic", "HEBREW": "Hebrew",
    "CYRILLIC": "Russian", "GREEK": "Greek", "THAI": "Thai", "HANGUL": "Korean",
    "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "CJK": "Chinese", "ETHIOPIC": "Amharic",
    "ARMENIAN": "Armenian", "GEORGIAN": "Georgian",
}


def is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and ord(ch) < 0x250


def _greek(ch: str) -> bool:
    return "\u0370" <= ch <= "\u03ff"


def other_script_letters(text: str) -> int:
    """Letters outside the Latin script; a Greek letter standing alone (λ, π) is maths."""
    count = 0
    for i, ch in enumerate(text):
        if not ch.isalpha() or ord(ch) < 0x250:
            continue
        if _greek(ch) and not (i and _greek(text[i - 1])) and not (i + 1 < len(text) and _greek(text[i + 1])):
            continue
        count += 1
    return count


def script_of(text: str) -> str | None:
    """The non-Latin script most of the text's non-Latin letters belong to, else None."""
    scripts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha() and ord(ch) >= 0x250:
            name = unicodedata.name(ch, "")
            if name:
                scripts[name.split()[0]] += 1
    return scripts.most_common(1)[0][0] if scripts else None


def language_of(text: str) -> str:
    """The language a non-Latin text is most likely in ("Hindi" for Devanagari), or ""."""
    script = script_of(text)
    if script is None:
        return ""
    return _LANGUAGE_OF_SCRIPT.get(script, script.title())

"""Text -> index terms, shared by the index and the offline engine's sentence picking.

Lower-cased word tokens of two or more characters, English stopwords removed, then
stemmed with the Snowball English stemmer when PyStemmer is installed. A word is letters,
digits and underscores together with the combining marks that belong to its letters, so
Devanagari "कतार" is one word, not "कत" and "र" (analyzers named "uni-..."; the older
analyzers, which split at combining marks as bm25s's pattern `\b\w\w+\b` does, stay
readable so stored indexes keep working). The analyzer's name is stored in every index so
an index built one way is never queried another way.

`term_weights` says how specific each term of a text is, from how often its word occurs
in general language (wordfreq's Zipf scale), not from the knowledge base, so a one-document
base judges relevance as a fifty-document one does: "queue" outweighs "principle", which
outweighs "one".
"""

from __future__ import annotations

import functools
import re
from typing import Callable

TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # the older analyzers' (bm25s's default)
_TOKEN = re.compile(TOKEN_PATTERN)
UNICODE_TOKEN_PATTERN = r"[\p{L}\p{N}_][\p{L}\p{M}\p{N}_]+"
ANALYZERS = ("uni-en-stop+snowball", "uni-en-stop", "en-stop+snowball", "en-stop")

# Specificity of a word = MAX_ZIPF - its Zipf frequency, clipped to [MIN_WEIGHT, MAX_WEIGHT].
# Zipf 7.7 is "the", 5 "standard", 3.8 "queue", 2 "dijkstra"; a word wordfreq does not know
# (a name, a code identifier, a word of another language) counts as specific (MAX_WEIGHT).
MAX_ZIPF = 8.0
MIN_WEIGHT, MAX_WEIGHT = 1.0, 6.0


@functools.lru_cache(maxsize=1)
def _unicode_token():
    import regex

    return regex.compile(UNICODE_TOKEN_PATTERN)


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
    return "uni-en-stop+snowball" if _stemmer() else "uni-en-stop"


def words(text: str, *, unicode_words: bool = True) -> list[str]:
    """The lower-cased words of `text` that are not stopwords, in order."""
    stop = _stopwords()
    found = _unicode_token().findall(text.lower()) if unicode_words else _TOKEN.findall(text.lower())
    return [w for w in found if w not in stop]


def terms(text: str, *, stem: bool | None = None, unicode_words: bool = True) -> list[str]:
    """The index terms of `text`, in order (repeats kept)."""
    found = words(text, unicode_words=unicode_words)
    stemmer = _stemmer() if stem is not False else None
    if stem and stemmer is None:
        raise RuntimeError("Stemming was requested but PyStemmer is not installed.")
    return stemmer(found) if stemmer else found


def terms_for(analyzer: str, text: str) -> list[str]:
    """Terms of `text` analysed as `analyzer` (the name stored in an index)."""
    if analyzer not in ANALYZERS:
        raise ValueError(f"Unknown analyzer {analyzer!r}.")
    return terms(text, stem=analyzer.endswith("+snowball"), unicode_words=analyzer.startswith("uni-"))


# Languages tried for a question in Latin script that is not mostly English words (wordfreq
# codes; "sh" is Serbo-Croatian: Croatian, Serbian, Bosnian). Scripts of their own name theirs.
LATIN_LANGUAGES = ("sh", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sv", "ro", "tr", "id", "fi", "hu")
_SCRIPTS = (("\u0900", "\u097f", "hi"), ("\u0980", "\u09ff", "bn"), ("\u0400", "\u04ff", "ru"),
            ("\u0600", "\u06ff", "ar"), ("\u0b80", "\u0bff", "ta"), ("\u0370", "\u03ff", "el"))


def _zipf(word: str, language: str, wordlist: str = "best") -> float:
    import warnings

    from wordfreq import zipf_frequency

    with warnings.catch_warnings():  # "hr" -> "sh" is announced as a warning
        warnings.simplefilter("ignore")
        return zipf_frequency(word, language, wordlist=wordlist)


def language_of(found: list[str]) -> str:
    """The wordfreq language of a text's words: by script, else English if most words are
    English, else the Latin-script language that knows the most of them."""
    for low, high, language in _SCRIPTS:
        if any(low <= c <= high for w in found for c in w):
            return language
    if not found:
        return "en"

    def known(language: str) -> float:
        # wordfreq's small lists (words above Zipf 3, ~5 MB each) suffice to tell languages apart;
        # the full lists (~40 MB each) are loaded only for English and the language found.
        return sum(_zipf(w, language, "small") > 0 for w in found) / len(found)

    english = known("en")
    if english >= 0.75 or not any(not w.isascii() for w in found) and english >= 0.5:
        return "en"
    best = max(LATIN_LANGUAGES, key=known)
    return best if known(best) > english else "en"


@functools.lru_cache(maxsize=65536)
def specificity(word: str, language: str = "en") -> float:
    """How specific a word is in general language: MAX_ZIPF - Zipf frequency, clipped."""
    zipf = _zipf(word, language)
    if zipf <= 0:
        return MAX_WEIGHT
    return min(MAX_WEIGHT, max(MIN_WEIGHT, MAX_ZIPF - zipf))


def term_weights(analyzer: str, text: str) -> dict[str, float]:
    """Each term of `text` (as `analyzer` makes them) with the specificity of its most specific
    word, in the text's language (`language_of`)."""
    found = words(text, unicode_words=analyzer.startswith("uni-"))
    stems = terms_for(analyzer, " ".join(found)) if found else []
    weights: dict[str, float] = {}
    if len(stems) != len(found):  # a stemmer never splits or joins words; be safe if one did
        return {t: MAX_WEIGHT for t in stems}
    language = language_of(found)
    for word, term in zip(found, stems):
        weights[term] = max(weights.get(term, 0.0), specificity(word, language))
    return weights


# Exam instruction words: they say what to do, not what the question is about. Words that
# are also subject terms ("list", "state", "point", "note") are deliberately not here.
QUESTION_WORDS = frozenset(
    """
    what which who whom whose why how when where whether explain define definition describe
    discuss write give name find show prove derive justify illustrate outline mention
    briefly brief short detail detailed suitable example examples answer answers question
    questions following given mark marks please using use used elaborate enumerate
    identify compare comment
    various different each own word words your them its does do
    one two three four five six seven eight nine ten several
    distinguish differentiate contrast meant mathematically happen happens briefly between among
    """.split()
)

# Facet words: they name the aspect of a topic a question asks about ("the principle of a
# queue", "applications of stacks", "stages of the water cycle"), not the topic, and notes
# seldom use the same word for it ("works on the FIFO rule", "used in"). Left out of search
# terms and of what a question is about, like instruction words.
FACET_WORDS = frozenset(
    """
    principle principles application applications advantage advantages disadvantage
    disadvantages merit merits demerit demerits feature features characteristic
    characteristics property properties type types kind kinds role importance significance
    purpose purposes limitation limitations working concept concepts stage stages step steps
    meaning difference differences similarity similarities cause causes term terms
    """.split()
)


# Verbs that are instructions when they open a sentence of a question ("State the rule ...",
# "List three ...") but subject words elsewhere ("the state of a process", "a linked list").
_LEADING_INSTRUCTION = re.compile(r"(^|[.?!;:]\s+|\n\s*)(?:state|list|name|give|mention|note|write\s+down|point\s+out)\b",
                                  re.I)


def question_terms(analyzer: str, question: str) -> list[str]:
    """Terms of a question for searching: instruction words dropped unless nothing else is left."""
    question = _LEADING_INSTRUCTION.sub(r"\1", question)
    all_terms = terms_for(analyzer, question)
    instruction = set(terms_for(analyzer, " ".join(sorted(QUESTION_WORDS | FACET_WORDS))))
    topical = [t for t in all_terms if t not in instruction]
    return topical or all_terms


def same_word(a: str, b: str) -> bool:
    """Two forms of one word in a language qagen does not stem: a shared opening of at least
    5 characters and 75% of the shorter ("atmosfere", "atmosferi"; "kapljice", "kapljica")."""
    if a == b:
        return True
    shared = 0
    for x, y in zip(a, b):
        if x != y:
            break
        shared += 1
    return shared >= 5 and shared >= 0.75 * min(len(a), len(b))


def key_term(weights: dict[str, float]) -> str | None:
    """A question's most specific term among words general language knows (a word wordfreq
    does not know, such as a code identifier or a typo, is not trusted to name the subject)."""
    known = {t: w for t, w in weights.items() if w < MAX_WEIGHT}
    return max(sorted(known), key=known.__getitem__) if known else None

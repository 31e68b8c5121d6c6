"""The lexical relevance floor: which chunks hold enough of a question to be passed on.

A chunk is relevant when it contains at least MIN_MATCHED_TERMS distinct query terms and
the query terms it contains carry MIN_WEIGHTED_COVERAGE of the query's weight, each term
weighted by how specific its word is in general language (analysis.term_weights,
wordfreq), never by the knowledge base's own statistics: so whether a passage is relevant
does not depend on how many other documents the base holds (a one-document base works as
a fifty-document one does). A chunk holding a single query term qualifies when that term
is the query's key term (its most specific) and the chunk's heading names it ("stacks" in
"Stacks > Uses"). Among relevant chunks BM25 ranks, and a chunk must reach
MIN_SHARE_OF_TOP of the best one's score.

For a question in a language qagen does not stem, a query term also matches the
inflected forms the notes use (`analysis.same_word`: "atmosferi" meets "atmosfere").
"""

from __future__ import annotations

import bisect
from typing import Any

from qagen.knowledge.analysis import key_term, language_of, same_word, terms_for, words

MIN_MATCHED_TERMS = 2
MIN_WEIGHTED_COVERAGE = 0.33
MIN_SHARE_OF_TOP = 0.25


def query_forms(weights: dict[str, float], query: str, vocab: dict[str, int],
                sorted_vocab: list[str]) -> dict[str, list[int]]:
    """Each query term's ids in the vocabulary: the term itself, and for a question not in
    English, the inflected forms of it the notes use."""
    forms = {t: [vocab[t]] for t in weights if t in vocab}
    if language_of(words(query)) == "en":
        return forms
    for term in weights:
        start = bisect.bisect_left(sorted_vocab, term[:5])
        for other in sorted_vocab[start:start + 200]:
            if not other.startswith(term[:5]):
                break
            if other != term and same_word(term, other):
                forms.setdefault(term, []).append(vocab[other])
    return forms


def relevant_chunks(weights: dict[str, float], forms: dict[str, list[int]], scores: dict[str, Any],
                    chunks: list, analyzer: str) -> Any:
    """A boolean array over the chunks: which pass the floor (see the module docstring).
    `scores` is bm25s's CSC score matrix (indptr, indices by term id)."""
    import numpy as np

    indptr, indices = scores["indptr"], scores["indices"]
    matched = np.zeros(len(chunks), dtype="int32")
    covered = np.zeros(len(chunks), dtype="float64")
    for term, group in forms.items():
        rows = np.unique(np.concatenate([indices[indptr[i]:indptr[i + 1]] for i in group]))
        matched[rows] += 1
        covered[rows] += weights[term]
    enough_terms = matched >= min(MIN_MATCHED_TERMS, len(weights))
    key = key_term(weights)
    if key in forms:
        for row in np.flatnonzero(~enough_terms & (matched == 1) & (covered >= weights[key])):
            enough_terms[row] = key in terms_for(analyzer, chunks[int(row)].heading)
    return enough_terms & (covered >= MIN_WEIGHTED_COVERAGE * sum(weights.values()))

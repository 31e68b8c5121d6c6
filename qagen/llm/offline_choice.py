"""Multiple-choice answers for the offline engine: the option the notes support, if one clearly is.

An option is chosen when a sentence about the question's subject states its whole wording
(two or more terms: "Last In First Out", not "an adjective"), or when its distinctive words
(those not shared by every option) co-occur with the question's words in a sentence that
names the question's subject, clearly more than any other option's. Otherwise none is
chosen: a guessed option costs a teacher more than an unanswered one.
"""

from __future__ import annotations

import re
from typing import Any

from qagen.knowledge.analysis import term_weights, terms_for
from qagen.llm.offline_sources import (
    OFFLINE_NOTE,
    Sentence,
    sentence_idf,
    about_subject,
    quote_of,
    read_sources,
    subject_key,
)
from qagen.llm.prompt import Prompt


def _phrase(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def _option_stated(prompt: Prompt, sentences: list[Sentence], about: set[int], analyzer: str):
    """The one option whose whole wording a sentence about the question's subject (`about`,
    indexes into `sentences`) states ("Last In First Out" in "A stack follows the Last In
    First Out rule"), or None."""
    found = {}
    for label, text in prompt.options:
        wording = _phrase(text)
        if len(set(terms_for(analyzer, text))) < 2:
            continue  # "an adjective" turns up in sentences about other things; a phrase must say more
        for i in sorted(about):
            if re.search(rf"(?<!\w){re.escape(wording)}(?!\w)", _phrase(sentences[i].text)):
                found[label] = (text, sentences[i])
                break
    return next(iter(found.items())) if len(found) == 1 else None


def option_reply(prompt: Prompt) -> dict[str, Any] | None:
    """The reply to a multiple-choice item from the sources, or None when nothing in them bears on it."""
    read = read_sources(prompt)
    if read is None:
        return None
    analyzer, sentences, wanted, _ = read
    return choose_option(prompt, sentences, wanted, analyzer)


def choose_option(prompt: Prompt, sentences: list[Sentence], wanted: set[str], analyzer: str) -> dict[str, Any]:
    specific = {t: w for t, w in term_weights(analyzer, prompt.question).items() if t in wanted}
    key = subject_key(prompt.question, specific, analyzer)
    stated = _option_stated(prompt, sentences, about_subject(sentences, specific, key), analyzer)
    if stated is not None:
        label, (text, sentence) = stated
        tag = prompt.sources[sentence.source].tag
        return {"status": "answered", "answer": f"**({label}) {text}**. The notes state it: {sentence.shown} [{tag}]",
                "choice": label,
                "citations": [{"source": tag, "quote": quote_of(sentence.text)}], "chart": None,
                "notes": [OFFLINE_NOTE + " The option was chosen because the notes state its wording."]}
    weights = sentence_idf(sentences, wanted)
    # Only sentences naming the question's subject can support an option ("the convoy effect";
    # a sentence on priority scheduling sharing "CPU" and "scheduling" with the question does not).
    about = about_subject(sentences, specific, key, share=1.01)
    sentences = [s for i, s in enumerate(sentences) if i in about]
    option_sets = [set(terms_for(analyzer, text)) for _, text in prompt.options]
    shared = set.intersection(*option_sets) if len(option_sets) > 1 else set()
    results = []
    wanted = wanted - shared
    for (label, text), terms in zip(prompt.options, option_sets):
        distinctive = terms - shared  # "distribution" in every option says nothing
        best, best_sentence = 0.0, None
        for s in sentences:
            if s.table or not distinctive:
                continue
            share = len(distinctive & s.terms) / len(distinctive)
            if share < 0.5:
                continue
            score = share * (1 + sum(weights.get(t, 0) for t in s.terms & wanted))
            if score > best:
                best, best_sentence = score, s
        results.append((best, label, text, best_sentence))
    results.sort(key=lambda r: -r[0])
    top = results[0]
    runner_up = results[1][0] if len(results) > 1 else 0.0
    if top[3] is None or top[0] < 1.5 or top[0] < 1.25 * runner_up:
        return {"status": "not_in_notes",
                "answer": "None of the options is clearly supported by the course notes that were found, "
                          "so the offline engine does not choose one.",
                "choice": None, "citations": [], "chart": None,
                "notes": ["No option could be matched to the notes; answer this item by hand or with a language model."]}
    _, label, text, sentence = top
    tag = prompt.sources[sentence.source].tag
    answer = f"**({label}) {text}**. The notes support this option: {sentence.shown} [{tag}]"
    return {"status": "answered", "answer": answer, "choice": label,
            "citations": [{"source": tag, "quote": quote_of(sentence.text)}],
            "chart": None, "notes": [OFFLINE_NOTE + " The option was chosen by word overlap with the notes."]}

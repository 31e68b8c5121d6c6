"""The offline engine: an in-process litellm custom provider, so qagen runs with no key and no network.

It never invents text. Without a source to quote it says so plainly.
"""

from __future__ import annotations

from typing import Any

import litellm

from qagen.llm.prompt import question_from_messages

PROVIDER = "qagen"

NO_SOURCE = (
    "No source was found for this question. The offline engine answers only from supplied "
    "course notes and does not invent text; attach notes or set QAGEN_MODEL to a language model."
)


def offline_answer(messages: list[dict[str, Any]]) -> str:
    question = question_from_messages(messages)
    if not question:
        return "The question text was empty, so there is nothing to answer."
    return NO_SOURCE


class OfflineEngine(litellm.CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> Any:
        model_response = kwargs["model_response"]
        model_response.choices[0].message.content = offline_answer(kwargs["messages"])
        return model_response

    async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
        return self.completion(*args, **kwargs)


def register() -> None:
    """Make `qagen/<anything>` model strings call the offline engine (idempotent)."""
    providers = [p for p in litellm.custom_provider_map if p.get("provider") != PROVIDER]
    providers.append({"provider": PROVIDER, "custom_handler": OfflineEngine()})
    litellm.custom_provider_map = providers

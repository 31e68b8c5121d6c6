"""The offline engine as a litellm custom provider: `litellm.completion(model="qagen/offline", ...)`.

The answer stage calls the engine directly (`qagen.llm.offline.offline_answer`) and never
imports litellm for it (qagen.llm.loading). This adapter is for code that goes through
litellm whatever the model (the parse check's call, the tests of the engine as a provider):
`qagen.llm.client` registers it whenever litellm is loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import litellm

from qagen.llm.offline import PROVIDER, offline_answer


class OfflineEngine(litellm.CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> Any:
        model_response = kwargs["model_response"]
        model_response.choices[0].message.content = offline_answer(kwargs["messages"])
        model_response.model = f"{PROVIDER}/{kwargs.get('model') or 'offline'}"
        return model_response

    async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
        # The maths runs in worker threads with a time budget; keep the event loop free meanwhile.
        return await asyncio.to_thread(self.completion, *args, **kwargs)

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield _chunk(offline_answer(kwargs["messages"]))

    async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        text = await asyncio.to_thread(offline_answer, kwargs["messages"])
        yield _chunk(text)


def _chunk(text: str) -> dict[str, Any]:
    return {"text": text, "is_finished": True, "finish_reason": "stop", "index": 0, "tool_use": None,
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def register() -> None:
    """Make `qagen/<anything>` model strings call the offline engine (idempotent)."""
    providers = [p for p in litellm.custom_provider_map if p.get("provider") != PROVIDER]
    providers.append({"provider": PROVIDER, "custom_handler": OfflineEngine()})
    litellm.custom_provider_map = providers

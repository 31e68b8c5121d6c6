"""Calling a model: one function over litellm, with the offline engine registered.

Importing this module imports and configures litellm (seconds): go through
`qagen.llm.loading.load()`, which imports it only for a model that needs it."""

from __future__ import annotations

from dataclasses import dataclass

import litellm

from qagen.errors import TransientError
from qagen.llm import offline_litellm
from qagen.settings import Settings

offline_litellm.register()
litellm.telemetry = False
litellm.suppress_debug_info = True  # no "Give Feedback" banners in worker logs on every retried 429

_TRANSIENT = (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError, litellm.ServiceUnavailableError,
              litellm.InternalServerError)


@dataclass(frozen=True)
class ModelClient:
    model: str
    api_base: str | None
    timeout_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelClient:
        return cls(model=settings.model, api_base=settings.llm_api_base, timeout_seconds=settings.llm_timeout_seconds)

    def complete(self, messages: list[dict[str, str]]) -> str:
        try:
            response = litellm.completion(
                model=self.model,
                messages=messages,
                api_base=self.api_base,
                timeout=self.timeout_seconds,
                max_retries=0,  # retries belong to one layer (ours), not the SDK as well
            )
        except _TRANSIENT as exc:
            raise TransientError(f"The model {self.model!r} is unavailable: {exc}") from exc
        return response.choices[0].message.content or ""

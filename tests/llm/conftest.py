"""Offline engine tests call it the way production does: litellm.completion(model="qagen/offline")."""

from __future__ import annotations

import os

# Read by litellm at import: never fetch the price map from the network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def litellm_offline():
    import litellm

    from qagen.llm import offline_litellm

    offline_litellm.register()
    return litellm

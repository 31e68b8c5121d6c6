"""QAGEN_MODEL and QAGEN_LLM_API_BASE send every question to a real HTTP model through litellm."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from tests.conftest import REPO
from devtools.llm_stub import running_stub


def test_qagen_answer_calls_an_openai_compatible_server_for_every_question(tmp_path):
    with running_stub() as base:
        env = {**os.environ, "QAGEN_MODEL": "openai/stub-model", "QAGEN_LLM_API_BASE": f"{base}/v1",
               "OPENAI_API_KEY": "sk-test"}
        result = subprocess.run(
            [sys.executable, "-m", "qagen.cli", "answer", "examples/sample-paper.txt", "-o", str(tmp_path / "a.pdf"),
             "--json", str(tmp_path / "a.json")], capture_output=True, text=True, cwd=REPO, env=env)
        stats = httpx.get(f"{base}/stats").json()

    assert result.returncode == 0, result.stderr
    assert stats["ok"] == 11
    first = json.loads((tmp_path / "a.json").read_text())["questions"][0]
    assert first["answer"]["text"] == "Stub model answer. The question was: State Newton's second law of motion."

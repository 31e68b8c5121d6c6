"""litellm in the background (qagen.llm.loading): started after the reader's fork, never across one."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_only_models_other_than_the_offline_engine_need_litellm():
    from qagen.llm.loading import needs_litellm

    assert not needs_litellm("qagen/offline")
    assert needs_litellm("openai/gpt-4o-mini") and needs_litellm("ollama/llama3")


def test_armed_the_import_starts_after_the_next_fork_and_load_waits_for_it():
    out = run(
        "import os, sys\n"
        "from qagen.llm import loading\n"
        "loading.load_in_background(after_fork=True)\n"
        "assert loading._thread is None and 'litellm' not in sys.modules  # nothing before the fork\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0 if loading._thread is None else 3)  # the child never imports it\n"
        "_, status = os.waitpid(pid, 0)\n"
        "assert os.waitstatus_to_exitcode(status) == 0\n"
        "assert loading._thread is not None and loading._thread.name == 'qagen-litellm-import'\n"
        "litellm = loading.load()\n"
        "assert loading.background_seconds() is not None and litellm.suppress_debug_info\n"
        "assert any(p['provider'] == 'qagen' for p in litellm.custom_provider_map)  # configured by qagen.llm.client\n"
        "print('ok')\n")
    assert out == "ok"


def test_a_fork_waits_for_an_import_in_progress():
    """A fork copies the import locks a thread holds mid-import: so it waits for the thread."""
    out = run(
        "import os\n"
        "from qagen.llm import loading\n"
        "loading.load_in_background()\n"
        "thread = loading._thread\n"
        "assert thread.is_alive()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    import litellm  # would hang on a lock copied mid-import\n"
        "    os._exit(0)\n"
        "alive_after_fork = thread.is_alive()\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(alive_after_fork, os.waitstatus_to_exitcode(status))\n")
    assert out == "False 0"


@pytest.mark.parametrize("model", ["qagen/offline", "openai/stub"])
def test_parsing_arms_the_import_only_for_a_model_behind_litellm_and_a_forking_reader(model):
    out = run(
        "import sys\n"
        "from qagen.documents import sandbox\n"
        "from qagen.llm import loading\n"
        "from qagen.pipeline.run import parse_paper\n"
        "from qagen.settings import Settings\n"
        "sandbox.configure(0, 60)\n"
        f"paper = parse_paper(b'T\\n\\n1. Define inertia. [2]\\n', 'p.txt', Settings(model={model!r}))\n"
        "assert len(paper.questions) == 1\n"
        "if loading._thread is not None:\n"
        "    loading.load()\n"
        "print(loading._thread is not None, 'litellm' in sys.modules)\n")
    assert out == ("False False" if model == "qagen/offline" else "True True")

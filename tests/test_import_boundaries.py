"""The API process stays light: it never imports the pipeline's heavy libraries; a worker
loads them in its pool processes when the first job needs them, not on its start-up path."""

from __future__ import annotations

import os
import subprocess
import sys

HEAVY = ("litellm", "seaborn", "matplotlib", "pdfplumber", "reportlab", "pypdfium2", "docx", "numpy", "bm25s")


def test_importing_and_building_the_api_loads_no_pipeline_library():
    code = (
        "import sys, api\n"
        "api.create_app()\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == ""


def test_loading_the_worker_app_and_its_tasks_loads_no_pipeline_library():
    """What a worker imports before it is ready to consume (docs/performance.md: cold start)."""
    code = (
        "import sys\n"
        "from worker.celery_app import app\n"
        "app.loader.import_default_modules()\n"
        "assert 'worker.tasks' in sys.modules and 'worker.recovery' in sys.modules\n"
        f"print(','.join(m for m in {HEAVY + ('sympy',)!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == ""


def test_importing_the_model_layer_never_touches_the_network():
    code = (
        "import sys\n"
        "events = []\n"
        "sys.addaudithook(lambda name, args: events.append(name) if name in ('socket.getaddrinfo', 'socket.connect') else None)\n"
        "import qagen.llm.client\n"
        "print(len(events))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)

    assert result.stdout.strip() == "0", result.stderr

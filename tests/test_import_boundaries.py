"""The API process stays light: it never imports the pipeline's heavy libraries; a worker
loads them in its pool processes when the first job needs them, not on its start-up path;
and a job loads only what it needs: litellm (seconds to import) never for the offline engine,
matplotlib and seaborn only for a chart or a formula (docs/performance.md, cold start)."""

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


def test_answering_a_paper_with_the_offline_engine_never_imports_litellm():
    """The offline engine is called directly (qagen.answering.engine); litellm is for other models."""
    code = (
        "import sys\n"
        "from qagen.pipeline.run import run_pipeline\n"
        "from qagen.settings import get_settings\n"
        "settings = get_settings()\n"
        "assert settings.model == 'qagen/offline'\n"
        "paper = b'Test\\n\\n1. State Newton\\'s second law of motion. [2]\\n2. Solve for x: 2x + 3 = 11. [2]\\n'\n"
        "result = run_pipeline(paper, 'p.txt', settings)\n"
        "assert result.pdf.startswith(b'%PDF') and result.paper.questions[1].answer.status == 'answered'\n"
        "print(','.join(m for m in ('litellm', 'openai', 'tiktoken', 'qagen.llm.client') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("QAGEN_MODEL", "QAGEN_PARSE_CHECK")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_a_paper_without_charts_or_formulas_is_typeset_without_matplotlib():
    """The fonts come from matplotlib's data folder, found without importing it (~0.2 s with numpy)."""
    code = (
        "import sys\n"
        "from qagen.model import Answer, Paper, Question\n"
        "from qagen.pipeline.render import render_pdf\n"
        "paper = Paper(title='T', questions=[Question(number='1', text='Define inertia.', marks=None,\n"
        "              answer=Answer(text='Inertia is the resistance of a body to a change in its motion.'))])\n"
        "assert render_pdf(paper, [], model='qagen/offline').startswith(b'%PDF')\n"
        "print(','.join(m for m in ('matplotlib', 'seaborn', 'numpy', 'sympy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""

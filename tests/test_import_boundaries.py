"""The API process stays light: it never imports the pipeline's heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("litellm", "seaborn", "matplotlib", "pdfplumber", "reportlab", "pypdfium2", "docx")


def test_importing_and_building_the_api_loads_no_pipeline_library():
    code = (
        "import sys, api\n"
        "api.create_app()\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == ""

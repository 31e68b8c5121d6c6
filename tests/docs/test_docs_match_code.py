"""What the README and docs/ tell a person to type exists in the code.

Every `QAGEN_*` variable they (and the deployment files) name is a setting (the settings'
env_prefix and aliases), a variable a click option of one of the repository's command lines
reads, or a development variable that tests, benchmarks or development tools read; the
README's configuration table states the settings' defaults; every `make X` is a Makefile
target; every `/api/...` path is a route of the app; every `qagen ...` command and option
exists; the walkthrough's curl commands send headers the API reads and form fields of the
routes' schemas, and its JSON uses the API's field names; the README's list of Debian
packages is the Makefile's.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from qagen.settings import ENV_PREFIX, Settings

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
    """The variables Settings reads: QAGEN_ + each field's name, upper-cased."""
    return {(ENV_PREFIX + name).upper() for name in Settings.model_fields}


def command_groups() -> list[click.Group]:
    """Every click command line of the repository: the console scripts pyproject.toml installs,
    and the `python -m MODULE` programs the Makefile and Procfiles run that are click groups."""
    import importlib
    import tomllib

    targets = list(tomllib.loads((REPO / "pyproject.toml").read_text())["project"].get("scripts", {}).values())
    runners = "\n".join((REPO / name).read_text() for name in ("Makefile", "Procfile", "Procfile.dev"))
    for module in sorted(set(re.findall(r"python -m ([A-Za-z_][\w.]*)", runners))):
        targets.append(f"{module}.__main__:main" if (REPO / module.replace(".", "/") / "__main__.py").exists()
                       else f"{module}:main")
    groups = []
    for target in targets:
        module, _, attribute = target.partition(":")
        try:
            found = getattr(importlib.import_module(module), attribute or "main", None)
        except ModuleNotFoundError:
            continue
        if isinstance(found, click.Command):
            groups.append(found)
    return groups


def cli_variables() -> set[str]:
    names: set[str] = set()

    def walk(command: click.Command, auto_prefix: str | None) -> None:
        auto_prefix = (command.context_settings or {}).get("auto_envvar_prefix", auto_prefix)
        for param in command.params:
            envvars = param.envvar if isinstance(param.envvar, (list, tuple)) else [param.envvar]
            names.update(v for v in envvars if v)
            if auto_prefix and isinstance(param, click.Option) and param.name:
                names.add(f"{auto_prefix}_{param.name.upper()}")
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                walk(sub, auto_prefix)

    for group in command_groups():
        walk(group, None)
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
    from qagen.cli import main

    assert main in command_groups()
    assert {"QAGEN_API_URL", "QAGEN_API_KEY"} <= cli_variables()


def test_setting_names_follow_the_settings_env_prefix():
    assert ENV_PREFIX == "QAGEN_"
    assert {"QAGEN_REDIS_URL", "QAGEN_MODEL", "QAGEN_PARSE_MEMORY_MB"} <= setting_variables()


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


# --- the README's configuration table -------------------------------------------------------

# Words the table uses for a default instead of a value.
_DEFAULT_WORDS = {"none": None, "empty": ""}


def configuration_table() -> list[tuple[list[str], list[str]]]:
    """(variables, defaults) of each row of the README's `| variable | default | meaning |` table."""
    readme = (REPO / "README.md").read_text()
    start = readme.index("| variable | default | meaning |")
    rows = []
    for line in readme[start:readme.index("\n\n", start)].splitlines()[2:]:
        variables, defaults = (cell.strip() for cell in line.strip("|").split("|")[:2])
        rows.append((re.findall(r"`(QAGEN_[A-Z0-9_]+)`", variables), [d.strip() for d in defaults.split(", ")]))
    return rows


def documented_default(field_name: str, text: str, previous_field: str | None):
    """The value a default cell stands for, typed as the setting is; `...` stands for any value."""
    from pydantic import TypeAdapter

    if text.startswith("`") and text.endswith("`"):
        return TypeAdapter(Settings.model_fields[field_name].annotation).validate_python(text.strip("`"))
    if text in _DEFAULT_WORDS:
        return _DEFAULT_WORDS[text]
    if text == "same":  # unset, so it falls back to the previous variable's value
        assert previous_field and Settings.model_fields[field_name].default is None
        return None
    if text == "dev values":  # development credentials; .env.example shows them
        return ...
    raise AssertionError(f"the table's default {text!r} for {field_name} is neither a `value` nor a known word")


def test_the_readme_configuration_table_states_the_settings_defaults():
    from pydantic import SecretStr

    rows = configuration_table()
    checked = 0
    for variables, defaults in rows:
        assert variables, f"a configuration row names no QAGEN_ variable: {defaults}"
        previous = None
        for k, variable in enumerate(variables):
            field_name = variable.removeprefix("QAGEN_").lower()
            assert field_name in Settings.model_fields, variable
            text = defaults[min(k, len(defaults) - 1)]  # the last default covers the remaining variables
            expected = documented_default(field_name, text, previous)
            actual = Settings.model_fields[field_name].default
            if isinstance(actual, SecretStr):
                actual = actual.get_secret_value()
            if expected is not ...:
                assert actual == expected, f"README says {variable} defaults to {text}; the setting's default is {actual!r}"
            previous, checked = field_name, checked + 1
    assert checked >= 10



def test_a_wrong_default_in_the_table_would_be_caught():
    assert documented_default("max_pages", "`61`", None) != Settings.model_fields["max_pages"].default
    assert documented_default("llm_timeout_seconds", "`120`", None) == Settings.model_fields["llm_timeout_seconds"].default
    with pytest.raises(AssertionError):
        documented_default("max_pages", "sixty", None)

# --- `qagen` commands -----------------------------------------------------------------------

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
# `qagen` at the start of a command: a line, after a prompt, a path (.venv/bin/qagen), `--`,
# `&&`, `;`, or a wide gap between commands written on one line.
_COMMAND = re.compile(r"(?:^|(?<=\$ )|(?<=/)|(?<=-- )|(?<=&& )|(?<=; )|(?<=\s\s))qagen ([a-z][\w-]*)((?: [^\s#]+)*)")


def shell_snippets(text: str) -> list[str]:
    """Inline code and the lines of shell (or unlabelled) code blocks, comments dropped."""
    snippets = []
    for fence in _FENCE.finditer(text):
        if fence.group(1) in ("", "sh", "bash", "shell", "console"):
            snippets += [line.split(" #")[0].strip() for line in fence.group(2).splitlines()]
    prose = _FENCE.sub("", text)
    snippets += re.findall(r"`([^`\n]+)`", prose)
    return snippets


def commands_in(text: str) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(command path, options) of every `qagen ...` command shown in a Markdown text."""
    found = set()
    for snippet in shell_snippets(text):
        for m in _COMMAND.finditer(snippet):
            words = [m.group(1), *m.group(2).split()]
            leading = []
            for word in words:
                if not re.fullmatch(r"[a-z][\w-]*", word):
                    break
                leading.append(word)
            options = tuple(re.sub(r"^\[|[=\]].*$", "", w) for w in words if re.match(r"\[?-", w))
            found.add((tuple(leading[:2]), options))
    return found


def unknown_commands(found: set[tuple[tuple[str, ...], tuple[str, ...]]]) -> set[str]:
    from qagen.cli import main

    wrong = set()
    for names, options in found:
        command: click.Command | None = main.commands.get(names[0])
        if isinstance(command, click.Group):
            command = command.commands.get(names[1]) if len(names) > 1 else None
        if command is None:
            wrong.add(" ".join(names))
            continue
        known_options = {"--help"} | {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        wrong |= {f"{command.name} {o}" for o in options if o not in known_options}
    return wrong


def test_every_qagen_command_and_option_the_docs_show_exists():
    shown = {path.relative_to(REPO): commands_in(path.read_text()) for path in PROSE}
    wrong = {str(where): unknown_commands(found) for where, found in shown.items() if unknown_commands(found)}

    assert {names[0] for found in shown.values() for names, _ in found} >= {
        "answer", "parse", "submit", "status", "sessions", "download", "keys"}
    assert wrong == {}


def test_a_wrong_command_or_option_would_be_caught():
    text = "Run `qagen submit paper.pdf --wiat` and then:\n\n```sh\n$ qagen keys mint school\nqagen stat X\n```\n"

    assert unknown_commands(commands_in(text)) == {"submit --wiat", "keys mint", "stat"}


# --- curl commands: request headers and form fields -----------------------------------------


def curl_commands() -> list[tuple[str, str]]:
    """(command, file) of every curl command in the README's and docs' shell blocks, continuations joined."""
    found = []
    for path in PROSE:
        for fence in _FENCE.finditer(path.read_text()):
            if fence.group(1) not in ("", "sh", "bash", "shell", "console"):
                continue
            joined = re.sub(r"\\\n\s*", " ", fence.group(2))
            # A command of its own, or one whose answer a variable keeps: `SESSION=$(curl ... | field session_id)`.
            found += [(line[line.index("curl "):].split(" #")[0], str(path.relative_to(REPO)))
                      for line in joined.splitlines() if re.match(r"\s*(?:\w+=\$\()?curl ", line)]
    return found


def headers_the_api_reads() -> set[str]:
    """Names in `request.headers.get(...)` / `request.headers[...]` under api/, constants resolved."""
    names = set()
    for path in (REPO / "api").glob("*.py"):
        source = path.read_text()
        constants = dict(re.findall(r'^([A-Z_]+)\s*=\s*"([^"]+)"', source, re.M))
        for argument in re.findall(r"request\.headers(?:\.get\(|\[)\s*([^,)\]]+)", source):
            argument = argument.strip()
            names.add(argument.strip("\"'") if argument[0] in "\"'" else constants.get(argument, argument))
    return {name.lower() for name in names}


def test_the_headers_curl_sends_in_the_docs_are_ones_the_api_reads():
    commands = curl_commands()
    read = headers_the_api_reads()
    sent = {(name, where) for command, where in commands for name in re.findall(r"-H ['\"]([\w-]+):", command)}

    assert {"authorization", "idempotency-key"} <= read
    assert len(commands) >= 5
    assert {(name, where) for name, where in sent if name.lower() not in read} == set()


def test_the_form_fields_curl_posts_in_the_docs_are_fields_of_the_routes_schema():
    from api.schemas import KnowledgeIn, UploadIn

    schemas = {"/api/v1/upload": UploadIn, "/api/v1/knowledge": KnowledgeIn}
    posted = 0
    for command, where in curl_commands():
        fields = re.findall(r"-F ['\"]?(\w+)=", command)
        if not fields:
            continue
        route = re.search(r"(/api/[\w/-]+)", command).group(1)
        assert route in schemas, f"{where}: a form posted to {route}"
        assert set(fields) <= set(schemas[route]().fields), (where, route, set(fields) - set(schemas[route]().fields))
        posted += 1
    assert posted >= 3


def test_the_json_the_readme_walkthrough_shows_uses_the_apis_field_names():
    """Responses, progress events and the webhook shown in comments carry only real field names."""
    import json

    from apiflask import Schema

    import api.schemas
    from qagen.webhooks.deliveries import event_for

    readme = (REPO / "README.md").read_text()
    start = readme.index("### An integrator's walkthrough")
    shown = set()
    for fence in _FENCE.finditer(readme[start:readme.index("\n### ", start + 1)]):
        for line in fence.group(2).splitlines():
            comment = line.partition("#")[2]
            if "{" in comment:
                shown |= set(re.findall(r'"(\w+)":', comment))

    fields = {name for schema in vars(api.schemas).values()
              if isinstance(schema, type) and issubclass(schema, Schema) for name in schema().fields}
    _, body = event_for({"session_id": "s", "status": "complete", "finished_at": None}, "tenant",
                        status_url="https://x/s", download_url="https://x/d")
    event = json.loads(body)
    webhook = set(event) | set(event["data"])

    assert {"session_id", "status_url", "knowledge_base_id", "secret", "progress", "type"} <= shown
    assert shown - fields - webhook == set()

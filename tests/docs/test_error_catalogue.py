"""docs/errors.md lists every error `code` the API can answer, with its status, and no other.

The codes are read from the source: every `ApiError(<status>, "<code>", ...)` in `api/`
(with `ast`: a status or code that is not a literal fails, since it could not be checked),
the generic code of each status (api/errors.py DEFAULT_CODES), apiflask's field validation
(`validation_error`), and the answers gunicorn itself gives (api/gunicorn_worker.py CODES).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = REPO / "docs" / "errors.md"
ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|", re.MULTILINE)


def raised_codes() -> dict[tuple[str, int], list[str]]:
    """(code, status) -> where an ApiError with them is made."""
    found: dict[tuple[str, int], list[str]] = {}
    for path in sorted((REPO / "api").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None))
                    == "ApiError"):
                continue
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            status, code = (node.args + [None, None])[:2]
            assert isinstance(status, ast.Constant) and isinstance(code, ast.Constant), \
                f"{where}: ApiError's status and code must be literals for the catalogue to be checked"
            found.setdefault((code.value, status.value), []).append(where)
    return found


def answered_codes() -> set[tuple[str, int]]:
    from api.errors import DEFAULT_CODES

    codes = set(raised_codes()) | {(code, status) for status, code in DEFAULT_CODES.items()}
    codes.add(("validation_error", 400))  # apiflask's own validation (api/errors.py)
    try:
        gunicorn_worker = importlib.import_module("api.gunicorn_worker")
    except ModuleNotFoundError:
        pass
    else:
        codes |= {(code, status) for status, code in gunicorn_worker.CODES.items()}
    return codes


def documented() -> dict[str, int]:
    rows = ROW.findall(CATALOGUE.read_text(encoding="utf-8"))
    codes = [code for code, _ in rows]
    assert len(codes) == len(set(codes)), f"a code is listed twice in docs/errors.md: {codes}"
    return {code: int(status) for code, status in rows}


def test_the_source_is_read():
    found = raised_codes()
    assert ("bad_cursor", 400) in found and ("not_found", 404) in found and ("too_many_streams", 429) in found


def test_every_code_the_api_answers_is_in_the_catalogue_with_its_status():
    listed = documented()
    missing = {f"{code} ({status})": raised_codes().get((code, status), ["generic"])
               for code, status in answered_codes() if listed.get(code) != status}
    assert not missing, f"add these to docs/errors.md (code, status, when, what to do): {missing}"


def test_the_catalogue_lists_no_code_the_api_never_answers():
    answered = answered_codes()
    extra = {code: status for code, status in documented().items() if (code, status) not in answered}
    assert not extra, f"docs/errors.md lists codes the API does not answer: {extra}"


def test_a_code_means_one_status():
    statuses: dict[str, set[int]] = {}
    for code, status in answered_codes():
        statuses.setdefault(code, set()).add(status)
    assert {code: s for code, s in statuses.items() if len(s) > 1} == {}

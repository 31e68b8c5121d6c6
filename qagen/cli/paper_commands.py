"""What the review's commands say and read, apart from the API (docs/review.md, docs/client.md).

The commands themselves (`qagen submit --review`, `qagen paper get|put|answer`) are in
client_commands.py with the other API commands, whose connection and error handling they
share; this module holds what needs no API: reading and checking a paper file, the
one-line summary of a paper, and the texts that say how to continue a review.

A file is checked with `qagen.paper_input.read_paper` (pydantic, in the base install), the
API's own rules, so an invalid file is refused, with every problem named, before anything
is sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from qagen.cli.outline import paper_outline
from qagen.model import Paper, answerable_items

PROMPT = ("Answer these questions? Edit them first with `qagen paper get/put {id}` in another terminal. "
          "[Enter to answer / Ctrl-C to leave it in review]")


def continue_hint(session_id: str) -> str:
    """What to run to check, correct and answer a session awaiting review."""
    return "\n".join([
        f"Session {session_id} is awaiting review: nothing is answered until you continue it.",
        f"  qagen paper get {session_id} -o paper.json    # the questions as JSON, to correct",
        f"  qagen paper put {session_id} paper.json       # store the corrected questions",
        f"  qagen paper answer {session_id} --wait        # answer them and download the PDF",
    ])


def load_paper_file(path: Path) -> dict[str, Any]:
    """The JSON of `path`, checked as an edited paper; a `ClickException` naming every problem otherwise."""
    from qagen.paper_input import PaperInvalid, read_paper

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path} is not UTF-8 text: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{path} is not valid JSON: {exc}") from exc
    try:
        read_paper(data)
    except PaperInvalid as exc:
        lines = [f"  {where}: {why}" for where, why in exc.problems.items()]
        raise click.ClickException("\n".join([f"{path} is invalid (nothing was sent):", *lines])) from exc
    return data


def paper_text(raw: dict[str, Any], output_format: str) -> str:
    """The API's paper JSON as `qagen paper get` prints it: the JSON unchanged, or the outline of `qagen parse`."""
    if output_format == "json":
        return json.dumps(raw, indent=2, ensure_ascii=False) + "\n"
    return paper_outline(Paper.from_dict(raw)) + "\n"


def describe(paper: Paper) -> str:
    """"11 questions, 14 items to answer, high confidence, 1 warning"."""
    count, items, warnings = len(paper.questions), len(answerable_items(paper)), len(paper.warnings)
    return (f"{count} question{'s' if count != 1 else ''}, {items} item{'s' if items != 1 else ''} to answer, "
            f"{paper.confidence} confidence, {warnings} warning{'s' if warnings != 1 else ''}")

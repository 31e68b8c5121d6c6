"""CLI commands that talk to a running qagen API through `qagen.client` (docs/client.md).

    qagen submit FILE [--knowledge ID] [--callback-url URL] [--wait] [-o OUT.pdf]
    qagen status ID [--json]       (with the parse's confidence and what to check, once parsed)
    qagen download ID [-o FILE]
    qagen sessions [--status S] [--limit N] [--json]
    qagen delete ID [ID...]        (the session's upload, PDF and answers; a running job stops)

The API comes from `--api-url`/`QAGEN_API_URL` and the key from `--api-key`/`QAGEN_API_KEY`.
Failures print the API's own message and exit 1. `register(main)` adds the commands
to the `qagen` group.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from qagen.cli.outline import parse_findings
from qagen.client import QagenAPIError, QagenClient, QagenClientError, SessionStatus, WaitTimeout

DEFAULT_API_URL = "http://127.0.0.1:8000"
STATUSES = ("queued", "running", "complete", "failed")


def api_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --api-url/--api-key (env fallbacks) and hands the command a connected `QagenClient` as `api`."""

    @click.option("--api-url", envvar="QAGEN_API_URL", default=DEFAULT_API_URL, show_default=True,
                  show_envvar=True, help="Where the qagen API runs.")
    @click.option("--api-key", envvar="QAGEN_API_KEY", show_envvar=True, help="Your API key (qk_...).")
    @functools.wraps(command)
    def wrapped(api_url: str, api_key: str | None, **kwargs: Any) -> Any:
        if not api_key:
            raise click.ClickException("No API key: pass --api-key or set QAGEN_API_KEY.")
        with _reporting_errors(), QagenClient(api_url, api_key) as api:
            return command(api=api, **kwargs)

    return wrapped


@contextmanager
def _reporting_errors() -> Iterator[None]:
    """The API's message, not a traceback, and exit status 1."""
    try:
        yield
    except QagenAPIError as exc:
        hint = f" Retry after {exc.retry_after:g} s." if exc.retry_after else ""
        raise click.ClickException(f"{exc.message}{hint} ({exc.status} {exc.code})") from exc
    except QagenClientError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from exc


@click.command()
@click.argument("paper", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--knowledge", "knowledge_base", metavar="ID", help="Ground the answers in this knowledge base.")
@click.option("--callback-url", metavar="URL", help="The API POSTs the finished session here.")
@click.option("--wait", is_flag=True, help="Show progress until done, then download the answered PDF.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to save the PDF (implies --wait; default: PAPER's folder, <stem>-answers.pdf).")
@click.option("--timeout", type=float, metavar="SECONDS", help="With --wait: give up after this long.")
@api_options
def submit(api: QagenClient, paper: Path, knowledge_base: str | None, callback_url: str | None, wait: bool,
           output: Path | None, timeout: float | None) -> None:
    """Upload PAPER to the qagen API; with --wait, follow it and download the answers."""
    job = api.upload(paper, knowledge_base=knowledge_base, callback_url=callback_url)
    if not (wait or output):
        click.echo(job.session_id)
        click.echo(f"Submitted {paper.name}: follow it with `qagen status {job.session_id}`.", err=True)
        return
    click.echo(f"Submitted {paper.name} as session {job.session_id}.", err=True)
    final = _wait_with_progress(api, job.session_id, timeout)
    if final.failed:
        raise click.ClickException(f"The job failed: {final.error or final.message}")
    target = api.download(job.session_id, output or paper.with_name(f"{paper.stem}-answers.pdf"))
    count = f" ({final.question_count} questions)" if final.question_count is not None else ""
    click.echo(f"Wrote {target}{count}.")
    if final.confidence is not None and (final.warnings or final.confidence != "high"):
        click.echo("\n".join(parse_findings(final.warnings or (), final.confidence)), err=True)


def _wait_with_progress(api: QagenClient, session_id: str, timeout: float | None) -> SessionStatus:
    """A progress bar with the stage and message on a terminal; one line per stage in logs."""
    stderr = click.get_text_stream("stderr")

    def describe(current: SessionStatus | None) -> str | None:
        if current is None:
            return None
        return f"{current.stage}: {current.message}" if current.message else current.stage

    def wait(on_progress: Callable[[SessionStatus], None]) -> SessionStatus:
        try:
            return api.wait(session_id, on_progress=on_progress, timeout=timeout)
        except WaitTimeout as exc:
            raise click.ClickException(f"{exc} It is still running: `qagen status {session_id}`.") from exc

    if not stderr.isatty():
        last_stage = [None]

        def log_line(current: SessionStatus) -> None:
            if current.stage != last_stage[0]:
                click.echo(f"[{current.progress:3d}%] {describe(current)}", err=True)
                last_stage[0] = current.stage

        return wait(log_line)

    with click.progressbar(length=100, label="Answering", item_show_func=describe, file=stderr,
                           show_eta=False) as bar:
        shown = [0]

        def advance(current: SessionStatus) -> None:
            step = max(0, min(100, current.progress) - shown[0])
            shown[0] += step
            bar.update(step, current)

        return wait(advance)


@click.command()
@click.argument("session_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the session exactly as the API returns it.")
@api_options
def status(api: QagenClient, session_id: str, as_json: bool) -> None:
    """Show the status of session ID."""
    current = api.status(session_id)
    if as_json:
        click.echo(json.dumps(dict(current.raw), indent=2, ensure_ascii=False))
        return
    click.echo(f"{current.session_id}  {current.status}  {current.progress}%  {current.stage}")
    for label, value in (("file", current.filename), ("message", current.message), ("error", current.error),
                         ("questions", current.question_count), ("knowledge base", current.knowledge_base_id),
                         ("confidence", current.confidence),
                         ("created", current.raw.get("created_at")), ("finished", current.raw.get("finished_at"))):
        if value not in (None, ""):
            click.echo(f"  {label + ':':<16}{value}")
    for index, warning in enumerate(current.warnings or ()):
        click.echo(f"  {'check:' if index == 0 else '':<16}{' '.join(warning.split())}")


@click.command()
@click.argument("session_id", metavar="ID")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="File (or folder) to save the answered PDF in.")
@api_options
def download(api: QagenClient, session_id: str, output: Path) -> None:
    """Download the answered PDF of session ID."""
    target = api.download(session_id, output)
    click.echo(f"Wrote {target}.")


@click.command()
@click.option("--status", "status_filter", type=click.Choice(STATUSES), help="Only sessions with this status.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many to show.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@api_options
def sessions(api: QagenClient, status_filter: str | None, limit: int, as_json: bool) -> None:
    """List your recent sessions, newest first."""
    found = list(itertools.islice(api.sessions(limit=limit, status=status_filter), limit))
    for item in found:
        if as_json:
            click.echo(json.dumps(dict(item.raw), ensure_ascii=False))
        else:
            created = item.raw.get("created_at") or ""
            click.echo(f"{item.session_id}  {item.status:<8} {item.progress:>3}%  {created:<24}  {item.filename or ''}"
                       f"{_findings_note(item)}")
    if not found and not as_json:
        click.echo("No sessions.", err=True)


@click.command()
@click.argument("session_ids", metavar="ID...", nargs=-1, required=True)
@api_options
def delete(api: QagenClient, session_ids: tuple[str, ...]) -> None:
    """Delete sessions: their record, upload, PDF and answers (a running job is stopped)."""
    for session_id in session_ids:
        api.delete_session(session_id)
        click.echo(f"Deleted {session_id}.")


def _findings_note(item: SessionStatus) -> str:
    """"  [low confidence, 2 warnings]" when the parse asks for a check; "" otherwise."""
    if item.confidence is None or (item.confidence == "high" and not item.warnings):
        return ""
    count = len(item.warnings or ())
    return f"  [{item.confidence} confidence" + (f", {count} warning{'s' if count != 1 else ''}" if count else "") + "]"


COMMANDS = (submit, status, download, sessions, delete)


def register(main: click.Group) -> None:
    """Add the API client commands to the `qagen` group."""
    for command in COMMANDS:
        main.add_command(command)

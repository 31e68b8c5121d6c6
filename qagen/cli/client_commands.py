"""CLI commands that talk to a running qagen API through `qagen.client` (docs/client.md).

    qagen submit FILE [--knowledge ID] [--callback-url URL] [--wait] [-o OUT.pdf]
    qagen submit FILE --review [--prompt/--no-prompt]   (stops after parsing: check the questions first)
    qagen submit FILE --direct                          (the file goes straight to the bucket)
    qagen paper get SESSION [-o FILE] [--format json|text]
    qagen paper put SESSION FILE   (checked here first: an invalid file is never sent)
    qagen paper answer SESSION [--wait] [-o OUT.pdf]
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

from qagen.cli.outline import paper_outline, parse_findings
from qagen.cli.paper_commands import PROMPT, continue_hint, describe, load_paper_file, paper_text
from qagen.client import QagenAPIError, QagenClient, QagenClientError, SessionStatus, WaitTimeout
from qagen.model import Paper

DEFAULT_API_URL = "http://127.0.0.1:8000"
STATUSES = ("queued", "running", "awaiting_review", "complete", "failed")


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
        details = "".join(f"\n  {line}" for line in detail_lines(exc.detail or {}))
        raise click.ClickException(f"{exc.message}{hint} ({exc.status} {exc.code}){details}") from exc
    except QagenClientError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from exc


def detail_lines(detail: Any, path: str = "", limit: int = 20) -> list[str]:
    """An error's `detail` (field paths to problems, perhaps nested) as `path: problem` lines, at most `limit`."""
    lines: list[str] = []

    def walk(value: Any, at: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{at}.{key}" if at else str(key))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            lines.append(f"{at}: {'; '.join(value)}")
        else:
            lines.append(f"{at}: {value}")

    walk(detail, path)
    return lines[:limit] + ([f"(and {len(lines) - limit} more)"] if len(lines) > limit else [])


@click.command()
@click.argument("paper", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--knowledge", "knowledge_base", metavar="ID", help="Ground the answers in this knowledge base.")
@click.option("--callback-url", metavar="URL", help="The API POSTs the finished session here.")
@click.option("--wait", is_flag=True, help="Show progress until done, then download the answered PDF.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to save the PDF (implies --wait; default: PAPER's folder, <stem>-answers.pdf).")
@click.option("--timeout", type=float, metavar="SECONDS", help="With --wait: give up after this long.")
@click.option("--review", is_flag=True,
              help="Stop after parsing and print the questions, to check (and correct) them before they are answered.")
@click.option("--prompt/--no-prompt", default=None,
              help="With --review: ask whether to answer now [default: when on a terminal], or leave it in review.")
@click.option("--direct", is_flag=True,
              help="Send the file straight to the bucket with a presigned form (docs/direct-uploads.md).")
@api_options
def submit(api: QagenClient, paper: Path, knowledge_base: str | None, callback_url: str | None, wait: bool,
           output: Path | None, timeout: float | None, review: bool, prompt: bool | None, direct: bool) -> None:
    """Upload PAPER to the qagen API; with --wait, follow it and download the answers.

    With --review the job stops once the paper is parsed: the questions are printed, and on
    a terminal you are asked whether to answer them; otherwise the session stays awaiting
    review for `qagen paper get/put/answer SESSION`."""
    job = api.upload(paper, knowledge_base=knowledge_base, callback_url=callback_url, review=review, direct=direct)
    if review:
        _review_then_answer(api, job.session_id, paper, output, timeout, prompt)
        return
    if not (wait or output):
        click.echo(job.session_id)
        click.echo(f"Submitted {paper.name}: follow it with `qagen status {job.session_id}`.", err=True)
        return
    click.echo(f"Submitted {paper.name} as session {job.session_id}.", err=True)
    follow_to_pdf(api, job.session_id, output or paper.with_name(f"{paper.stem}-answers.pdf"), timeout)


def follow_to_pdf(api: QagenClient, session_id: str, target: Path, timeout: float | None) -> None:
    """Show progress until the session is done, download its PDF to `target` (a file or folder), say what was found."""
    final = wait_with_progress(api, session_id, timeout)
    if final.failed:
        raise click.ClickException(f"The job failed: {final.error or final.message}")
    if final.awaiting_review:
        raise click.ClickException(f"Session {session_id} is awaiting review: answer it with "
                                   f"`qagen paper answer {session_id} --wait`.")
    written = api.download(session_id, target)
    count = f" ({final.question_count} questions)" if final.question_count is not None else ""
    click.echo(f"Wrote {written}{count}.")
    if final.confidence is not None and (final.warnings or final.confidence != "high"):
        click.echo("\n".join(parse_findings(final.warnings or (), final.confidence)), err=True)


def wait_with_progress(api: QagenClient, session_id: str, timeout: float | None,
                       label: str = "Answering") -> SessionStatus:
    """A progress bar with the stage and message on a terminal; one line per stage in logs.

    Returns when the session is complete, failed or awaiting review."""
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

    with click.progressbar(length=100, label=label, item_show_func=describe, file=stderr,
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
                         ("confidence", current.confidence), ("review", "yes" if current.review else None),
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


# -- review (docs/review.md): submit --review stops after parsing; `paper` checks, corrects, continues


def _review_then_answer(api: QagenClient, session_id: str, source: Path, output: Path | None, timeout: float | None,
                        prompt: bool | None) -> None:
    """`qagen submit --review`: wait for the parse, print the questions, then ask (on a terminal) or leave it in review."""
    click.echo(f"Submitted {source.name} as session {session_id} for review: it stops after parsing.", err=True)
    parsed = wait_with_progress(api, session_id, timeout, label="Parsing")
    if parsed.failed:
        raise click.ClickException(f"The job failed: {parsed.error or parsed.message}")
    target = output or source.with_name(f"{source.stem}-answers.pdf")
    if not parsed.awaiting_review:  # an API that does not know review answered it straight away
        click.echo("The API did not stop for review; the paper was answered.", err=True)
        follow_to_pdf(api, session_id, target, timeout)
        return
    click.echo(paper_outline(api.paper(session_id)))
    click.echo("")
    if prompt is None:
        prompt = click.get_text_stream("stdin").isatty() and click.get_text_stream("stderr").isatty()
    if not prompt:
        click.echo(continue_hint(session_id))
        return
    try:
        click.prompt(PROMPT.format(id=session_id), default="", show_default=False, prompt_suffix=" ", err=True)
    except click.Abort:  # Ctrl-C or the end of input: leave it for later
        click.echo("", err=True)
        click.echo(continue_hint(session_id))
        return
    api.answer(session_id)
    click.echo(f"Answering session {session_id}.", err=True)
    follow_to_pdf(api, session_id, target, timeout)


@click.group()
def paper() -> None:
    """Check and correct a session's parsed questions before they are answered (submit --review)."""


@paper.command("get")
@click.argument("session_id", metavar="SESSION")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here, not to stdout.")
@click.option("--format", "output_format", type=click.Choice(["json", "text"]), default="json", show_default=True,
              help="json: the API's paper, to edit and `put` back; text: an outline to read.")
@api_options
def paper_get(api: QagenClient, session_id: str, output: Path | None, output_format: str) -> None:
    """Print the parsed paper of SESSION (JSON by default, the shape `paper put` takes back)."""
    raw = api.paper_json(session_id)
    text = paper_text(raw, output_format)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output} ({describe(Paper.from_dict(raw))}).", err=True)


@paper.command("put")
@click.argument("session_id", metavar="SESSION")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@api_options
def paper_put(api: QagenClient, session_id: str, file: Path) -> None:
    """Replace the parsed paper of SESSION (awaiting review) with FILE, checked here first."""
    stored = api.put_paper(session_id, load_paper_file(file))
    click.echo(f"Stored the paper of session {session_id}: {describe(stored)}.")
    click.echo(f"Answer it with `qagen paper answer {session_id} --wait`.", err=True)


@paper.command("answer")
@click.argument("session_id", metavar="SESSION")
@click.option("--wait", is_flag=True, help="Show progress until done, then download the answered PDF.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Where to save the PDF, a file or a folder (implies --wait; default: the current folder).")
@click.option("--timeout", type=float, metavar="SECONDS", help="With --wait: give up after this long.")
@api_options
def paper_answer(api: QagenClient, session_id: str, wait: bool, output: Path | None, timeout: float | None) -> None:
    """Answer the (checked) paper of SESSION, which is awaiting review."""
    api.answer(session_id)
    if not (wait or output):
        click.echo(session_id)
        click.echo(f"Answering: follow it with `qagen status {session_id}`.", err=True)
        return
    click.echo(f"Answering session {session_id}.", err=True)
    follow_to_pdf(api, session_id, output or Path("."), timeout)


COMMANDS = (submit, status, download, sessions, delete, paper)


def register(main: click.Group) -> None:
    """Add the API client commands to the `qagen` group."""
    for command in COMMANDS:
        main.add_command(command)

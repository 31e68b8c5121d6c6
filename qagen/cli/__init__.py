"""The `qagen` command line (click). The client commands need only the base install."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from qagen.settings import get_settings


def extra_providing(module: str, requirements: list[str]) -> str | None:
    """The extra of qagen whose requirements bring `module` (`requirements` as importlib.metadata gives them)."""
    wanted = re.sub(r"[-_.]+", "-", module.split(".")[0]).lower()
    for line in requirements:
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", line)
        name = re.sub(r"[-_.]+", "-", re.split(r"[\s\[=<>!~;@]", line, maxsplit=1)[0]).lower()
        if extra and wanted in {name, name.removeprefix("python-"), name.removeprefix("py")}:
            return extra.group(1)
    return None


class QagenCommands(click.Group):
    """The base install is the client alone: a server-side command says which extra it needs."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            from importlib.metadata import PackageNotFoundError, requires

            try:
                extra = extra_providing(exc.name or "", requires("qagen") or [])
            except PackageNotFoundError:
                extra = None
            hint = f"pip install 'qagen[{extra}]'" if extra else "pip install 'qagen[api,worker]'"
            raise click.ClickException(
                f"This command needs {exc.name!r}, which the base install (the API client only) leaves out. "
                f"Install the server side too: {hint}") from exc


@click.group(cls=QagenCommands)
def main() -> None:
    """qagen: answers question papers."""


@main.command()
@click.argument("paper", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the PDF.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the result as JSON.")
@click.option("--knowledge", "knowledge_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Course notes to ground answers in: files or folders (PDF, DOCX, text, Markdown). Repeatable.")
@click.option("--paper", "edited", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Answer these questions (JSON, e.g. `qagen parse` or `qagen paper get` output, corrected) "
                   "instead of parsing PAPER; PAPER still names the output.")
def answer(paper: Path, output: Path | None, json_out: Path | None, knowledge_paths: tuple[Path, ...],
           edited: Path | None) -> None:
    """Answer PAPER in-process (no services needed) and write the answered PDF."""
    from qagen.answering.engine import AnswerEngine
    from qagen.errors import InputError, ModelError
    from qagen.pipeline.run import finish_paper, run_pipeline

    output = output or paper.with_name(paper.stem + "-answers.pdf")
    settings = get_settings()
    checked = _edited_paper(edited, settings.max_pages) if edited else None
    index = _local_index(knowledge_paths, settings) if knowledge_paths else None

    interactive = sys.stderr.isatty()
    last_stage = [""]

    def show(stage: str, percent: int, message: str = "") -> None:
        # One overwritten line on a terminal; one line per stage in logs.
        if interactive:
            click.echo(f"\r[{percent:3d}%] {stage}: {message}".ljust(70), nl=False, err=True)
        elif stage != last_stage[0]:
            click.echo(f"[{percent:3d}%] {stage}: {message}", err=True)
        last_stage[0] = stage

    try:
        engine = AnswerEngine.from_settings(settings, knowledge=index)
        if checked is not None:  # the questions as corrected: no parse
            result = finish_paper(checked, settings, show, engine)
        else:
            result = run_pipeline(paper.read_bytes(), paper.name, settings, show, engine)
    except (InputError, ModelError) as exc:
        if interactive:
            click.echo("", err=True)
        raise click.ClickException(str(exc)) from exc
    if interactive:
        click.echo("", err=True)
    output.write_bytes(result.pdf)
    if json_out:
        json_out.write_text(json.dumps(result.paper.to_dict(), indent=2, ensure_ascii=False))
    from qagen.pipeline.pdf.findings import answers_fact

    answered = answers_fact(result.paper)
    click.echo(f"Wrote {output} ({len(result.paper.questions)} questions"
               + (f"; answered {answered[1]}" if answered else "") + ").")
    if result.paper.warnings or result.paper.confidence != "high":
        from qagen.cli.outline import parse_findings

        click.echo("\n".join(parse_findings(result.paper.warnings, result.paper.confidence)), err=True)


def _edited_paper(path: Path, max_pages: int):  # type: ignore[no-untyped-def]
    """The paper of `--paper FILE`, checked as an API review's PUT is (qagen.paper_input)."""
    from qagen.paper_input import PaperInvalid, read_paper

    try:
        return read_paper(json.loads(path.read_text(encoding="utf-8")), max_pages=max_pages)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path} is not valid JSON: {exc}") from exc
    except PaperInvalid as exc:
        lines = [f"  {where}: {why}" for where, why in exc.problems.items()]
        raise click.ClickException("\n".join([f"{path} is invalid:", *lines])) from exc


def _local_index(paths: tuple[Path, ...], settings):  # type: ignore[no-untyped-def]
    """A knowledge index built in-process from files and folders; unreadable files are reported and skipped.

    With QAGEN_EMBEDDING_MODEL set the chunks are embedded too, as the index task does (the
    answer stage then searches hybrid, or BM25 if the server fails meanwhile); an embeddings
    server that is down or refuses stops here with its message, as it fails a base."""
    from qagen.errors import InputError
    from qagen.knowledge import KnowledgeIndex, chunk_document
    from qagen.knowledge.dense import EmbeddingError, EmbeddingUnavailable, Embedder, embed_chunks

    files = sorted({f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()})
    chunks = []
    for file in files:
        try:
            chunks.extend(chunk_document(file.read_bytes(), file.name))
        except InputError as exc:
            click.echo(f"Skipping {file}: {exc}", err=True)
    if not chunks:
        raise click.ClickException("None of the --knowledge files had readable text.")
    embeddings = None
    embedder = Embedder.from_settings(settings)
    if embedder is not None:
        try:
            embeddings = embed_chunks(embedder, chunks)
        except (EmbeddingUnavailable, EmbeddingError) as exc:
            raise click.ClickException(f"The notes could not be embedded: {exc}") from exc
    click.echo(f"Indexed {len(chunks)} passages from {len(files)} file(s)"
               f"{f', embedded with {embedder.model}' if embedder else ''}.", err=True)
    return KnowledgeIndex.build(chunks, embeddings=embeddings)


@main.command()
@click.argument("paper", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["json", "text"]), default="json", show_default=True)
def parse(paper: Path, output_format: str) -> None:
    """Print the structure of PAPER (questions, parts, options, marks, sections); see docs/schema.md."""
    from qagen.errors import InputError
    from qagen.parsing import parse_document

    try:
        result = parse_document(paper.read_bytes(), paper.name, max_pages=get_settings().max_pages)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        from qagen.cli.outline import paper_outline

        click.echo(paper_outline(result))


@main.group()
def keys() -> None:
    """Manage API keys."""


def _key_store():
    from qagen.apikeys import ApiKeyStore
    from qagen.redis_client import redis_from_settings

    return ApiKeyStore(redis_from_settings(get_settings()))


@keys.command("create")
@click.argument("tenant")
def keys_create(tenant: str) -> None:
    """Create an API key for TENANT (created if new) and print it; it is shown only once."""
    store = _key_store()
    new = not store.is_tenant(tenant)
    try:
        key = store.create(tenant)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if new:
        click.echo(f"Created tenant {tenant!r}.", err=True)
    click.echo(key)


@keys.command("list")
@click.option("--tenant", help="Only this tenant's keys.")
def keys_list(tenant: str | None) -> None:
    """List keys (id, tenant, created, and when a rotated key stops working); the keys themselves are never stored."""
    import time as _time

    for record in _key_store().list(tenant):
        created = _time.strftime("%Y-%m-%d %H:%M", _time.gmtime(record.created_at))
        ends = "" if record.expires_at is None else \
            f"  expires {_time.strftime('%Y-%m-%d %H:%M:%S', _time.gmtime(record.expires_at))} UTC"
        click.echo(f"{record.id}  {record.tenant}  {created} UTC{ends}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke the key with KEY_ID (the id shown by `keys list`, also inside the key: qk_<id>_...)."""
    if not _key_store().revoke(key_id):
        raise click.ClickException(f"No key with id {key_id!r}.")
    click.echo(f"Revoked {key_id}.")


@main.group()
def tenants() -> None:
    """Manage tenants: list them, delete one with everything it stored (docs/data.md)."""


@tenants.command("list")
def tenants_list() -> None:
    """List tenants (those that ever had a key)."""
    from qagen.apikeys import TENANTS

    for name in sorted(n.decode() for n in _key_store().client.smembers(TENANTS)):
        click.echo(name)


@tenants.command("delete")
@click.argument("tenant")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def tenants_delete(tenant: str, yes: bool) -> None:
    """Delete TENANT: its keys, sessions, knowledge bases, records and stored objects. Irreversible."""
    from qagen.apikeys import validate_tenant
    from qagen.lifecycle import delete_tenant

    try:
        validate_tenant(tenant)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if not yes:
        click.confirm(f"Delete tenant {tenant!r} and everything it stored? This cannot be undone", abort=True)
    redis, storage = _servers()
    done = delete_tenant(redis, storage, tenant)
    click.echo(f"Deleted tenant {tenant!r}: {done.keys} key(s), {done.sessions} session(s), "
               f"{done.knowledge_bases} knowledge base(s), {done.records} other record(s), {done.objects} object(s).")


@main.command()
@click.option("--grace", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Leave unreferenced objects younger than this (a write in flight). [default: 3600]")
@click.option("--dry-run", is_flag=True, help="Only report what would be removed.")
def sweep(grace: float | None, dry_run: bool) -> None:
    """Remove stored objects no live session or knowledge base references; check the bucket's expiry rule.

    Workers do this every QAGEN_SWEEP_INTERVAL_SECONDS; run it by hand or from a scheduler
    when no worker runs for long (docs/data.md)."""
    from qagen import lifecycle

    redis, storage = _servers()
    if not dry_run:
        rule = lifecycle.ensure_expiry_rule(storage, get_settings().session_ttl_seconds)
        click.echo(f"Expiry rule: {rule.outcome}: {rule.detail}", err=True)
    report = lifecycle.sweep(redis, storage, dry_run=dry_run,
                             grace_seconds=lifecycle.ORPHAN_GRACE_SECONDS if grace is None else grace)
    for key in report.deleted:
        click.echo(key)
    click.echo(("Would remove: " if dry_run else "Swept: ") + report.summary() + ".", err=True)


def _servers():
    from qagen.redis_client import redis_from_settings
    from qagen.storage import S3Storage

    settings = get_settings()
    return redis_from_settings(settings), S3Storage.from_settings(settings)


from qagen.cli.client_commands import register  # noqa: E402  (the API client's commands: submit, status, ...)

register(main)

from qagen.cli import tenant_commands  # noqa: E402  (tenants set/show, usage: docs/fairness.md, docs/usage.md)

tenant_commands.register(main, tenants)

from qagen.cli.lti_commands import lti  # noqa: E402  (qagen lti ...: LTI 1.3 registrations, docs/lti.md)

main.add_command(lti)

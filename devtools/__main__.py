"""`python -m devtools COMMAND`: the development commands (see devtools/__init__.py)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from qagen.settings import get_settings


@click.group()
def main() -> None:
    """qagen's development tools: the local stack, the demo, corpus evaluation."""


@main.command("run")
@click.argument("service", type=click.Choice(["redis", "s3", "web", "worker", "webhooks"]))
def run(service: str) -> None:
    """Run one service of the local stack in the foreground (used by Procfile.dev)."""
    from devtools.stack import StackLayout

    argv = StackLayout.from_settings(get_settings()).command(service)
    os.execvp(argv[0], argv)


@main.command("setup")
@click.option("--wait/--no-wait", default=True, help="Stay running after setup (honcho stops all when one exits).")
def setup(wait: bool) -> None:
    """Wait for the stack, create the bucket and a development API key, print how to use them."""
    from devtools.stack import prepare_stack

    layout_url, key = prepare_stack(get_settings())
    click.echo(f"\nqagen is up.\n  API:     {layout_url}\n  API key: {key}\n  Try:     curl -H 'Authorization: Bearer {key}' "
               f"-F file=@examples/sample-paper.pdf {layout_url}/api/v1/upload\n")
    while wait:
        time.sleep(3600)


@main.command()
@click.option("--paper", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=Path("examples/sample-paper.pdf"), show_default=True)
@click.option("--notes", type=click.Path(exists=True, path_type=Path), default=Path("examples/notes"),
              show_default=True, help="Course notes (a file or folder) to upload into a knowledge base first.")
@click.option("--no-notes", is_flag=True, help="Answer the paper without course notes.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True)
def demo(paper: Path, notes: Path, no_notes: bool, out_dir: Path) -> None:
    """Start the stack, upload the notes and answer PAPER through the API, save the PDF, print the signed URL, stop."""
    from devtools.demo import run_demo

    sys.exit(run_demo(paper, out_dir, notes=None if no_notes else notes))


@main.command("eval-parse", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def eval_parse(args: tuple[str, ...]) -> None:
    """The parser on the annotated corpus (arguments as `python -m devtools.evaluate_parsing --help`)."""
    from devtools.evaluate_parsing import main as evaluate

    sys.exit(evaluate(list(args)))


if __name__ == "__main__":
    main()

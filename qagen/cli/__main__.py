"""`python -m qagen.cli`: the same as the `qagen` command."""

from qagen.cli import main

main()

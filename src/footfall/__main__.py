"""`python -m footfall` is the `footfall` command."""

from footfall.cli.main import run

run()

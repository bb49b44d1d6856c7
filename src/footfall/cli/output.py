"""How commands talk to people and scripts.

With `--json` a command prints exactly one JSON object on stdout; otherwise a readable
table or key/value lines. Errors always go to stderr as one line, with exit status 1: a
JSON log line (as the server's logs) when `FOOTFALL_LOG_FORMAT=json`, so that a log
shipper reading a container's output parses a start-up error like any other line.

Data is never markup: every value (names and versions come from edge agents) is printed
as a `rich.text.Text`, so `[/]` or `[bold]` appear literally and cannot break a table.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import OperationalError, ProgrammingError

from footfall.config import ConfigError
from footfall.domain.sealing import SealError
from footfall.logs import json_line
from footfall.root import DatabaseURLError, NoDatabase, SecretKeyError
from footfall.services.errors import ServiceError

__all__ = ["emit", "emit_table", "fail", "reporting_errors"]

_console = Console()


def fail(message: str) -> NoReturn:
    if os.environ.get("FOOTFALL_LOG_FORMAT", "").strip().lower() == "json":
        print(json_line("footfall.cli", logging.ERROR, message), file=sys.stderr)
    else:
        print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(1)


def emit(data: Mapping[str, Any], *, as_json: bool, title: str | None = None) -> None:
    if as_json:
        print(json.dumps(data))
        return
    if title:
        _console.print(Text(title, style="bold"))
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        _console.print(Text(f"  {key.ljust(width)}  {value}"), highlight=False, soft_wrap=True)


def emit_table(key: str, rows: Sequence[Mapping[str, Any]], *, as_json: bool, empty: str) -> None:
    if as_json:
        print(json.dumps({key: list(rows)}))
        return
    if not rows:
        _console.print(Text(empty))
        return
    table = Table(show_header=True, header_style="bold", highlight=False)
    for column in rows[0]:
        table.add_column(Text(column))
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row.values()))
    _console.print(table)


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one clear line on stderr."""
    try:
        yield
    except (
        ServiceError,
        DatabaseURLError,
        NoDatabase,
        ConfigError,
        SecretKeyError,
        SealError,
    ) as exc:
        fail(str(exc))
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if "no such table" in text or ("does not exist" in text and "relation" in text):
            fail("the database has no Footfall schema yet: run `footfall init` first")
        fail(f"database error: {text.splitlines()[0]}")

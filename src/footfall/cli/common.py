"""Options and helpers shared by the `footfall` commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from footfall.cli.output import fail
from footfall.config import DEFAULT_DATABASE_URL
from footfall.root import Database, existing_database, new_database, schema_problem, settings_for

__all__ = ["AccountOption", "DbOption", "JsonOption", "open_db", "settings_for"]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///path or postgresql://user@host:port/db). "
        f"Default: $FOOTFALL_DATABASE_URL, else {DEFAULT_DATABASE_URL}.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
AccountOption = Annotated[int, typer.Option("--account", help="Account id.", min=1)]


@contextmanager
def open_db(db_url: str | None, *, migrated: bool = True) -> Iterator[Database]:
    """The database, checked to carry the current schema; with `migrated` False (`footfall
    init`), one that may not exist yet. A command that finds no database creates none."""
    url = settings_for(db_url).database_url
    db = existing_database(url) if migrated else new_database(url)
    try:
        problem = schema_problem(db) if migrated else None
        if problem is not None:
            fail(problem)
        yield db
    finally:
        db.dispose()

"""Options and helpers shared by the `footfall` commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from footfall.cli.output import fail
from footfall.config import DEFAULT_DATABASE_URL, Settings
from footfall.store.db import Database
from footfall.store.migrate import current_revision, head_revision

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


def settings_for(db_url: str | None) -> Settings:
    return Settings.from_env().with_database(db_url)


@contextmanager
def open_db(db_url: str | None, *, migrated: bool = True) -> Iterator[Database]:
    """The database, checked to carry the current schema unless `migrated` is False."""
    db = Database(settings_for(db_url).database_url)
    try:
        if migrated:
            current = current_revision(db)
            if current is None:
                fail(f"{db.url} has no Footfall schema yet: run `footfall init` first")
            if current != head_revision():
                fail(f"{db.url} is at schema {current}; run `footfall init` to upgrade it")
        yield db
    finally:
        db.dispose()

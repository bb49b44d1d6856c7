"""`footfall copy-database --to URL`: the whole installation into another (empty) database,
e.g. from the SQLite file to PostgreSQL (services/copy_database.py; docs/scaling.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from footfall.cli.common import DbOption, JsonOption, open_db
from footfall.cli.output import emit, fail, reporting_errors
from footfall.root import existing_database, new_database, settings_for
from footfall.services.copy_database import CopyError, copy_database

__all__ = ["copy_database_command"]


def copy_database_command(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The empty target database, e.g. postgresql://footfall@db:5432/footfall "
            "(its schema is created here). Its secrets' key: FOOTFALL_SECRET_KEY.",
        ),
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy every account, key, location, event, rollup, histogram, webhook and feed into
    another database, ids included, re-sealing secrets with the target's key.

    The source is only read: stop the server (or the agents) first if nothing may arrive
    after the copy, then point FOOTFALL_DATABASE_URL at the target."""
    with reporting_errors(), open_db(db) as source:
        if source.is_sqlite and source.key_file is not None and source.key_file.exists():
            # Its secrets were sealed with the key file, whatever FOOTFALL_SECRET_KEY says
            # now (that one is for the target).
            source.dispose()
            source = existing_database(source.url, secret_key="")
        target = new_database(settings_for(to).database_url)
        try:
            if target.url == source.url:
                fail("--to names the source database itself: give another one")
            target.require_key()
            console = Console(stderr=True)
            tasks: dict[str, TaskID] = {}
            with Progress(
                TextColumn("{task.description:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                disable=as_json,
            ) as bar:

                def shown(table: str, done: int, total: int) -> None:
                    if table not in tasks:
                        tasks[table] = bar.add_task(table, total=max(total, 1))
                    bar.update(tasks[table], completed=done if total else 1)

                try:
                    copied = copy_database(source, target, shown)
                except CopyError as exc:
                    fail(str(exc))
        finally:
            target.dispose()
            source.dispose()
    emit(
        {"source": source.url, "target": target.url, "rows": copied},
        as_json=as_json,
        title="Copied; now set FOOTFALL_DATABASE_URL to the target",
    )

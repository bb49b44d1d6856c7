"""The composition root: the one place that builds the database handle and the services
from the settings, for whichever entry point starts (the server's app factory, a `footfall`
command, the demo, the MQTT publisher).

Entry points never import `footfall.store`: they ask here for a `Database` (the handle
every service takes) and for the services built on it, and name its type and the errors
building it may raise through this module. Nothing here starts anything.

A command that finds no database creates none: `existing_database` refuses a SQLite file
that is not there before SQLite would make an empty one; only `footfall init` and the
demo (`new_database`) create a database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from footfall.config import Settings
from footfall.domain.times import now_ms
from footfall.store.db import Database, DatabaseURLError
from footfall.store.migrate import current_revision, head_revision, upgrade
from footfall.store.secret_key import SecretKeyError

if TYPE_CHECKING:  # imported where the server is built: a `footfall` command needs none
    from footfall.services.dispatcher import Dispatcher
    from footfall.services.ingest import Ingest
    from footfall.services.reads import ReadApi

__all__ = [
    "Database",
    "DatabaseURLError",
    "NoDatabase",
    "SecretKeyError",
    "ServerServices",
    "existing_database",
    "new_database",
    "schema_problem",
    "server_services",
    "settings_for",
    "upgrade_schema",
]


class NoDatabase(ValueError):
    """There is no database where the settings point, and this command creates none."""


def settings_for(database_url: str | None = None) -> Settings:
    """The settings from the environment, with `database_url` (e.g. `--db`) if given."""
    return Settings.from_env().with_database(database_url)


def new_database(url: str, *, secret_key: str | None = None) -> Database:
    """A handle on `url`; a SQLite file is created on first use (init, demo, copy target)."""
    return Database(url, secret_key=secret_key)


def existing_database(url: str, *, secret_key: str | None = None) -> Database:
    """A handle on a database that exists: NoDatabase, and no file left behind, otherwise."""
    db = Database(url, secret_key=secret_key)
    path = _sqlite_path(db)
    if path is not None and not path.exists():
        db.dispose()
        raise NoDatabase(
            f"no database at {path}: run `footfall init` first, or point --db or "
            "FOOTFALL_DATABASE_URL at an existing one"
        )
    return db


def _sqlite_path(db: Database) -> Path | None:
    return Path(db.engine.url.database or "") if db.is_sqlite else None


def schema_problem(db: Database) -> str | None:
    """Why `db` cannot serve this code (no schema, an older one), or None."""
    current = current_revision(db)
    if current is None:
        return f"{db.url} has no Footfall schema yet: run `footfall init` first"
    if current != head_revision():
        return f"{db.url} is at schema {current}; run `footfall init` to upgrade it"
    return None


def upgrade_schema(db: Database) -> str:
    """Create or upgrade the schema (and the SQLite key file); the revision reached."""
    return upgrade(db)


@dataclass(frozen=True)
class ServerServices:
    """What the HTTP server runs on one database."""

    ingest: Ingest
    dispatcher: Dispatcher
    reads: ReadApi


def server_services(
    settings: Settings, db: Database, clock: Callable[[], int] = now_ms
) -> ServerServices:
    from footfall.services.dispatcher import Dispatcher
    from footfall.services.ingest import Ingest
    from footfall.services.reads import ReadApi

    dispatcher = Dispatcher(
        db,
        timeout=settings.webhook_timeout,
        schedule=settings.webhook_schedule,
        allow_private=settings.webhook_allow_private,
    )
    ingest = Ingest(
        db,
        clock,
        on_commit=dispatcher.wake,
        retention_days=settings.retention_days,
        limits=settings.config_limits,
    )
    return ServerServices(ingest=ingest, dispatcher=dispatcher, reads=ReadApi(db, clock))

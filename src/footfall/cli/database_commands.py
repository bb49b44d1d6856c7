"""`footfall init` and `footfall secrets`: the schema and the key that seals secrets at
rest. `init` is the one management command that creates a database where none is."""

from __future__ import annotations

import typer

from footfall.cli.common import DbOption, JsonOption, open_db
from footfall.cli.output import emit, reporting_errors
from footfall.root import upgrade_schema
from footfall.services.key_check import verify_server_key

__all__ = ["init", "secrets_app"]

secrets_app = typer.Typer(
    help="The server key that seals API and webhook secrets at rest.", no_args_is_help=True
)


def init(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Create or upgrade the database schema (safe to run again); on SQLite without
    FOOTFALL_SECRET_KEY, also the key file that seals secrets (beside the database)."""
    with reporting_errors(), open_db(db, migrated=False) as database:
        if not database.is_sqlite:
            database.require_key()  # PostgreSQL: FOOTFALL_SECRET_KEY must be set (clear error)
        revision = upgrade_schema(database)
        # SQLite: the key file (just made) or the variable, well-formed; and the key check.
        verify_server_key(database)
        emit(
            {"database": database.url, "schema_version": revision},
            as_json=as_json,
            title="Database ready",
        )


@secrets_app.command("rotate")
def secrets_rotate(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Re-seal every API and webhook secret under a new key.

    Key file (SQLite): a new key is made and replaces the file. FOOTFALL_SECRET_KEY: put
    the new key first and keep the old after a comma (NEW,OLD) on every server, run this,
    then drop OLD.
    """
    from footfall.services.key_rotation import rotate_secrets

    with reporting_errors(), open_db(db) as database:
        done = rotate_secrets(database)
        emit(
            {
                "key_id": done.key_id,
                "api_keys": done.api_keys,
                "webhook_secrets": done.webhook_secrets,
                "key_source": done.key_source,
            },
            as_json=as_json,
            title="Secrets re-sealed",
        )

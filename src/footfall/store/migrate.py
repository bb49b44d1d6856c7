"""Create or upgrade the schema with Alembic; safe to run any number of times."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from footfall.store.db import Database
from footfall.store.secret_key import create_key_file

__all__ = ["current_revision", "ensure_secret_key", "head_revision", "scrub", "upgrade"]

_SCRIPTS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_secret_key(db: Database) -> bool:
    """On SQLite without FOOTFALL_SECRET_KEY, create the key file beside the database
    (mode 0600) unless it exists; True if created. PostgreSQL needs the variable."""
    key_file = db.key_file
    if key_file is None or db.uses_key_variable:
        return False
    return create_key_file(key_file)


def scrub(db: Database) -> None:
    """Rewrite the storage after secrets were rewritten in place, so their old plaintext
    survives in no free page, WAL frame or dead row version (the tables are small)."""
    if db.is_sqlite:
        raw = db.engine.raw_connection()  # autocommit (see store.db): VACUUM needs that
        try:
            cursor = raw.cursor()
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM FULL api_keys, webhook_endpoints, feeds")


@contextmanager
def _migration_transaction(db: Database) -> Iterator[Connection]:
    """One transaction for the whole upgrade.

    On SQLite, foreign keys are off meanwhile and checked before the commit: that is
    SQLite's own procedure for rebuilding a table (new copy, drop the old, rename) when
    other tables reference it, since dropping a referenced table with them on fails. The
    pragma only takes effect outside a transaction, hence before BEGIN.
    """
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            yield conn
        return
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def upgrade(db: Database) -> str:
    """Bring the schema to the newest revision and return it (creating the SQLite key
    file first: the migrations seal existing secrets with it)."""
    ensure_secret_key(db)
    config = _config()
    with _migration_transaction(db) as conn:
        config.attributes["connection"] = conn
        config.attributes["keyring"] = lambda: db.keyring
        config.attributes["scrub"] = False
        command.upgrade(config, "head")
    if config.attributes["scrub"]:
        scrub(db)
    revision = current_revision(db)
    assert revision is not None
    return revision

"""One `Database` per process: the engine, and the two kinds of transaction Footfall uses.

- `write()`: a transaction that may write. On SQLite it starts with `BEGIN IMMEDIATE`
  (so it never fails half-way on a lock upgrade) and is serialised inside the process by a
  lock, because SQLite's busy handler sleeps in coarse steps and would waste throughput;
  other processes wait on `busy_timeout`. On PostgreSQL it is READ COMMITTED and relies on
  row locks.
- `read()`: a read-only snapshot (a deferred transaction on SQLite, REPEATABLE READ on
  PostgreSQL), so a multi-statement answer is consistent.

The server key that seals secrets at rest (`keyring`) is loaded on first use: from the
`secret_key` given, else FOOTFALL_SECRET_KEY, else (SQLite) the key file beside the
database (`store.secret_key`). A value sealed under a key this process does not hold makes
it look at the key file again once, so a `footfall secrets rotate` by another process is
picked up without a restart.

SQLite runs in WAL mode with `synchronous=FULL`: a commit is on disk before it returns, so
an acknowledged batch survives a power cut as well as a process crash, and readers never
block the writer. The ingest writer commits concurrent batches together (group commit),
which keeps the extra fsync per commit cheap.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from footfall.domain.sealing import Keyring, UnknownKey
from footfall.store.secret_key import ENV, key_file_for, keyring_from

__all__ = [
    "Database",
    "DatabaseURLError",
    "driver_execute",
    "driver_executemany",
    "normalize_url",
    "placeholder",
]

Dialect = Literal["sqlite", "postgresql"]
SQLiteSync = Literal["FULL", "NORMAL"]


class DatabaseURLError(ValueError):
    """The database URL is not one Footfall can use."""


def normalize_url(url: str) -> str:
    """The SQLAlchemy URL for a Footfall database URL (docs/operations.md, Configuration)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith(("sqlite:///", "postgresql+psycopg://")):
        return url
    raise DatabaseURLError(
        f"unsupported database URL {url!r}: expected sqlite:///relative/path, "
        "sqlite:////absolute/path or postgresql://user@host:port/db"
    )


def _sqlite_on_connect(synchronous: str) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module; `_sqlite_on_begin` emits BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return on_connect


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


def _close_on_checkin(dbapi_connection: Any, _record: Any) -> None:
    if dbapi_connection is not None:
        dbapi_connection.close()


class Database:
    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        secret_key: str | None = None,
        sqlite_synchronous: SQLiteSync = "FULL",
    ) -> None:
        """`sqlite_synchronous` exists for `footfall bench` to measure what FULL costs
        beside NORMAL; the product always runs FULL."""
        self.url = url
        self._secret_key = secret_key
        self._keyring: Keyring | None = None
        self._keyring_lock = threading.Lock()
        sa_url = normalize_url(url)
        try:
            parsed = make_url(sa_url)
        except ArgumentError as exc:
            raise DatabaseURLError(f"malformed database URL {url!r}: {exc}") from None
        self.dialect: Dialect = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql"
        if self.dialect == "sqlite":
            if not parsed.database or parsed.database == ":memory:":
                raise DatabaseURLError(
                    f"{url!r}: an in-memory SQLite database cannot be shared; give a file path"
                )
            self.engine: Engine = create_engine(
                parsed, echo=echo, pool_size=8, max_overflow=32, pool_timeout=60
            )
            event.listen(self.engine, "connect", _sqlite_on_connect(sqlite_synchronous))
            event.listen(self.engine, "begin", _sqlite_on_begin)
        else:
            self.engine = create_engine(
                parsed, echo=echo, pool_size=8, max_overflow=32, pool_pre_ping=True
            )
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def key_file(self) -> Path | None:
        """The SQLite database's key file (used when FOOTFALL_SECRET_KEY is not set)."""
        return key_file_for(self.engine.url.database) if self.is_sqlite else None

    @property
    def uses_key_variable(self) -> bool:
        """The key comes from FOOTFALL_SECRET_KEY (or was given), not from a key file."""
        return bool(self._key_variable())

    def _key_variable(self) -> str | None:
        value = self._secret_key if self._secret_key is not None else os.environ.get(ENV)
        return value if value and value.strip() else None

    def load_keyring(self) -> Keyring:
        """The keyring read afresh from its source (SecretKeyError when there is none)."""
        return keyring_from(self._key_variable(), self.key_file)

    @property
    def keyring(self) -> Keyring:
        with self._keyring_lock:
            if self._keyring is None:
                self._keyring = self.load_keyring()
            return self._keyring

    def require_key(self) -> None:
        """Load the key now (SecretKeyError, with what to do, when there is none)."""
        self.keyring.key_ids  # noqa: B018

    def reload_keyring(self) -> None:
        with self._keyring_lock:
            self._keyring = self.load_keyring()

    def unseal(self, value: str, purpose: str) -> str:
        try:
            return self.keyring.unseal(value, purpose)
        except UnknownKey:
            self.reload_keyring()  # rotated by another process?
            return self.keyring.unseal(value, purpose)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        """Close every pooled connection.

        One still checked out (a worker thread finishing its query as the server stops)
        is closed when it comes back: returned to the discarded pool, it would otherwise
        stay open until the garbage collector finds it."""
        event.listen(self.engine.pool, "checkin", _close_on_checkin)
        self.engine.dispose()


def placeholder(conn: Connection) -> str:
    """The driver's positional parameter mark, for statements sent straight to it."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def driver_execute(conn: Connection, sql: str, params: Sequence[Any]) -> tuple[list[Any], int]:
    """Run one statement on the driver's own cursor, in the connection's transaction: its
    rows (none for a statement that returns none) and its row count.

    For the ingest path's statements, run for every batch: SQLAlchemy's result machinery
    around `exec_driver_sql` costs more than the statement (measured on PostgreSQL: 72 us
    a statement, 33 us on the driver's cursor). `sql` uses `placeholder(conn)` marks."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        rows = list(cursor.fetchall()) if cursor.description is not None else []
        return rows, cursor.rowcount
    finally:
        cursor.close()


def driver_executemany(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`driver_execute` of one statement for each of `rows`."""
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()

"""One `Database` per process: the engine, and the two kinds of transaction Footfall uses.

- `write()`: a transaction that may write. On SQLite it starts with `BEGIN IMMEDIATE`
  (so it never fails half-way on a lock upgrade) and is serialised inside the process by a
  lock, because SQLite's busy handler sleeps in coarse steps and would waste throughput;
  other processes wait on `busy_timeout`. On PostgreSQL it is READ COMMITTED and relies on
  row locks.
- `read()`: a read-only snapshot (a deferred transaction on SQLite, REPEATABLE READ on
  PostgreSQL), so a multi-statement answer is consistent.

SQLite runs in WAL mode with `synchronous=FULL`: a commit is on disk before it returns, so
an acknowledged batch survives a power cut as well as a process crash, and readers never
block the writer. The ingest writer commits concurrent batches together (group commit),
which keeps the extra fsync per commit cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["Database", "DatabaseURLError", "normalize_url"]

Dialect = Literal["sqlite", "postgresql"]
SQLiteSync = Literal["FULL", "NORMAL"]


class DatabaseURLError(ValueError):
    """The database URL is not one Footfall can use."""


def normalize_url(url: str) -> str:
    """The SQLAlchemy URL for a Footfall database URL (SPEC §9 forms)."""
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


class Database:
    def __init__(
        self, url: str, *, echo: bool = False, sqlite_synchronous: SQLiteSync = "FULL"
    ) -> None:
        """`sqlite_synchronous` exists for `footfall bench` to measure what FULL costs
        beside NORMAL; the product always runs FULL."""
        self.url = url
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
        self.engine.dispose()

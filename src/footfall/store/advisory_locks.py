"""PostgreSQL session-level advisory locks, on a connection the caller keeps for them.

A lock is held for as long as its connection lives: a process that dies closes its
connection and so releases the lock (advisory locks are per database, like Footfall).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from footfall.store.db import Database

__all__ = ["lock_connection", "still_connected", "try_lock", "unlock"]


def lock_connection(db: Database) -> Connection:
    """A connection of its own in autocommit: the lock outlives any transaction."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def try_lock(conn: Connection, key: int) -> bool:
    """Take the lock `key` if it is free; True when this connection now holds it."""
    return bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())


def still_connected(conn: Connection) -> None:
    """Raise if the connection (and so the lock) is gone."""
    conn.execute(text("SELECT 1"))


def unlock(conn: Connection, key: int) -> None:
    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})

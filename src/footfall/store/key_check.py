"""The server key's check value as a row (`schema.server_key_check`, one row, id 1).

Invariant: the row is written at most once (a second writer's insert is ignored, so two
processes starting at once agree on one value); a rotation re-seals it in place.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, select
from sqlalchemy.exc import IntegrityError

from footfall.store.schema import server_key_check

__all__ = ["has_check_table", "read_check", "write_check"]

_ROW = 1


def has_check_table(conn: Connection) -> bool:
    """False on a schema older than the check (a process refusing to start says so)."""
    return bool(inspect(conn).has_table(server_key_check.name))


def read_check(conn: Connection) -> str | None:
    return conn.execute(
        select(server_key_check.c.secret).where(server_key_check.c.id == _ROW)
    ).scalar_one_or_none()


def write_check(conn: Connection, sealed: str) -> bool:
    """Store the check value; False when another process stored one first."""
    try:
        with conn.begin_nested():
            conn.execute(server_key_check.insert().values(id=_ROW, secret=sealed))
    except IntegrityError:
        return False
    return True

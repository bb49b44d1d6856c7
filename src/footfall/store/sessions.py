"""Dashboard sessions as rows (`schema.dashboard_sessions`).

Invariant: a session is found only by the sha256 of its id, and only while it has not
expired; rows past their expiry are deleted whenever a session is opened, so the table
holds at most the sessions of the last session lifetime.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from footfall.store.schema import dashboard_sessions

__all__ = ["delete_session", "find_session", "insert_session"]


def insert_session(
    conn: Connection, id_hash: str, token_mac: str, created_at: int, expires_at: int
) -> None:
    conn.execute(delete(dashboard_sessions).where(dashboard_sessions.c.expires_at <= created_at))
    conn.execute(
        insert(dashboard_sessions).values(
            id_hash=id_hash, token_mac=token_mac, created_at=created_at, expires_at=expires_at
        )
    )


def find_session(conn: Connection, id_hash: str, now: int) -> str | None:
    """The token binding of a live session, or None."""
    row = conn.execute(
        select(dashboard_sessions.c.token_mac).where(
            dashboard_sessions.c.id_hash == id_hash, dashboard_sessions.c.expires_at > now
        )
    ).first()
    return None if row is None else str(row.token_mac)


def delete_session(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(dashboard_sessions).where(dashboard_sessions.c.id_hash == id_hash))

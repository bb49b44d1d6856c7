"""The token lookup: which location (and feed) a token opens, by the token's sha256 hex.

Invariant: every issued ingest and feed token has exactly one row, written in the
transaction that issues it and never changed after (a revoked feed stays revoked in
`feeds`). Callers find the row here, then read the location or feed by its key, so a
token lookup reads one small reference table and then one shard on Citus, never all
shards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, insert, select

from footfall.store.schema import token_lookup

__all__ = ["TokenKind", "TokenTarget", "find_token", "insert_token"]

TokenKind = Literal["ingest", "feed"]


@dataclass(frozen=True)
class TokenTarget:
    location_id: int
    feed_id: int | None


def insert_token(
    conn: Connection,
    *,
    token_hash: str,
    kind: TokenKind,
    location_id: int,
    feed_id: int | None = None,
) -> None:
    conn.execute(
        insert(token_lookup).values(
            token_hash=token_hash, kind=kind, location_id=location_id, feed_id=feed_id
        )
    )


def find_token(conn: Connection, token_hash: str, kind: TokenKind) -> TokenTarget | None:
    row = conn.execute(
        select(token_lookup.c.location_id, token_lookup.c.feed_id).where(
            token_lookup.c.token_hash == token_hash, token_lookup.c.kind == kind
        )
    ).one_or_none()
    return None if row is None else TokenTarget(int(row.location_id), row.feed_id)

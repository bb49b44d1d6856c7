"""Revision marks: per trigger, kind and local hour, when it was last revised and whether
a `revisions` webhook still has to announce it.

`mark` runs in the transaction that revises (the histogram job; ingest sends the same
upsert, `marks_upsert`, with its others): one upsert that keeps the latest `revised_at`
and the earliest still-pending instant, so a burst of late data for an hour is one
pending mark. `due` picks marks to announce, on PostgreSQL
`FOR UPDATE SKIP LOCKED` (another process announcing at the same time skips them, and a
writer revising one of them waits for this transaction), and `settle` clears a mark in
the same transaction as the deliveries it created.

Marks are kept (one row per trigger, kind and hour ever revised, like the rollups): an
`updated_since` however old must still find every revision made after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Row, and_, func, or_, select, update

from footfall.store import upserts
from footfall.store.schema import revisions
from footfall.store.upserts import Upsert

__all__ = [
    "Mark",
    "Revision",
    "back_off",
    "due",
    "mark",
    "marks_upsert",
    "revised_since",
    "settle",
]

# (trigger_id, channel_id, hour start ms, hour end ms)
Mark = tuple[str, str, int, int]


@dataclass(frozen=True)
class Revision:
    location_id: int
    kind: str
    trigger_id: str
    hour: int
    hour_end: int
    channel_id: str
    revised_at: int


def marks_upsert(location_id: int, kind: str, hours: Sequence[Mark], now: int) -> Upsert:
    """The revision marks of these hours, to write with `upserts.run`."""
    return Upsert(
        table="revisions",
        columns=(
            "location_id", "kind", "trigger_id", "hour", "hour_end", "channel_id",
            "revised_at", "pending_since",
        ),
        types=("int", "varchar", "varchar", "bigint", "bigint", "varchar", "bigint", "bigint"),
        conflict=(
            "ON CONFLICT (location_id, kind, trigger_id, hour) DO UPDATE SET "
            "hour_end = excluded.hour_end, channel_id = excluded.channel_id, "
            "revised_at = CASE WHEN excluded.revised_at > revisions.revised_at "
            "THEN excluded.revised_at ELSE revisions.revised_at END, "
            "pending_since = COALESCE(revisions.pending_since, excluded.pending_since)"
        ),
        rows=[
            (location_id, kind, trigger, hour, hour_end, channel, now, now)
            for trigger, channel, hour, hour_end in sorted(set(hours))
        ],
    )  # fmt: skip


def mark(conn: Connection, location_id: int, kind: str, hours: Sequence[Mark], now: int) -> None:
    upserts.run(conn, marks_upsert(location_id, kind, hours, now))


def revised_since(
    conn: Connection,
    location_ids: Sequence[int],
    kind: str,
    updated_since: int,
    since: int | None,
    until: int | None,
) -> list[Revision]:
    """Marks of `kind` revised at or after `updated_since` whose hour meets [since, until)."""
    r = revisions
    where = [
        r.c.location_id.in_(location_ids),
        r.c.kind == kind,
        r.c.revised_at >= updated_since,
    ]
    if since is not None:
        where.append(r.c.hour_end > since)
    if until is not None:
        where.append(r.c.hour < until)
    return [_revision(row) for row in conn.execute(select(*_COLUMNS).where(and_(*where)))]


_COLUMNS = (
    revisions.c.location_id,
    revisions.c.kind,
    revisions.c.trigger_id,
    revisions.c.hour,
    revisions.c.hour_end,
    revisions.c.channel_id,
    revisions.c.revised_at,
)


def _revision(row: Row[int, str, str, int, int, str, int]) -> Revision:
    """A row of `_COLUMNS`, in their order."""
    return Revision(*row)


def _due_where(now: int, settle_ms: int, max_delay_ms: int) -> list[ColumnElement[bool]]:
    r = revisions
    return [
        r.c.pending_since.is_not(None),
        or_(r.c.revised_at <= now - settle_ms, r.c.pending_since <= now - max_delay_ms),
        or_(r.c.retry_at.is_(None), r.c.retry_at <= now),
    ]


def due_locations(
    conn: Connection, now: int, *, settle_ms: int, max_delay_ms: int, limit: int
) -> list[int]:
    """The locations with marks `due` would return, the longest waiting first."""
    r = revisions
    oldest = func.min(r.c.pending_since)
    query = (
        select(r.c.location_id)
        .where(*_due_where(now, settle_ms, max_delay_ms))
        .group_by(r.c.location_id)
        .order_by(oldest, r.c.location_id)
        .limit(limit)
    )
    return [int(location) for location in conn.execute(query).scalars()]


def due(
    conn: Connection,
    now: int,
    *,
    settle_ms: int,
    max_delay_ms: int,
    limit: int,
    lock: bool = False,
    location_id: int | None = None,
) -> list[Revision]:
    """Pending marks quiet for `settle_ms` (or pending for `max_delay_ms`), not backing
    off, oldest first (of one location, with `location_id`); with `lock`, locked for
    this transaction (PostgreSQL), skipping those another transaction holds."""
    r = revisions
    where = _due_where(now, settle_ms, max_delay_ms)
    if location_id is not None:
        where.append(r.c.location_id == location_id)
    query = (
        select(*_COLUMNS)
        .where(*where)
        .order_by(r.c.pending_since, r.c.location_id, r.c.kind, r.c.trigger_id, r.c.hour)
        .limit(limit)
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [_revision(row) for row in conn.execute(query)]


def _key(item: Revision) -> list[ColumnElement[bool]]:
    r = revisions
    return [
        r.c.location_id == item.location_id,
        r.c.kind == item.kind,
        r.c.trigger_id == item.trigger_id,
        r.c.hour == item.hour,
    ]


def settle(conn: Connection, item: Revision) -> bool:
    """Mark the revision announced, unless it was revised again since it was read (then
    it stays pending for the next announcement)."""
    r = revisions
    return bool(
        conn.execute(
            update(r)
            .where(*_key(item), r.c.revised_at == item.revised_at)
            .values(pending_since=None, notified_at=item.revised_at, retry_at=None)
        ).rowcount
    )


def back_off(conn: Connection, item: Revision, until: int) -> None:
    conn.execute(update(revisions).where(*_key(item)).values(retry_at=until))

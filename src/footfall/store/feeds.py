"""Report feeds: their definitions, and the derived tables their reports are read from
(quarter rollups and zone quarters; never the raw events, but for the one live hour).

A feed is keyed by (location_id, id); its token is found through the token lookup
(`store.tokens`), which names both, so a report reads one location's rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, select, update

from footfall.store.ids import new_ids
from footfall.store.schema import feeds, quarter_rollups, zone_progress, zone_quarters
from footfall.store.tokens import find_token, insert_token

__all__ = [
    "FeedRow",
    "first_quarter",
    "get_feed",
    "insert_feed",
    "list_feeds",
    "quarter_counts",
    "revoke_feed",
    "zone_progress_of",
    "zone_quarter_rows",
]


@dataclass(frozen=True)
class FeedRow:
    id: int
    account_id: int
    location_id: int
    token_prefix: str  # the token's first 8 characters; only its hash is stored
    name: str
    metric: str
    triggers: tuple[str, ...]
    occupancy_ids: tuple[int, ...]
    queue_ids: tuple[int, ...]
    event_types: tuple[str, ...]
    origins: tuple[str, ...]
    period: str | None
    since_ms: int | None
    until_ms: int | None
    granularity: str
    created_at: int
    revoked_at: int | None
    coverage: bool = False  # a coverage column per series, null where nothing was covered


def _split(text: str) -> tuple[str, ...]:
    return tuple(t for t in text.split(",") if t)


def _row(r: Any) -> FeedRow:
    return FeedRow(
        r.id,
        r.account_id,
        r.location_id,
        r.token_prefix,
        r.name,
        r.metric,
        _split(r.triggers),
        tuple(int(x) for x in _split(r.occupancy_ids)),
        tuple(int(x) for x in _split(r.queue_ids)),
        _split(r.event_types),
        _split(r.origins),
        r.period,
        r.since_ms,
        r.until_ms,
        r.granularity,
        r.created_at,
        r.revoked_at,
        bool(r.coverage),
    )


def insert_feed(conn: Connection, feed: FeedRow, token_hash: str) -> int:
    """Store the feed and its token's lookup row; returns the new feed's id."""
    (feed_id,) = new_ids(conn, "feeds", 1)
    values: dict[str, Any] = {**feed.__dict__, "id": feed_id}
    values["coverage"] = int(feed.coverage)
    for name in ("triggers", "event_types", "origins"):
        values[name] = ",".join(values[name])
    for name in ("occupancy_ids", "queue_ids"):
        values[name] = ",".join(str(x) for x in values[name])
    conn.execute(insert(feeds).values(**values))
    insert_token(
        conn, token_hash=token_hash, kind="feed", location_id=feed.location_id, feed_id=feed_id
    )
    return feed_id


def get_feed(conn: Connection, token_hash: str) -> FeedRow | None:
    target = find_token(conn, token_hash, "feed")
    if target is None or target.feed_id is None:
        return None
    row = conn.execute(
        select(feeds).where(feeds.c.location_id == target.location_id, feeds.c.id == target.feed_id)
    ).one_or_none()
    return None if row is None else _row(row)


def list_feeds(conn: Connection, location_id: int | None = None) -> list[FeedRow]:
    query = select(feeds).order_by(feeds.c.id)
    if location_id is not None:
        query = query.where(feeds.c.location_id == location_id)
    return [_row(r) for r in conn.execute(query)]


def revoke_feed(
    conn: Connection, now: int, *, token_hash: str | None = None, feed_id: int | None = None
) -> bool:
    """Revoke the feed a token opens, or the feed of that id; False when there is no such
    feed still active. (By token, the lookup names the location: one shard on Citus.)"""
    match: ColumnElement[bool]
    if feed_id is None:
        target = None if token_hash is None else find_token(conn, token_hash, "feed")
        if target is None or target.feed_id is None:
            return False
        match = and_(feeds.c.location_id == target.location_id, feeds.c.id == target.feed_id)
    else:
        match = feeds.c.id == feed_id
    return bool(
        conn.execute(
            update(feeds).where(match, feeds.c.revoked_at.is_(None)).values(revoked_at=now)
        ).rowcount
    )


def quarter_counts(
    conn: Connection,
    location_id: int,
    trigger_ids: Sequence[str],
    since: int,
    until: int,
    event_types: Sequence[str] = (),
    origins: Sequence[str] = (),
) -> Sequence[Any]:
    """(trigger_id, quarter, count) summed over the filters, for quarters in [since, until)."""
    q = quarter_rollups
    query = (
        select(q.c.trigger_id, q.c.quarter, func.sum(q.c.count))
        .where(
            q.c.location_id == location_id,
            q.c.trigger_id.in_(trigger_ids),
            q.c.quarter >= since,
            q.c.quarter < until,
        )
        .group_by(q.c.trigger_id, q.c.quarter)
    )
    if event_types:
        query = query.where(q.c.event_type.in_(event_types))
    if origins:
        query = query.where(q.c.origin.in_(origins))
    return conn.execute(query).all()


def first_quarter(
    conn: Connection, location_id: int, trigger_ids: Sequence[str], event_type: str
) -> int | None:
    """The first quarter holding an event of this type on these triggers."""
    found = conn.execute(
        select(func.min(quarter_rollups.c.quarter)).where(
            quarter_rollups.c.location_id == location_id,
            quarter_rollups.c.trigger_id.in_(trigger_ids),
            quarter_rollups.c.event_type == event_type,
        )
    ).scalar_one()
    return None if found is None else int(found)


def zone_progress_of(conn: Connection, location_id: int, trigger_id: str) -> Any:
    return conn.execute(
        select(zone_progress).where(
            zone_progress.c.location_id == location_id, zone_progress.c.trigger_id == trigger_id
        )
    ).one_or_none()


def zone_quarter_rows(
    conn: Connection, location_id: int, trigger_id: str, since: int, until: int
) -> Sequence[Any]:
    z = zone_quarters
    return conn.execute(
        select(z.c.quarter, z.c.peak, z.c.area_ms, z.c.stays, z.c.stay_ms)
        .where(
            z.c.location_id == location_id,
            z.c.trigger_id == trigger_id,
            z.c.quarter >= since,
            z.c.quarter < until,
        )
        .order_by(z.c.quarter)
    ).all()

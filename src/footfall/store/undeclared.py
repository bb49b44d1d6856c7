"""Channels and triggers an agent no longer declares, and the rows derived from them.

Every statement names a bounded chunk of ids (the caller's `chunk`), never one parameter
per channel of the location; each is keyed by location first, like every table.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, delete, select, update

from footfall.store.schema import (
    channels,
    coverage_quarters,
    events,
    histograms,
    hourly_rollups,
    locations,
    quarter_rollups,
    revisions,
    triggers,
    zone_progress,
    zone_quarters,
)

__all__ = [
    "delete_channels",
    "delete_triggers",
    "inactive_among",
    "lock_config",
    "trigger_channels",
    "undeclared",
]

# Tables of rows derived from a trigger's events (each has `trigger_id`).
_BY_TRIGGER: tuple[Table, ...] = (
    hourly_rollups,
    quarter_rollups,
    histograms,
    zone_progress,
    zone_quarters,
    revisions,
    events,
)
# Tables of rows recorded under a channel (each has `channel_id`): the rows of a trigger
# that has since moved to another channel included.
_BY_CHANNEL: tuple[Table, ...] = (
    coverage_quarters,
    hourly_rollups,
    quarter_rollups,
    histograms,
    revisions,
)


def lock_config(conn: Connection, location_id: int) -> bool:
    """Take the location's row lock and move its config version on, so every ingest
    process re-reads its triggers before storing another batch. False: no location."""
    result = conn.execute(
        update(locations)
        .where(locations.c.id == location_id)
        .values(config_version=locations.c.config_version + 1)
    )
    return bool(result.rowcount)


def undeclared(
    conn: Connection, table: Table, location_id: int, before: int | None, limit: int
) -> list[str]:
    """Ids of inactive rows of `channels` or `triggers` inactive since before `before`
    (any inactive one when None), at most `limit`, in id order."""
    query = select(table.c.id).where(table.c.location_id == location_id, table.c.active == 0)
    if before is not None:
        query = query.where(table.c.inactive_since < before)
    return [str(i) for i in conn.execute(query.order_by(table.c.id).limit(limit)).scalars()]


def inactive_among(
    conn: Connection, table: Table, location_id: int, ids: Sequence[str]
) -> list[str]:
    """Those of `ids` (a few: what operators defined) that are inactive rows of `table`."""
    found: list[str] = []
    for start in range(0, len(ids), 500):
        query = select(table.c.id).where(
            table.c.location_id == location_id,
            table.c.active == 0,
            table.c.id.in_(ids[start : start + 500]),
        )
        found.extend(str(i) for i in conn.execute(query.order_by(table.c.id)).scalars())
    return found


def trigger_channels(conn: Connection, location_id: int) -> set[str]:
    """The channels some trigger row of the location still belongs to."""
    query = select(triggers.c.channel_id).where(triggers.c.location_id == location_id)
    return {str(c) for c in conn.execute(query.distinct()).scalars()}


def _delete(
    conn: Connection, table: Table, column: str, location_id: int, ids: Sequence[str]
) -> int:
    result = conn.execute(
        delete(table).where(table.c.location_id == location_id, table.c[column].in_(ids))
    )
    return max(int(result.rowcount), 0)


def delete_triggers(conn: Connection, location_id: int, ids: Sequence[str]) -> int:
    """Delete the triggers and every row derived from them; how many derived rows went."""
    if not ids:
        return 0
    gone = sum(_delete(conn, table, "trigger_id", location_id, ids) for table in _BY_TRIGGER)
    _delete(conn, triggers, "id", location_id, ids)
    return gone


def delete_channels(conn: Connection, location_id: int, ids: Sequence[str]) -> int:
    """Delete the channels and every row recorded under them (raw events of a trigger
    that moved away included: found through the rollups, which name every trigger that
    ever had events on the channel, so the events index on triggers serves the delete)."""
    if not ids:
        return 0
    moved = [
        str(t)
        for t in conn.execute(
            select(hourly_rollups.c.trigger_id)
            .where(
                hourly_rollups.c.location_id == location_id,
                hourly_rollups.c.channel_id.in_(ids),
            )
            .distinct()
        ).scalars()
    ]
    gone = 0
    for start in range(0, len(moved), len(ids) or 1):
        result = conn.execute(
            delete(events).where(
                events.c.location_id == location_id,
                events.c.trigger_id.in_(moved[start : start + len(ids)]),
                events.c.channel_id.in_(ids),
            )
        )
        gone += max(int(result.rowcount), 0)
    gone += sum(_delete(conn, table, "channel_id", location_id, ids) for table in _BY_CHANNEL)
    _delete(conn, channels, "id", location_id, ids)
    return gone

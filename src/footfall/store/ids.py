"""Ids for rows keyed by (location_id, id): drawn from a PostgreSQL sequence, or from the
`id_counters` row of the same name on SQLite (which has no sequences, and cannot
autoincrement a composite key). Every id is unique across locations too, so the CLI and
the API can name an occupancy counter, a queue, a webhook endpoint or a feed by its id.

Ids only grow and are never reused. Callers that need ids to follow commit order within a
location (after_id paging) draw them after taking the location's row lock.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, text

from footfall.store.db import driver_execute

__all__ = ["NUMBERED_TABLES", "PG_SEQUENCES", "Sequence", "new_ids"]

Sequence = Literal["events", "histograms", "deliveries", "counters", "queues", "endpoints", "feeds"]

PG_SEQUENCES: dict[str, str] = {
    "events": "event_ids",
    "histograms": "histogram_ids",
    "deliveries": "delivery_ids",
    "counters": "counter_ids",
    "queues": "queue_ids",
    "endpoints": "endpoint_ids",
    "feeds": "feed_ids",
}
# The table whose `id` column each sequence numbers.
NUMBERED_TABLES: dict[str, str] = {
    "events": "events",
    "histograms": "histograms",
    "deliveries": "webhook_deliveries",
    "counters": "occupancy_counters",
    "queues": "queues",
    "endpoints": "webhook_endpoints",
    "feeds": "feeds",
}


def new_ids(conn: Connection, name: Sequence, count: int) -> list[int]:
    """`count` fresh ids, increasing."""
    if count <= 0:
        return []
    if conn.dialect.name == "sqlite":
        # On the driver's cursor: drawn for every events batch (store/db.py, driver_execute).
        rows, _ = driver_execute(
            conn,
            "UPDATE id_counters SET value = value + ? WHERE name = ? RETURNING value",
            (count, name),
        )
        last = int(rows[0][0])
        return list(range(last - count + 1, last + 1))
    return [
        int(v)
        for v in conn.execute(
            text(f"SELECT nextval('{PG_SEQUENCES[name]}') FROM generate_series(1, :n)"),
            {"n": count},
        ).scalars()
    ]

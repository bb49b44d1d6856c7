"""Retention: raw events older than FOOTFALL_RETENTION_DAYS are purged; rollups stay.

The purge deletes in small chunks, each its own short transaction, so ingest is never
blocked for long on SQLite's single writer.
"""

from __future__ import annotations

from collections.abc import Callable

from footfall.domain.times import now_ms
from footfall.store import events as event_store
from footfall.store import locations as location_store
from footfall.store.db import Database

__all__ = ["purge_expired_events"]

_MS_PER_DAY = 86_400_000


def purge_expired_events(
    db: Database,
    retention_days: float,
    *,
    clock: Callable[[], int] = now_ms,
    chunk: int = 5000,
) -> int:
    """Delete raw events with event_time before now - retention; returns how many."""
    cutoff = clock() - int(retention_days * _MS_PER_DAY)
    with db.read() as conn:
        location_ids = location_store.location_ids(conn)
    purged = 0
    for location_id in location_ids:
        while True:
            with db.write() as conn:
                deleted = event_store.purge_location_before(conn, location_id, cutoff, chunk)
            purged += deleted
            if deleted < chunk:
                break
    return purged

"""Retention: raw events older than FOOTFALL_RETENTION_DAYS are purged; rollups stay.

- PostgreSQL: whole days go at once (`store/partitions.py`): a day's partition is detached
  and dropped when all of it is older than the cutoff, so raw events outlive the retention
  period by less than a day and no mass DELETE ever runs. The same run creates the
  partitions of today and the next days ahead, so ingest never has to.
- SQLite: deletes in small chunks, each its own short transaction, so ingest is never
  blocked for long on the single writer.

Ingest refuses events older than the cutoff (SPEC §3), so nothing purged comes back.
"""

from __future__ import annotations

from collections.abc import Callable

from footfall.domain.times import now_ms
from footfall.store import events as event_store
from footfall.store import locations as location_store
from footfall.store.db import Database
from footfall.store.partitions import MS_PER_DAY, PartitionSet, day_of, drop_days_before

__all__ = ["DAYS_AHEAD", "create_partitions_ahead", "purge_expired_events"]

# Today and two more: a server stopped over a weekend still finds the days it needs.
DAYS_AHEAD = 3


def create_partitions_ahead(
    db: Database, *, clock: Callable[[], int] = now_ms, partitions: PartitionSet | None = None
) -> int:
    """Make sure today's partition and the next days' exist (PostgreSQL); how many new."""
    today = day_of(clock())
    return (partitions or PartitionSet(db)).ensure(
        today + k * MS_PER_DAY for k in range(DAYS_AHEAD)
    )


def purge_expired_events(
    db: Database,
    retention_days: float,
    *,
    clock: Callable[[], int] = now_ms,
    chunk: int = 5000,
) -> int:
    """Purge raw events with event_time before now - retention; returns how many went."""
    cutoff = clock() - int(retention_days * MS_PER_DAY)
    if not db.is_sqlite:
        create_partitions_ahead(db, clock=clock)
        dropped = drop_days_before(db, cutoff)
        with db.read() as conn:
            # The rollups count every event ever stored, so they say what each day held.
            return sum(
                event_store.events_counted_in(conn, day, day + MS_PER_DAY) for day in dropped
            )
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

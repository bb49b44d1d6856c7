"""Retention: raw events older than FOOTFALL_RETENTION_DAYS are purged; rollups stay.

- PostgreSQL: whole weeks go at once (`store/partitions.py`): a week's partition is
  detached and dropped when all of it is older than the cutoff, so raw events outlive the
  retention period by less than a week and no mass DELETE ever runs. The same run creates
  the partitions of this week and the next ahead, so ingest never has to.
- SQLite: deletes in small chunks, each its own short transaction, so ingest is never
  blocked for long on the single writer; locations take a chunk each in turn.

Ingest refuses events older than the cutoff (docs/api.md, The ingest API), so nothing purged comes
back.
"""

from __future__ import annotations

from collections.abc import Callable

from footfall.domain.times import now_ms
from footfall.services.undeclared import purge_undeclared
from footfall.store import events as event_store
from footfall.store import locations as location_store
from footfall.store.db import Database
from footfall.store.partitions import (
    MS_PER_DAY,
    MS_PER_WEEK,
    PartitionSet,
    drop_weeks_before,
    week_of,
)

__all__ = ["WEEKS_AHEAD", "create_partitions_ahead", "purge_expired_events"]

# This week's and the next: a week's partition exists days before its first event.
WEEKS_AHEAD = 2


def create_partitions_ahead(db: Database, *, clock: Callable[[], int] = now_ms) -> int:
    """Make sure this week's partition and the next exist (PostgreSQL); how many new."""
    this_week = week_of(clock())
    return PartitionSet(db).ensure(this_week + k * MS_PER_WEEK for k in range(WEEKS_AHEAD))


def purge_expired_events(
    db: Database,
    retention_days: float,
    *,
    clock: Callable[[], int] = now_ms,
    chunk: int = 5000,
) -> int:
    """Purge raw events with event_time before now - retention; returns how many went."""
    cutoff = clock() - int(retention_days * MS_PER_DAY)
    purge_undeclared(db, retention_days, clock=clock)  # undeclared for as long, and their data
    if not db.is_sqlite:
        create_partitions_ahead(db, clock=clock)
        dropped = drop_weeks_before(db, cutoff)
        with db.read() as conn:
            # The rollups count every event ever stored, so they say what each week held.
            return sum(
                event_store.events_counted_in(conn, week, week + MS_PER_WEEK) for week in dropped
            )
    with db.read() as conn:
        location_ids = location_store.location_ids(conn)
    purged = 0
    left = list(location_ids)
    while left:  # a chunk of each location in turn: a huge backlog is worked off in rounds
        still = []
        for location_id in left:
            with db.write() as conn:
                deleted = event_store.purge_location_before(conn, location_id, cutoff, chunk)
            purged += deleted
            if deleted == chunk:
                still.append(location_id)
        left = still
    return purged

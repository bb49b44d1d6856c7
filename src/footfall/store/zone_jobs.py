"""What the histogram job's planner reads: the zone triggers that may have work, a
trigger's channel, and each location's furthest-behind progress (its lag).

Reads only; the claims themselves stay in `store.zones` (claim, hold, release). The
queries are shaped so a location with tens of thousands of zone triggers costs one row
per trigger per planning pass and one row per step, never a scan of its triggers per step.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, func, or_, select

from footfall.store.schema import triggers, zone_progress
from footfall.store.zones import ProgressRow

__all__ = ["LocationProgress", "channel_of", "location_progress", "pending_progress"]


@dataclass(frozen=True)
class LocationProgress:
    """A location's furthest-behind zone trigger, in two parts: the earliest
    `computed_until` of its triggers computed at least once, and the earliest first event
    of those never computed (None where no trigger is in that state)."""

    location_id: int
    oldest_computed_until: int | None
    oldest_uncomputed_event: int | None


def pending_progress(conn: Connection, now: int, bound: int) -> list[ProgressRow]:
    """Progress rows that may have work at `now` and are not held by a claim (another
    run's, or a failure's back-off): never computed, marked dirty, or computed to before
    `bound` (the latest start of the current local hour over every location's zone, so
    this is a superset; the caller checks each row in its own zone)."""
    p = zone_progress
    rows = conn.execute(
        select(
            p.c.location_id,
            p.c.trigger_id,
            p.c.first_event_ms,
            p.c.dirty_from,
            p.c.change_seq,
            p.c.computed_until,
        ).where(
            or_(p.c.claimed_until.is_(None), p.c.claimed_until < now),
            or_(
                p.c.computed_until.is_(None),
                p.c.dirty_from.is_not(None),
                p.c.computed_until < bound,
            ),
        )
    )
    return [ProgressRow(*row) for row in rows]


def channel_of(conn: Connection, location_id: int, trigger_id: str) -> str | None:
    """The trigger's channel (one primary-key lookup; None when it is not declared)."""
    found = conn.execute(
        select(triggers.c.channel_id).where(
            and_(triggers.c.location_id == location_id, triggers.c.id == trigger_id)
        )
    ).scalar_one_or_none()
    return None if found is None else str(found)


def location_progress(conn: Connection) -> list[LocationProgress]:
    """One row per location with zone progress (the lag gauge reads this at each scrape)."""
    p = zone_progress
    rows = conn.execute(
        select(
            p.c.location_id,
            func.min(p.c.computed_until),
            func.min(case((p.c.computed_until.is_(None), p.c.first_event_ms))),
        ).group_by(p.c.location_id)
    )
    return [
        LocationProgress(
            int(location),
            None if computed is None else int(computed),
            None if uncomputed is None else int(uncomputed),
        )
        for location, computed, uncomputed in rows
    ]

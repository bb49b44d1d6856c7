"""What the histogram job's passes read and claim: the zone triggers that may have work,
a pass's claims taken, checked and given up together, its progress recorded together, a
trigger's channel, and each location's furthest-behind progress (its lag).

The claims are those of `store.zones` (`claimed_by` a run's token until `claimed_until`,
written only while still its own); here a pass takes, holds and releases all of its
triggers in one statement each instead of one per trigger. The queries are shaped so a
location with tens of thousands of zone triggers costs one row per trigger per planning
pass and one row per step, never a scan of its triggers per step.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, func, select, update

from footfall.store.db import driver_execute, driver_executemany, placeholder
from footfall.store.schema import triggers, zone_progress
from footfall.store.zones import ProgressRow

__all__ = [
    "LocationProgress",
    "channels_of",
    "claim_all",
    "finish_all",
    "held",
    "location_progress",
    "pending_progress",
    "release_all",
    "step_savepoint",
]

_PROGRESS = (
    zone_progress.c.location_id,
    zone_progress.c.trigger_id,
    zone_progress.c.first_event_ms,
    zone_progress.c.dirty_from,
    zone_progress.c.change_seq,
    zone_progress.c.computed_until,
)


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
    this is a superset; the caller checks each row in its own zone).

    Straight to the driver: every pass reads this, one row per trigger with work."""
    mark = placeholder(conn)
    result = conn.exec_driver_sql(
        "SELECT location_id, trigger_id, first_event_ms, dirty_from, change_seq, "
        "computed_until FROM zone_progress "
        f"WHERE (claimed_until IS NULL OR claimed_until < {mark}) "
        "AND (computed_until IS NULL OR dirty_from IS NOT NULL "
        f"OR computed_until < {mark})",
        (now, bound),
    )
    assert result.cursor is not None
    rows = result.cursor.fetchall()
    result.close()
    return [ProgressRow(*row) for row in rows]


def claim_all(
    conn: Connection, keys: Sequence[tuple[int, str]], token: str, now: int, until: int
) -> list[ProgressRow]:
    """Take each (location, trigger) not held by an unexpired claim (one conditional
    UPDATE per row, sent as one statement: on PostgreSQL a second claimant waits on the
    row lock and then sees the first one's claim); returns the progress of those taken,
    read after the claim."""
    if not keys:
        return []
    mark = placeholder(conn)
    driver_executemany(  # straight to the driver: a pass claims up to 256 triggers
        conn,
        f"UPDATE zone_progress SET claimed_by = {mark}, claimed_until = {mark} "
        f"WHERE location_id = {mark} AND trigger_id = {mark} "
        f"AND (claimed_until IS NULL OR claimed_until < {mark})",
        [(token, until, location, trigger, now) for location, trigger in keys],
    )
    return _claimed(conn, token, [location for location, _ in keys])


def held(conn: Connection, token: str, location_ids: Sequence[int]) -> set[tuple[int, str]]:
    """In a writing transaction: the triggers still claimed by `token`, locked until it
    ends (PostgreSQL), so none of them can be taken over before the write commits. A claim
    that lapsed and was taken by another run is not among them."""
    return {(row.location_id, row.trigger_id) for row in _claimed(conn, token, location_ids)}


def _claimed(conn: Connection, token: str, location_ids: Sequence[int]) -> list[ProgressRow]:
    p = zone_progress
    query = select(*_PROGRESS).where(
        p.c.location_id.in_(sorted(set(location_ids))), p.c.claimed_by == token
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return [ProgressRow(*row) for row in conn.execute(query)]


def release_all(conn: Connection, token: str, location_ids: Sequence[int]) -> None:
    """Give up every claim `token` still holds."""
    p = zone_progress
    conn.execute(
        update(p)
        .where(p.c.location_id.in_(sorted(set(location_ids))), p.c.claimed_by == token)
        .values(claimed_by=None, claimed_until=None)
    )


@contextmanager
def step_savepoint(conn: Connection) -> Iterator[None]:
    """In the pass's write: one trigger's step, undone alone if it raises (the error goes
    on to the caller, the transaction stays usable).

    Sent straight to the driver: SQLAlchemy's `begin_nested` cost the job a tenth of its
    write (a pass takes up to 256 steps). Steps never nest, so one name serves."""
    driver_execute(conn, "SAVEPOINT histogram_step", ())
    try:
        yield
    except BaseException:
        driver_execute(conn, "ROLLBACK TO SAVEPOINT histogram_step", ())
        driver_execute(conn, "RELEASE SAVEPOINT histogram_step", ())
        raise
    driver_execute(conn, "RELEASE SAVEPOINT histogram_step", ())


def finish_all(conn: Connection, finished: Sequence[tuple[ProgressRow, int]]) -> None:
    """In the pass's write: record how far the job got with each trigger (`computed_until`),
    clearing its `dirty_from` only if nothing was ingested since the pass read its
    progress (`change_seq` unchanged: ingest bumps it in the event's own transaction).

    One statement for the pass, not one per trigger: a day of 50 zone triggers spent a
    tenth of the job's time building the same UPDATE for each."""
    if not finished:
        return
    mark = placeholder(conn)
    driver_executemany(
        conn,
        f"UPDATE zone_progress SET computed_until = {mark}, dirty_from = CASE "
        f"WHEN change_seq = {mark} THEN NULL ELSE dirty_from END "
        f"WHERE location_id = {mark} AND trigger_id = {mark}",
        [(until, row.change_seq, row.location_id, row.trigger_id) for row, until in finished],
    )


def channels_of(conn: Connection, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """The channel of each (location, trigger) declared (a pass's triggers, at most a few
    hundred: one statement per location, each row found by its primary key)."""
    found: dict[tuple[int, str], str] = {}
    by_location: dict[int, list[str]] = {}
    for location, trigger in keys:
        by_location.setdefault(location, []).append(trigger)
    for location, trigger_ids in sorted(by_location.items()):
        for trigger, channel in conn.execute(
            select(triggers.c.id, triggers.c.channel_id).where(
                and_(triggers.c.location_id == location, triggers.c.id.in_(trigger_ids))
            )
        ):
            found[(location, str(trigger))] = str(channel)
    return found


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

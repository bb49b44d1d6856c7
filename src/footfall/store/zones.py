"""Zone analytics storage: per-trigger progress marks, claims, and the reads of the
histogram job (its events and its stored snapshots); what it writes is
`store.histogram_rows`, how a pass claims and finishes its triggers `store.zone_jobs`.

Invariants:
- `zone_progress.dirty_from` is at or before every join/leave stored since the histogram
  job last finished with that trigger (ingest lowers it in the event's own transaction).
- At most one job run works on a trigger at a time, in any process: it holds the claim
  (`claimed_by`, a token of its own, until `claimed_until`), and it writes only while the
  claim is still its own (`hold_claim` in the writing transaction). A run whose claim
  lapsed and was taken over writes nothing, so no stale result overwrites a newer one.
- Rows of one trigger never overlap: after a time zone change the rows that reach past
  the new zone's first recomputed hour are deleted (`restart_for_new_zone`).
- A row's `open_stays` is the replay state at its `hour_end` (`domain.stays.snapshot_json`);
  `snapshot_at` finds the latest one at or before an instant, in whatever zone the row was
  computed, and `live_seed` the latest one no event stored since can have changed.
- Loitering is a sign of presence (docs/api.md, Stays): it is read with the joins and
  leaves, and a late one marks its trigger for recomputation like them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, Connection, and_, delete, func, or_, select, update

from footfall.domain.ingest import EventRow
from footfall.domain.stays import JOIN, LOITER, ZoneEvent
from footfall.store.db import driver_executemany, placeholder
from footfall.store.schema import histograms, locations, zone_progress
from footfall.store.upserts import Upsert

__all__ = [
    "ProgressRow",
    "Snapshot",
    "claim_trigger",
    "hold_claim",
    "live_seed",
    "load_progress",
    "lock_location",
    "mark_loitering",
    "progress_of",
    "read_zone_events",
    "release_claim",
    "restart_for_new_zone",
    "snapshot_at",
    "zone_events",
]

ZONE_STAY_TYPES = ("RegionJoin", "RegionLeave", "Loitering")
# Where histograms begin (docs/api.md, Stays): the hour of the first join or leave.
_STAY_BOUNDS = ("RegionJoin", "RegionLeave")


@dataclass(frozen=True)
class ProgressRow:
    location_id: int
    trigger_id: str
    first_event_ms: int
    dirty_from: int | None
    change_seq: int
    computed_until: int | None


@dataclass(frozen=True)
class Snapshot:
    """The open stays (`domain.stays.snapshot_json`) a replay holds at `at`."""

    at: int
    open_stays: str


_PROGRESS_COLUMNS = (
    zone_progress.c.location_id,
    zone_progress.c.trigger_id,
    zone_progress.c.first_event_ms,
    zone_progress.c.dirty_from,
    zone_progress.c.change_seq,
    zone_progress.c.computed_until,
)


def _key(location_id: int, trigger_id: str) -> ColumnElement[bool]:
    return and_(
        zone_progress.c.location_id == location_id, zone_progress.c.trigger_id == trigger_id
    )


def zone_events(location_id: int, rows: Iterable[EventRow]) -> tuple[Upsert, dict[str, int]]:
    """For the ingest transaction: which zone triggers got joins, leaves or Loitering, and
    from which instant on the job must recompute (its `dirty_from`): the earliest such
    event's own time, so the job's first hour is the one holding it in any zone (a
    quarter-hour start may lie in the hour before where the offset is not a whole
    quarter-hour).

    Returns the upsert for the triggers with a join or leave in the batch (send with
    `upserts.run`; `first_event_ms`, where the trigger's hours start, comes from joins and
    leaves alone: docs/api.md, Histograms), and, for the triggers with only Loitering, the
    earliest of it (send with `mark_loitering`). A Loitering starts no hours, whatever the
    order the events arrive in."""
    earliest: dict[str, int] = {}  # trigger -> dirty from
    bounds: dict[str, int] = {}  # trigger -> earliest join or leave
    for row in rows:
        kind, trigger, when = row[2], row[3], row[11]
        if kind in ZONE_STAY_TYPES and when < earliest.get(trigger, when + 1):
            earliest[trigger] = when
        if kind in _STAY_BOUNDS and when < bounds.get(trigger, when + 1):
            bounds[trigger] = when
    upsert = Upsert(
        table="zone_progress",
        columns=("location_id", "trigger_id", "first_event_ms", "dirty_from", "change_seq"),
        types=("int", "varchar", "bigint", "bigint", "bigint"),
        conflict=(
            "ON CONFLICT (location_id, trigger_id) DO UPDATE SET "
            "first_event_ms = CASE WHEN excluded.first_event_ms < zone_progress.first_event_ms "
            "THEN excluded.first_event_ms ELSE zone_progress.first_event_ms END, "
            "dirty_from = CASE WHEN zone_progress.dirty_from IS NULL "
            "OR excluded.dirty_from < zone_progress.dirty_from "
            "THEN excluded.dirty_from ELSE zone_progress.dirty_from END, "
            "change_seq = zone_progress.change_seq + 1"
        ),
        rows=[(location_id, t, start, earliest[t], 1) for t, start in sorted(bounds.items())],
    )
    loitering = {t: when for t, when in earliest.items() if t not in bounds}
    return upsert, loitering


def mark_loitering(conn: Connection, location_id: int, earliest: dict[str, int]) -> None:
    """Triggers that got only Loitering: the job recomputes their hours from the earliest
    of it. A trigger with no join or leave yet has no progress row and no hours, and gets
    none from a Loitering (only an update, never an insert)."""
    if not earliest:
        return
    p = placeholder(conn)
    driver_executemany(
        conn,
        f"UPDATE zone_progress SET dirty_from = CASE WHEN dirty_from IS NULL "
        f"OR {p} < dirty_from THEN {p} ELSE dirty_from END, change_seq = change_seq + 1 "
        f"WHERE location_id = {p} AND trigger_id = {p}",
        [(when, when, location_id, t) for t, when in sorted(earliest.items())],
    )


def load_progress(conn: Connection) -> list[ProgressRow]:
    return [
        ProgressRow(*row)
        for row in conn.execute(
            select(*_PROGRESS_COLUMNS).order_by(
                zone_progress.c.location_id, zone_progress.c.trigger_id
            )
        )
    ]


def progress_of(conn: Connection, location_id: int, trigger_id: str) -> ProgressRow | None:
    row = conn.execute(
        select(*_PROGRESS_COLUMNS).where(_key(location_id, trigger_id))
    ).one_or_none()
    return None if row is None else ProgressRow(*row)


def claim_trigger(
    conn: Connection, location_id: int, trigger_id: str, token: str, now: int, until: int
) -> bool:
    """Take the trigger for one job run unless another run holds an unexpired claim.

    One conditional UPDATE: on PostgreSQL the row lock makes a concurrent second claimant
    wait and then see the first one's claim; on SQLite the write transaction serialises.
    """
    taken = conn.execute(
        update(zone_progress)
        .where(
            _key(location_id, trigger_id),
            or_(zone_progress.c.claimed_until.is_(None), zone_progress.c.claimed_until < now),
        )
        .values(claimed_by=token, claimed_until=until)
    ).rowcount
    return bool(taken)


def hold_claim(conn: Connection, location_id: int, trigger_id: str, token: str, until: int) -> bool:
    """In a writing transaction: keep the claim until `until`, if it is still ours (it
    may have lapsed and been taken over by another run, which then owns the trigger)."""
    held = conn.execute(
        update(zone_progress)
        .where(_key(location_id, trigger_id), zone_progress.c.claimed_by == token)
        .values(claimed_until=until)
    ).rowcount
    return bool(held)


def release_claim(
    conn: Connection, location_id: int, trigger_id: str, token: str, *, retry_at: int | None
) -> None:
    """Give the trigger up; with `retry_at`, no run takes it again before then (back-off
    after a failure)."""
    conn.execute(
        update(zone_progress)
        .where(_key(location_id, trigger_id), zone_progress.c.claimed_by == token)
        .values(claimed_by=None, claimed_until=retry_at)
    )


def read_zone_events(
    conn: Connection, location_id: int, trigger_id: str, since: int, until: int | None = None
) -> list[ZoneEvent]:
    """Joins, leaves and Loitering with event_time in [since, until), in replay order
    (no upper bound when `until` is None: live values count a join a little ahead of the
    clock).

    Plain tuples straight from the driver's cursor, with the `kind` computed by the
    database: the histogram job reads 100k of these per day of a busy site, and building
    a row object per event would cost more than the query.
    """
    mark = placeholder(conn)
    bounded = "" if until is None else f"AND event_time < {mark} "
    result = conn.exec_driver_sql(
        "SELECT event_time, record_id, object_id, "
        f"CASE event_type WHEN 'RegionJoin' THEN {JOIN} WHEN 'Loitering' THEN {LOITER} "
        "ELSE 0 END "
        f"FROM events WHERE location_id = {mark} AND trigger_id = {mark} "
        f"AND event_time >= {mark} {bounded}"
        "AND event_type IN ('RegionJoin', 'RegionLeave', 'Loitering') "
        "ORDER BY event_time, record_id, object_id",
        (location_id, trigger_id, since) + (() if until is None else (until,)),
    )
    assert result.cursor is not None
    rows = result.cursor.fetchall()
    result.close()
    return cast(list[ZoneEvent], rows)


def snapshot_at(
    conn: Connection, location_id: int, trigger_id: str, instant: int
) -> Snapshot | None:
    """The latest stored snapshot taken at or before `instant`, if any."""
    found = conn.execute(
        select(histograms.c.hour_end, histograms.c.open_stays)
        .where(
            histograms.c.location_id == location_id,
            histograms.c.trigger_id == trigger_id,
            histograms.c.hour_end <= instant,
        )
        .order_by(histograms.c.hour_end.desc())
        .limit(1)
    ).one_or_none()
    return None if found is None else Snapshot(int(found.hour_end), str(found.open_stays))


def live_seed(
    conn: Connection, location_id: int, trigger_id: str, at_or_before: int
) -> Snapshot | None:
    """The latest snapshot taken at or before `at_or_before` that is still exact: taken no
    later than the earliest event stored since the job computed it (`dirty_from`). A stay
    may last any time while Loitering keeps it in, so a live value replays from here
    rather than from a fixed look-back."""
    progress = progress_of(conn, location_id, trigger_id)
    if progress is None:
        return None
    limit = at_or_before if progress.dirty_from is None else min(at_or_before, progress.dirty_from)
    return snapshot_at(conn, location_id, trigger_id, limit)


def restart_for_new_zone(conn: Connection, location_id: int, keep_until: int) -> None:
    """The location's time zone changed: its local hours are no longer those stored.

    Rows ending after `keep_until` (a boundary of the new zone, no later than the oldest
    raw event kept) are deleted and recomputed from there in the new zone; older rows,
    whose raw events are gone, stay as they were computed. With no row kept, a trigger
    starts again from its first event.
    """
    conn.execute(
        delete(histograms).where(
            histograms.c.location_id == location_id, histograms.c.hour_end > keep_until
        )
    )
    kept = {
        str(trigger): int(end)
        for trigger, end in conn.execute(
            select(histograms.c.trigger_id, func.max(histograms.c.hour_end))
            .where(histograms.c.location_id == location_id)
            .group_by(histograms.c.trigger_id)
        )
    }
    for (trigger,) in conn.execute(
        select(zone_progress.c.trigger_id).where(zone_progress.c.location_id == location_id)
    ).all():
        conn.execute(
            update(zone_progress)
            .where(_key(location_id, str(trigger)))
            .values(
                computed_until=keep_until if str(trigger) in kept else None,
                dirty_from=None,
                # A run that computed in the old zone must not clear what this dirtied.
                change_seq=zone_progress.c.change_seq + 1,
            )
        )


def lock_location(conn: Connection, location_id: int) -> str | None:
    """Take the location's row lock (SQLite: the write transaction already serialises);
    returns its time zone (None when it is gone)."""
    found = conn.execute(
        select(locations.c.timezone).where(locations.c.id == location_id).with_for_update()
    ).scalar_one_or_none()
    return None if found is None else str(found)

"""Occupancy counters and queues: define them, and read their live values (docs/api.md, Occupancy
counters and Queues).

Values are computed when asked, from the committed events and the clock: they include
every event as soon as its ingest call has answered, they cannot depend on arrival order,
and a reset, a 4-hour close or a 15-minute expiry shows up without any event arriving.
A zone is replayed from the histogram job's latest exact snapshot a day or more back (a
car that Loitering keeps parked for a week is still in), else from `LOOKBACK_MS` back.

Calibration, max idle and the audit job that records idle resets are in
`services/drift.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any

from sqlalchemy import Connection

from footfall.domain.occupancy import (
    LOOKBACK_MS,
    IdleReset,
    ZoneMetrics,
    line_timeline,
    parse_duration,
    reset_period,
    zone_metrics,
)
from footfall.domain.stays import OpenStay, parse_snapshot, replay
from footfall.domain.times import format_local, now_ms
from footfall.services.errors import NotFoundError, ServiceError
from footfall.store import locations as location_store
from footfall.store import occupancy as store
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.occupancy import CounterRow, QueueRow

__all__ = [
    "Counter",
    "CounterValue",
    "Queue",
    "QueueValue",
    "counter_value",
    "create_counter",
    "create_queue",
    "delete_counter",
    "delete_queue",
    "existing_location",
    "list_counters",
    "list_queues",
    "max_idle_ms",
    "queue_value",
    "render_counter",
    "render_queue",
]

# Counters and queues as the service hands them out.
Counter = CounterRow
Queue = QueueRow

_RESET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class CounterValue:
    counter: CounterRow
    occupancy: int
    changed_at: int
    calibrated_at: int | None = None  # the calibration the value counts from
    idle_resets: tuple[IdleReset, ...] = ()  # this period's, for the audit trail
    period_start: int = 0


@dataclass(frozen=True)
class QueueValue:
    queue: QueueRow
    length: int
    wait_time: float
    changed_at: int


def _triggers_of_type(
    conn: Connection, location_id: int, ids: tuple[str, ...], kind: str, option: str
) -> None:
    known = location_store.load_triggers(conn, location_id)
    for trigger_id in ids:
        trigger = known.get(trigger_id)
        if trigger is None:
            raise ServiceError(
                f"{option}: location {location_id} has no trigger {trigger_id!r} "
                "(its agent declares triggers with PUT /ingest/v1/config)"
            )
        if trigger.type != kind:
            raise ServiceError(
                f"{option}: trigger {trigger_id!r} is a {trigger.type} trigger; expected {kind}"
            )


def max_idle_ms(text: str) -> int:
    """A `--max-idle` duration in milliseconds, or ServiceError naming the option."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ServiceError(f"--max-idle {exc}") from None


def existing_location(conn: Connection, location_id: int) -> location_store.LocationRow:
    """The location, or NotFoundError naming the command that lists them."""
    location = location_store.get_location(conn, location_id)
    if location is None:
        raise NotFoundError(f"no location {location_id}: see `footfall locations list`")
    return location


def create_counter(
    db: Database,
    *,
    location_id: int,
    name: str,
    enter: tuple[str, ...] = (),
    exit_: tuple[str, ...] = (),
    zone: str | None = None,
    capacity: int | None = None,
    reset: str = "00:00",
    max_idle: str | None = None,
) -> CounterRow:
    if zone is not None and (enter or exit_):
        raise ServiceError("give either --enter and --exit line triggers, or one --zone trigger")
    if zone is None and not (enter and exit_):
        raise ServiceError("a line counter needs both --enter and --exit triggers (or --zone)")
    if capacity is not None and capacity < 1:
        raise ServiceError(f"--capacity: expected a positive integer, got {capacity}")
    match = _RESET.match(reset)
    if not match:
        raise ServiceError(f"--reset: expected local time HH:MM (00:00 to 23:59), got {reset!r}")
    if not name.strip():
        raise ServiceError("--name must not be empty")
    idle_ms = None if max_idle is None else max_idle_ms(max_idle)
    if idle_ms is not None and zone is not None:
        raise ServiceError("--max-idle applies to line counters (--enter/--exit), not --zone")
    with db.write() as conn:
        existing_location(conn, location_id)
        if zone is not None:
            _triggers_of_type(conn, location_id, (zone,), "Zone", "--zone")
        _triggers_of_type(conn, location_id, enter, "Line", "--enter")
        _triggers_of_type(conn, location_id, exit_, "Line", "--exit")
        row = CounterRow(
            0,
            location_id,
            name.strip(),
            enter,
            exit_,
            zone,
            capacity,
            int(match.group(1)) * 60 + int(match.group(2)),
            idle_ms,
        )
        new_id = store.insert_counter(conn, row, now_ms())
    return replace(row, id=new_id)


def create_queue(db: Database, *, location_id: int, name: str, zone: str) -> QueueRow:
    if not name.strip():
        raise ServiceError("--name must not be empty")
    with db.write() as conn:
        existing_location(conn, location_id)
        _triggers_of_type(conn, location_id, (zone,), "Zone", "--zone")
        row = QueueRow(0, location_id, name.strip(), zone)
        new_id = store.insert_queue(conn, row, now_ms())
    return replace(row, id=new_id)


def list_counters(db: Database, location_id: int | None = None) -> list[CounterRow]:
    with db.read() as conn:
        return store.list_counters(conn, None if location_id is None else [location_id])


def list_queues(db: Database, location_id: int | None = None) -> list[QueueRow]:
    with db.read() as conn:
        return store.list_queues(conn, None if location_id is None else [location_id])


def delete_counter(db: Database, counter_id: int) -> None:
    with db.write() as conn:
        if not store.delete_counter(conn, counter_id):
            raise NotFoundError(f"no occupancy counter {counter_id}: see `footfall occupancy list`")


def delete_queue(db: Database, queue_id: int) -> None:
    with db.write() as conn:
        if not store.delete_queue(conn, queue_id):
            raise NotFoundError(f"no queue {queue_id}: see `footfall queues list`")


def _zone(conn: Connection, location_id: int, trigger_id: str, now: int) -> ZoneMetrics:
    since = now - LOOKBACK_MS
    seed = zone_store.live_seed(conn, location_id, trigger_id, since)
    opened: dict[int, OpenStay] = {}
    if seed is not None:
        since, opened = seed.at, parse_snapshot(seed.open_stays)
    events = zone_store.read_zone_events(conn, location_id, trigger_id, since)
    return zone_metrics(replay(events, open_at_start=opened, horizon_ms=now), now, since)


def counter_value(conn: Connection, counter: CounterRow, zone: tzinfo, now: int) -> CounterValue:
    if counter.zone_trigger is not None:
        metrics = _zone(conn, counter.location_id, counter.zone_trigger, now)
        return CounterValue(counter, metrics.inside, metrics.changed_at)
    start, end = reset_period(now, zone, counter.reset_minute)
    triggers = [*counter.enter_triggers, *counter.exit_triggers]
    moves: dict[int, int] = {}
    for when, trigger in store.crossings(conn, counter.location_id, triggers, start, end):
        # A trigger listed both as enter and exit cancels out, as its crossings would.
        delta = (trigger in counter.enter_triggers) - (trigger in counter.exit_triggers)
        moves[when] = moves.get(when, 0) + delta
    replayed = line_timeline(
        moves,
        start,
        end,
        calibrations=store.calibrations(conn, counter.location_id, counter.id, start, now),
        max_idle_ms=counter.max_idle_ms,
        now=now,
    )
    return CounterValue(
        counter,
        replayed.value,
        replayed.changed_at,
        replayed.calibrated_at,
        tuple(replayed.idle_resets),
        start,
    )


def queue_value(conn: Connection, queue: QueueRow, now: int) -> QueueValue:
    metrics = _zone(conn, queue.location_id, queue.zone_trigger, now)
    return QueueValue(queue, metrics.inside, metrics.wait_time, metrics.wait_changed_at)


def render_counter(value: CounterValue, zone: tzinfo) -> dict[str, Any]:
    c = value.counter
    return {
        "id": c.id,
        "name": c.name,
        "location_id": c.location_id,
        "occupancy": value.occupancy,
        "capacity": c.capacity,
        "time": format_local(value.changed_at, zone),
        # Extension: the head count the value counts from, null when none.
        "calibrated_at": (
            None if value.calibrated_at is None else format_local(value.calibrated_at, zone)
        ),
    }


def render_queue(value: QueueValue, zone: tzinfo) -> dict[str, Any]:
    q = value.queue
    return {
        "id": q.id,
        "name": q.name,
        "location_id": q.location_id,
        "length": value.length,
        "wait_time": value.wait_time,
        "time": format_local(value.changed_at, zone),
    }

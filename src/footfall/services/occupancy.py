"""Occupancy counters and queues: define them, and read their live values (docs/api.md, Occupancy
counters and Queues).

Values are computed when asked, from the committed events and the clock: they include
every event as soon as its ingest call has answered, they cannot depend on arrival order,
and a reset, a 4-hour close or a 15-minute expiry shows up without any event arriving.
A zone is replayed from the histogram job's latest exact snapshot a day or more back (a
car that Loitering keeps parked for a week is still in), else from `LOOKBACK_MS` back.

Drift: `calibrate` stores an operator's head count (who and when) in the
counter's audit trail, and the value counts from it at once; a counter's max idle makes
it go back to 0 after that long without a crossing (`domain.occupancy.line_timeline`
derives these idle resets from the events, so a late crossing moves them). The audit job
(`IdleResetAudit`) writes each idle reset the current period went through into the
trail once, in any number of processes (the counter's row lock, `ON CONFLICT DO
NOTHING`), and marks one that later events cancelled as withdrawn. A counter that fails
(a poisoned row) is logged and skipped for `AUDIT_RETRY_MS`; the others go on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any

from sqlalchemy import Connection

from footfall.domain.fair_order import interleave
from footfall.domain.occupancy import (
    LOOKBACK_MS,
    IdleReset,
    ZoneMetrics,
    format_duration,
    line_timeline,
    parse_duration,
    reset_period,
    zone_metrics,
)
from footfall.domain.stays import OpenStay, parse_snapshot, replay
from footfall.domain.times import format_local, now_ms, parse_zone
from footfall.services.errors import NotFoundError, ServiceError
from footfall.store import locations as location_store
from footfall.store import occupancy as store
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.occupancy import AuditRow, CounterRow, QueueRow

__all__ = [
    "AUDIT_RETRY_MS",
    "MAX_CALIBRATION",
    "AuditEntry",
    "Counter",
    "CounterValue",
    "IdleResetAudit",
    "Queue",
    "QueueValue",
    "audit_trail",
    "calibrate",
    "counter_value",
    "create_counter",
    "create_queue",
    "delete_counter",
    "delete_queue",
    "list_counters",
    "list_queues",
    "queue_value",
    "render_counter",
    "render_queue",
    "set_max_idle",
]

# Counters, queues and audit entries as the service hands them out.
Counter = CounterRow
Queue = QueueRow
AuditEntry = AuditRow

_RESET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_CALIBRATION = 1_000_000
AUDIT_RETRY_MS = 60_000
log = logging.getLogger("footfall.occupancy")


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


def _location(conn: Connection, location_id: int) -> location_store.LocationRow:
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
    idle_ms = None if max_idle is None else _max_idle(max_idle)
    if idle_ms is not None and zone is not None:
        raise ServiceError("--max-idle applies to line counters (--enter/--exit), not --zone")
    with db.write() as conn:
        _location(conn, location_id)
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
        _location(conn, location_id)
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


# -- drift --------------------------------------------------------------------


def _max_idle(text: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ServiceError(f"--max-idle {exc}") from None


def _actor(by: str) -> str:
    who = by.strip()
    if not who or len(who) > 100 or not who.isprintable():
        raise ServiceError(f"--by {by!r}: expected who did it, 1 to 100 printable characters")
    return who


def _line_counter(conn: Connection, counter_id: int) -> CounterRow:
    counter = store.lock_counter(conn, counter_id)
    if counter is None:
        raise NotFoundError(f"no occupancy counter {counter_id}: see `footfall occupancy list`")
    if counter.zone_trigger is not None:
        raise ServiceError(
            f"counter {counter_id} counts zone {counter.zone_trigger!r}, which does not drift "
            "(stays close 4 hours after the last sign of presence): calibration and "
            "--max-idle apply to line counters"
        )
    return counter


def calibrate(
    db: Database, counter_id: int, value: int, *, by: str, clock: Callable[[], int] = now_ms
) -> CounterValue:
    """An operator's head count, effective at once and logged with who and when."""
    if not 0 <= value <= MAX_CALIBRATION:
        raise ServiceError(f"--value {value}: expected a head count from 0 to {MAX_CALIBRATION}")
    actor = _actor(by)
    with db.write() as conn:
        counter = _line_counter(conn, counter_id)
        location = _location(conn, counter.location_id)
        zone = parse_zone(location.timezone)
        at = clock()
        before = counter_value(conn, counter, zone, at)
        latest = store.audit_rows(conn, counter_id=counter_id, kind="calibration", limit=1)
        if latest and latest[0].at >= at:  # two within one millisecond: keep both, in order
            at = latest[0].at + 1
        store.insert_audit(
            conn,
            AuditRow(
                counter.location_id,
                counter_id,
                at,
                "calibration",
                actor,
                before.occupancy,
                value,
                f"head count {value} (the counter said {before.occupancy})",
                None,
            ),
        )
        return counter_value(conn, counter, zone, max(at, clock()))


def set_max_idle(
    db: Database, counter_id: int, max_idle: str, *, by: str, clock: Callable[[], int] = now_ms
) -> CounterRow:
    """Set (a duration) or clear (`off`) a line counter's max idle, logged in its trail."""
    idle_ms = None if max_idle.strip().lower() == "off" else _max_idle(max_idle)
    actor = _actor(by)
    with db.write() as conn:
        counter = _line_counter(conn, counter_id)
        store.set_max_idle(conn, counter_id, idle_ms)
        store.insert_audit(
            conn,
            AuditRow(
                counter.location_id,
                counter_id,
                clock(),
                "max_idle",
                actor,
                None,
                None,
                "max idle off" if idle_ms is None else f"max idle {format_duration(idle_ms)}",
                None,
            ),
            if_new=True,
        )
    return replace(counter, max_idle_ms=idle_ms)


def audit_trail(
    db: Database,
    *,
    location_id: int | None = None,
    counter_id: int | None = None,
    limit: int = 100,
) -> list[AuditRow]:
    with db.read() as conn:
        return store.audit_rows(
            conn,
            location_ids=None if location_id is None else [location_id],
            counter_id=counter_id,
            limit=limit,
        )


class IdleResetAudit:
    """The audit job (one per server process): each pass records the idle resets of the
    current period of every counter with a max idle, and withdraws recorded ones that no
    longer happened. It reads first, and writes (under the counter's lock) only when the
    trail is out of step; a counter that fails is left alone for AUDIT_RETRY_MS."""

    def __init__(self, db: Database, *, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock
        self._failing: dict[int, int] = {}  # counter id -> when to try it again

    def run(self) -> int:
        """One pass; returns the rows written."""
        written = 0
        with self.db.read() as conn:
            counters = [c for c in store.list_counters(conn) if c.max_idle_ms is not None]
            zones = {loc.id: loc.timezone for loc in location_store.list_locations(conn)}
        by_location: dict[int, list[CounterRow]] = {}
        for counter in counters:
            by_location.setdefault(counter.location_id, []).append(counter)
        # Locations in turn, each counter its own transaction: a location with many
        # counters does not hold the others back until all of its own are audited.
        for counter in interleave(list(by_location.values())):
            now = self.clock()
            if self._failing.get(counter.id, 0) > now or counter.location_id not in zones:
                continue
            try:
                written += self._audit(counter, parse_zone(zones[counter.location_id]), now)
                self._failing.pop(counter.id, None)
            except Exception:
                log.exception(
                    "occupancy audit: counter %s failed; retrying in %d s",
                    counter.id,
                    AUDIT_RETRY_MS // 1000,
                )
                self._failing[counter.id] = now + AUDIT_RETRY_MS
        return written

    def _audit(self, counter: CounterRow, zone: tzinfo, now: int) -> int:
        with self.db.read() as conn:
            if _reconcile(conn, counter, zone, now, dry_run=True) == 0:
                return 0
        with self.db.write() as conn:
            locked = store.lock_counter(conn, counter.id)
            if locked is None or locked.max_idle_ms is None:
                return 0
            return _reconcile(conn, locked, zone, self.clock(), dry_run=False)


def _reconcile(
    conn: Connection, counter: CounterRow, zone: tzinfo, now: int, *, dry_run: bool
) -> int:
    """Bring the trail's idle resets of the current period in line with the events;
    returns how many rows that takes (written unless `dry_run`)."""
    value = counter_value(conn, counter, zone, now)
    derived = {r.at: r for r in value.idle_resets}
    recorded = {
        r.at
        for r in store.audit_rows(
            conn, counter_id=counter.id, kind="idle_reset", since=value.period_start, limit=10_000
        )
        if r.withdrawn_at is None
    }
    missing = [derived[at] for at in sorted(set(derived) - recorded)]
    gone = sorted(recorded - set(derived))
    if dry_run:
        return len(missing) + len(gone)
    assert counter.max_idle_ms is not None
    idle = format_duration(counter.max_idle_ms)
    count = 0
    for reset in missing:
        note = f"no crossing for {idle}"
        if reset.raw_before < 0:
            note += f" (exits exceeded enters by {-reset.raw_before})"
        count += store.insert_audit(
            conn,
            AuditRow(
                counter.location_id,
                counter.id,
                reset.at,
                "idle_reset",
                "max-idle",
                reset.value_before,
                0,
                note,
                None,
            ),
            if_new=True,
        )
    store.withdraw_idle_resets(conn, counter.location_id, counter.id, gone, now)
    return count + len(gone)

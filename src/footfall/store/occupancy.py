"""Occupancy counters and queues: their definitions, the events their values come from,
and the audit trail of what was done to a counter: calibrations, max-idle
changes and idle resets, keyed by (location, counter, instant, kind).

Counters and queues are keyed by (location_id, id), with ids drawn from `store.ids` so they
stay unique across locations: `footfall occupancy delete ID` names a counter by its id
alone. An idle reset row is written once (`ON CONFLICT DO NOTHING`: several processes may
find the same reset) and is never deleted: when later events show the counter was not idle
after all, it is marked `withdrawn_at`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, insert, select, true, update

from footfall.store.db import placeholder
from footfall.store.ids import new_ids
from footfall.store.schema import events, occupancy_audit, occupancy_counters, queues

__all__ = [
    "AuditRow",
    "CounterRow",
    "QueueRow",
    "audit_rows",
    "calibrations",
    "crossings",
    "delete_counter",
    "delete_queue",
    "insert_audit",
    "insert_counter",
    "insert_queue",
    "list_counters",
    "list_queues",
    "lock_counter",
    "set_max_idle",
    "withdraw_idle_resets",
]


@dataclass(frozen=True)
class CounterRow:
    id: int
    location_id: int
    name: str
    enter_triggers: tuple[str, ...]
    exit_triggers: tuple[str, ...]
    zone_trigger: str | None
    capacity: int | None
    reset_minute: int
    max_idle_ms: int | None = None  # back to 0 after this long with no crossing


@dataclass(frozen=True)
class AuditRow:
    location_id: int
    counter_id: int
    at: int
    kind: str  # calibration | max_idle | idle_reset
    actor: str
    value_before: int | None
    value_after: int | None
    note: str
    withdrawn_at: int | None


@dataclass(frozen=True)
class QueueRow:
    id: int
    location_id: int
    name: str
    zone_trigger: str


def _split(text: str) -> tuple[str, ...]:
    return tuple(t for t in text.split(",") if t)


def insert_counter(conn: Connection, counter: CounterRow, now: int) -> int:
    (counter_id,) = new_ids(conn, "counters", 1)
    conn.execute(
        insert(occupancy_counters).values(
            id=counter_id,
            location_id=counter.location_id,
            name=counter.name,
            enter_triggers=",".join(counter.enter_triggers),
            exit_triggers=",".join(counter.exit_triggers),
            zone_trigger=counter.zone_trigger,
            capacity=counter.capacity,
            reset_minute=counter.reset_minute,
            max_idle_ms=counter.max_idle_ms,
            created_at=now,
        )
    )
    return counter_id


def _counter(r: Any) -> CounterRow:
    return CounterRow(
        r.id,
        r.location_id,
        r.name,
        _split(r.enter_triggers),
        _split(r.exit_triggers),
        r.zone_trigger,
        r.capacity,
        r.reset_minute,
        None if r.max_idle_ms is None else int(r.max_idle_ms),
    )


def list_counters(conn: Connection, location_ids: Sequence[int] | None = None) -> list[CounterRow]:
    query = select(occupancy_counters).order_by(occupancy_counters.c.id)
    if location_ids is not None:
        query = query.where(occupancy_counters.c.location_id.in_(location_ids))
    return [_counter(r) for r in conn.execute(query)]


def lock_counter(conn: Connection, counter_id: int) -> CounterRow | None:
    """The counter, row-locked for the transaction (PostgreSQL; SQLite's write
    transaction serialises anyway): its audit is reconciled by one process at a time."""
    query = select(occupancy_counters).where(occupancy_counters.c.id == counter_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    return None if row is None else _counter(row)


def set_max_idle(conn: Connection, counter_id: int, max_idle_ms: int | None) -> None:
    conn.execute(
        update(occupancy_counters)
        .where(occupancy_counters.c.id == counter_id)
        .values(max_idle_ms=max_idle_ms)
    )


def delete_counter(conn: Connection, counter_id: int) -> bool:
    conn.execute(delete(occupancy_audit).where(occupancy_audit.c.counter_id == counter_id))
    return bool(
        conn.execute(
            delete(occupancy_counters).where(occupancy_counters.c.id == counter_id)
        ).rowcount
    )


def insert_queue(conn: Connection, queue: QueueRow, now: int) -> int:
    (queue_id,) = new_ids(conn, "queues", 1)
    conn.execute(
        insert(queues).values(
            id=queue_id,
            location_id=queue.location_id,
            name=queue.name,
            zone_trigger=queue.zone_trigger,
            created_at=now,
        )
    )
    return queue_id


def list_queues(conn: Connection, location_ids: Sequence[int] | None = None) -> list[QueueRow]:
    query = select(queues).order_by(queues.c.id)
    if location_ids is not None:
        query = query.where(queues.c.location_id.in_(location_ids))
    return [QueueRow(r.id, r.location_id, r.name, r.zone_trigger) for r in conn.execute(query)]


def delete_queue(conn: Connection, queue_id: int) -> bool:
    return bool(conn.execute(delete(queues).where(queues.c.id == queue_id)).rowcount)


def crossings(
    conn: Connection, location_id: int, trigger_ids: Sequence[str], after: int, until: int
) -> Sequence[Any]:
    """(event_time, trigger_id) of TripwireCrossed events with after < event_time <= until."""
    return conn.execute(
        select(events.c.event_time, events.c.trigger_id)
        .where(
            events.c.location_id == location_id,
            events.c.trigger_id.in_(trigger_ids),
            events.c.event_type == "TripwireCrossed",
            events.c.event_time > after,
            events.c.event_time <= until,
        )
        .order_by(events.c.event_time)
    ).all()


def insert_audit(conn: Connection, row: AuditRow, *, if_new: bool = False) -> bool:
    """Write an audit row; with `if_new`, do nothing when its key is there already.
    Returns whether it was written."""
    values = dict(row.__dict__)
    if if_new:
        p = placeholder(conn)
        columns = ", ".join(values)
        return bool(
            conn.exec_driver_sql(
                f"INSERT INTO occupancy_audit ({columns}) VALUES ({', '.join([p] * len(values))}) "
                "ON CONFLICT (location_id, counter_id, at, kind) DO NOTHING",
                tuple(values.values()),
            ).rowcount
        )
    conn.execute(insert(occupancy_audit).values(**values))
    return True


def audit_rows(
    conn: Connection,
    *,
    location_ids: Sequence[int] | None = None,
    counter_id: int | None = None,
    kind: str | None = None,
    since: int | None = None,
    limit: int = 100,
) -> list[AuditRow]:
    """Newest first."""
    a = occupancy_audit
    where: list[ColumnElement[bool]] = []
    if location_ids is not None:
        where.append(a.c.location_id.in_(location_ids))
    if counter_id is not None:
        where.append(a.c.counter_id == counter_id)
    if kind is not None:
        where.append(a.c.kind == kind)
    if since is not None:
        where.append(a.c.at > since)
    query = select(a).where(and_(true(), *where)).order_by(a.c.at.desc(), a.c.kind).limit(limit)
    return [
        AuditRow(
            r.location_id,
            r.counter_id,
            int(r.at),
            r.kind,
            r.actor,
            r.value_before,
            r.value_after,
            r.note,
            r.withdrawn_at,
        )
        for r in conn.execute(query)
    ]


def calibrations(
    conn: Connection, location_id: int, counter_id: int, after: int, until: int
) -> list[tuple[int, int]]:
    """(instant, head count) of the counter's calibrations with after < instant <= until."""
    a = occupancy_audit
    return [
        (int(at), int(value))
        for at, value in conn.execute(
            select(a.c.at, a.c.value_after)
            .where(
                a.c.location_id == location_id,
                a.c.counter_id == counter_id,
                a.c.kind == "calibration",
                a.c.at > after,
                a.c.at <= until,
            )
            .order_by(a.c.at)
        )
    ]


def withdraw_idle_resets(
    conn: Connection, location_id: int, counter_id: int, instants: Sequence[int], now: int
) -> None:
    a = occupancy_audit
    if not instants:
        return
    conn.execute(
        update(a)
        .where(
            a.c.location_id == location_id,
            a.c.counter_id == counter_id,
            a.c.kind == "idle_reset",
            a.c.at.in_(instants),
            a.c.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now)
    )

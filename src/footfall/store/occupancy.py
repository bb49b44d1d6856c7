"""Occupancy counters and queues: their definitions, and the events their values come from.

Both are keyed by (location_id, id), with ids drawn from `store.ids` so they stay unique
across locations: `footfall occupancy delete ID` names a counter by its id alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from footfall.store.ids import new_ids
from footfall.store.schema import events, occupancy_counters, queues

__all__ = [
    "CounterRow",
    "QueueRow",
    "crossings",
    "delete_counter",
    "delete_queue",
    "insert_counter",
    "insert_queue",
    "list_counters",
    "list_queues",
    "zone_stay_events",
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
            created_at=now,
        )
    )
    return counter_id


def list_counters(conn: Connection, location_ids: Sequence[int] | None = None) -> list[CounterRow]:
    query = select(occupancy_counters).order_by(occupancy_counters.c.id)
    if location_ids is not None:
        query = query.where(occupancy_counters.c.location_id.in_(location_ids))
    return [
        CounterRow(
            r.id,
            r.location_id,
            r.name,
            _split(r.enter_triggers),
            _split(r.exit_triggers),
            r.zone_trigger,
            r.capacity,
            r.reset_minute,
        )
        for r in conn.execute(query)
    ]


def delete_counter(conn: Connection, counter_id: int) -> bool:
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


def zone_stay_events(
    conn: Connection, location_id: int, trigger_id: str, since: int
) -> Sequence[Any]:
    """(event_time, record_id, object_id, event_type) of joins and leaves from `since` on."""
    return conn.execute(
        select(
            events.c.event_time, events.c.record_id, events.c.object_id, events.c.event_type
        ).where(
            events.c.location_id == location_id,
            events.c.trigger_id == trigger_id,
            events.c.event_type.in_(("RegionJoin", "RegionLeave")),
            events.c.event_time >= since,
        )
    ).all()

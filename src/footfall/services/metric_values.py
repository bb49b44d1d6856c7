"""The live value of every occupancy counter and queue of a location, shaped as the
webhook body (SPEC §6) without its `event_time`: one definition for every surface that
pushes them (webhooks, MQTT), so a subscriber sees the same JSON whichever it uses.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy import Connection

from footfall.services import occupancy
from footfall.store import occupancy as occupancy_store

__all__ = ["KINDS", "metric_payloads"]

KINDS = ("occupancy", "queue")


def metric_payloads(
    conn: Connection, location_id: int, kind: str, zone: tzinfo, now: int
) -> dict[int, tuple[dict[str, Any], int]]:
    """metric id -> (payload without event_time, changed_at) for `kind` (occupancy|queue)."""
    out: dict[int, tuple[dict[str, Any], int]] = {}
    if kind == "occupancy":
        for counter in occupancy_store.list_counters(conn, [location_id]):
            value = occupancy.counter_value(conn, counter, zone, now)
            out[counter.id] = (
                {
                    "occupancy_id": counter.id,
                    "name": counter.name,
                    "location_id": counter.location_id,
                    "occupancy": value.occupancy,
                    "capacity": counter.capacity,
                },
                value.changed_at,
            )
    else:
        for queue in occupancy_store.list_queues(conn, [location_id]):
            qv = occupancy.queue_value(conn, queue, now)
            out[queue.id] = (
                {
                    "queue_id": queue.id,
                    "name": queue.name,
                    "location_id": queue.location_id,
                    "length": qv.length,
                    "wait_time": qv.wait_time,
                },
                qv.changed_at,
            )
    return out

"""The live value of every occupancy counter and queue of a location, shaped as the
webhook body (docs/api.md, Webhooks) without its `event_time`: one definition for every surface that
pushes them (webhooks, MQTT), so a subscriber sees the same JSON whichever it uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import Connection

from footfall.domain.times import parse_zone
from footfall.services import occupancy
from footfall.store import locations as location_store
from footfall.store import occupancy as occupancy_store
from footfall.store.db import Database

__all__ = ["KINDS", "LiveMetric", "live_metrics", "metric_payloads"]

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


@dataclass(frozen=True)
class LiveMetric:
    """One counter's or queue's live value, with the location it belongs to."""

    location_id: int
    location_name: str
    kind: str  # occupancy | queue
    metric_id: int
    payload: dict[str, Any]  # the webhook body without its event_time
    changed_at: int


def live_metrics(db: Database, now: int) -> list[LiveMetric]:
    """Every location's counters and queues, read in one snapshot."""
    with db.read() as conn:
        values = [
            LiveMetric(location.id, location.name, kind, metric_id, payload, changed_at)
            for location in location_store.list_locations(conn)
            for kind in KINDS
            for metric_id, (payload, changed_at) in metric_payloads(
                conn, location.id, kind, parse_zone(location.timezone), now
            ).items()
        ]
    return values

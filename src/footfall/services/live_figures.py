"""The business figures `/metrics` exports: every occupancy counter's and queue's value now.

Each figure is computed exactly as `/occupancy`, `/queues`, their webhooks and MQTT compute
it (`services.metric_values`), so a Grafana panel never disagrees with the API. A scrape
costs one replay per counter and queue (of its reset period, or of its zone's recent
stays), the same as one read-API call for each; the number of series is bounded by the
counters and queues an operator defines (`footfall occupancy create`, `footfall queues
create`), never by anything an edge agent sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from footfall.domain.times import parse_zone
from footfall.services.metric_values import metric_payloads
from footfall.store import locations as location_store
from footfall.store import occupancy as occupancy_store
from footfall.store.db import Database

__all__ = ["CounterFigure", "LiveFigures", "QueueFigure", "read_live_figures"]


@dataclass(frozen=True)
class CounterFigure:
    location_id: int
    counter_id: int
    name: str
    occupancy: int
    capacity: int | None


@dataclass(frozen=True)
class QueueFigure:
    location_id: int
    queue_id: int
    name: str
    length: int
    wait_seconds: float


@dataclass(frozen=True)
class LiveFigures:
    counters: list[CounterFigure]
    queues: list[QueueFigure]


def read_live_figures(db: Database, *, now: int) -> LiveFigures:
    counters: list[CounterFigure] = []
    queues: list[QueueFigure] = []
    with db.read() as conn:
        with_counters = {c.location_id for c in occupancy_store.list_counters(conn)}
        with_queues = {q.location_id for q in occupancy_store.list_queues(conn)}
        wanted = with_counters | with_queues
        if not wanted:
            return LiveFigures(counters, queues)
        zones = {
            loc.id: parse_zone(loc.timezone)
            for loc in location_store.list_locations(conn)
            if loc.id in wanted
        }
        for location_id in sorted(with_counters & zones.keys()):
            payloads = metric_payloads(conn, location_id, "occupancy", zones[location_id], now)
            for counter_id, (value, _changed) in sorted(payloads.items()):
                counters.append(
                    CounterFigure(
                        location_id,
                        counter_id,
                        value["name"],
                        value["occupancy"],
                        value["capacity"],
                    )
                )
        for location_id in sorted(with_queues & zones.keys()):
            payloads = metric_payloads(conn, location_id, "queue", zones[location_id], now)
            for queue_id, (value, _changed) in sorted(payloads.items()):
                queues.append(
                    QueueFigure(
                        location_id, queue_id, value["name"], value["length"], value["wait_time"]
                    )
                )
    return LiveFigures(counters, queues)

"""`GET /metrics`: Prometheus text exposition, parsed by any Prometheus-compatible scraper.

Open by default (serve it on a private port or network); with `FOOTFALL_METRICS_TOKEN`
set, a scrape must send `Authorization: Bearer <token>` (compared in constant time, like
every other secret). Everything exported:

- this process's instruments (`footfall.telemetry`: ingest outcomes, request durations,
  webhook attempt latencies) or, under `footfall serve --workers N`, their sum over every
  worker (prometheus_client's multiprocess mode, files in `PROMETHEUS_MULTIPROC_DIR`);
- gauges read from the database at scrape time (`services.observability`), the same in
  every process: `footfall_webhook_deliveries_pending`, `footfall_analytics_lag_seconds`
  (and `footfall_analytics_location_lag_seconds` per location),
  `footfall_locations_online`, and `footfall_database_up` (0 when it could not be read);
- the business figures, also read at scrape time (`services.live_figures`): every
  occupancy counter's `footfall_occupancy` and `footfall_occupancy_capacity`, every queue's
  `footfall_queue_length` and `footfall_queue_wait_seconds`, labelled `location_id`,
  `counter_id` / `queue_id` and `name` (one series per counter or queue an operator
  defined).

Names follow Prometheus' conventions so that `promtool check metrics` finds nothing: base
units, `_total` only on counters, no type name (`histogram`, `counter`...) inside a name.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.responses import Response

from footfall.domain.times import now_ms
from footfall.root import Database
from footfall.services.live_figures import LiveFigures, read_live_figures
from footfall.services.observability import read_gauges

__all__ = ["DatabaseCollector", "registry", "router"]

router = APIRouter(tags=["operations"])
log = logging.getLogger("footfall.metrics")


class DatabaseCollector(Collector):
    def __init__(self, db: Database, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "footfall_database_up", "1 when this scrape could read the database, else 0."
        )
        try:
            values = read_gauges(self.db, clock=self.clock)
        except Exception:
            log.exception("metrics: cannot read the database")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "footfall_webhook_deliveries_pending",
            "Webhook deliveries waiting for a (first or further) attempt.",
            value=values.webhook_deliveries_pending,
        )
        yield GaugeMetricFamily(
            "footfall_analytics_lag_seconds",
            "How long ago the oldest completed local hour not yet computed by the analytics "
            "(histogram) job ended, over every Zone trigger (0: up to date).",
            value=values.histogram_job_lag_seconds,
        )
        per_location = GaugeMetricFamily(
            "footfall_analytics_location_lag_seconds",
            "How long ago the oldest completed local hour not yet computed by the histogram "
            "job ended, per location, over its Zone triggers (0: up to date). One series per "
            "location that has had a zone event.",
            labels=["location_id"],
        )
        for location_id, lag in sorted(values.lag_by_location.items()):
            per_location.add_metric([str(location_id)], lag)
        yield per_location
        yield GaugeMetricFamily(
            "footfall_locations_online",
            "Locations whose agent called the ingest API in the last 5 minutes.",
            value=values.locations_online,
        )
        try:
            figures = read_live_figures(self.db, now=self.clock())
        except Exception:
            log.exception("metrics: cannot compute the occupancy and queue figures")
            return
        yield from _business(figures)


def _business(figures: LiveFigures) -> Iterator[Metric]:
    counter_labels = ["location_id", "counter_id", "name"]
    occupancy = GaugeMetricFamily(
        "footfall_occupancy",
        "Occupancy counter value now (as GET /occupancy).",
        labels=counter_labels,
    )
    capacity = GaugeMetricFamily(
        "footfall_occupancy_capacity",
        "Occupancy counter capacity (counters without one are not listed).",
        labels=counter_labels,
    )
    for c in figures.counters:
        labels = [str(c.location_id), str(c.counter_id), c.name]
        occupancy.add_metric(labels, c.occupancy)
        if c.capacity is not None:
            capacity.add_metric(labels, c.capacity)
    queue_labels = ["location_id", "queue_id", "name"]
    length = GaugeMetricFamily(
        "footfall_queue_length",
        "Objects in the queue's zone now (as GET /queues).",
        labels=queue_labels,
    )
    wait = GaugeMetricFamily(
        "footfall_queue_wait_seconds",
        "Mean stay of the objects that left the queue in the last 15 minutes (0 when none).",
        labels=queue_labels,
    )
    for q in figures.queues:
        labels = [str(q.location_id), str(q.queue_id), q.name]
        length.add_metric(labels, q.length)
        wait.add_metric(labels, q.wait_seconds)
    # A family with no series says nothing: it is left out (a site with no queues yet).
    yield from (family for family in (occupancy, capacity, length, wait) if family.samples)


class _ThisProcess(Collector):
    """The process-wide registry (instruments, process and platform collectors)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def registry(db: Database, clock: Callable[[], int] = now_ms) -> CollectorRegistry:
    """What `/metrics` exports for an app on `db`."""
    exported = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(exported)  # type: ignore[no-untyped-call]  # every worker, summed
    else:
        exported.register(_ThisProcess())
    exported.register(DatabaseCollector(db, clock))
    return exported


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    token: str | None = request.app.state.settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # Constant time: the comparison must not tell how much of a guess was right.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
            return Response(
                "metrics need 'Authorization: Bearer <FOOTFALL_METRICS_TOKEN>'\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": "Bearer"},
            )
    exported: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(exported), media_type=CONTENT_TYPE_LATEST)

"""Process-wide Prometheus instruments: what happens inside this process, counted as it
happens (ingest outcomes, request durations, webhook attempt latencies).

Values that live in the database (pending deliveries, histogram job lag, locations online)
are not instruments: `api.metrics` reads them when scraped, so every process answers the
same and none of them needs to own them.

Several server processes (`footfall serve --workers N`): `footfall serve` points
`PROMETHEUS_MULTIPROC_DIR` at a fresh directory before the workers start, prometheus_client
then keeps these counters and histograms in per-process files there, and `/metrics` in any
worker sums them over every process (see `api.metrics.registry`). That is why this module
holds only counters and histograms: they sum across processes without any choice to make.

No `_created` series: prometheus_client would export one per counter and histogram (and
per label set) by default; Prometheus' own exporters do not, `promtool check metrics`
and most dashboards have no use for them, and they double the series of every counter.

`footfall_events_stored` counts events newly stored, by location and event type: at most
(locations x 11 event types) series, a bound the operator sets by adding locations.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram, disable_created_metrics

__all__ = [
    "EVENTS_STORED",
    "HTTP_REQUEST_SECONDS",
    "INGEST_EVENTS",
    "WEBHOOK_DELIVERY_SECONDS",
    "count_ingest",
]

disable_created_metrics()  # type: ignore[no-untyped-call]  # the library's, unannotated

INGEST_EVENTS = Counter(
    "footfall_ingest_events",
    "Events received by POST /ingest/v1/events, by outcome: accepted (stored), duplicate "
    "(already stored: skipped), rejected (in a batch refused with 422).",
    ["outcome"],
)
for _outcome in ("accepted", "duplicate", "rejected"):
    INGEST_EVENTS.labels(_outcome)  # present (at 0) from the first scrape on

EVENTS_STORED = Counter(
    "footfall_events_stored",
    "Events newly stored by POST /ingest/v1/events (duplicates not counted), by location "
    "and event type.",
    ["location_id", "event_type"],
)

HTTP_REQUEST_SECONDS = Histogram(
    "footfall_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

WEBHOOK_DELIVERY_SECONDS = Histogram(
    "footfall_webhook_delivery_seconds",
    "Duration of webhook delivery attempts (connect to the end of the answer), every outcome.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def count_ingest(
    *,
    accepted: int = 0,
    duplicates: int = 0,
    rejected: int = 0,
    location_id: int | None = None,
    stored_by_type: Iterable[tuple[str, int]] = (),
) -> None:
    for event_type, count in stored_by_type:
        EVENTS_STORED.labels(str(location_id), event_type).inc(count)
    if accepted:
        INGEST_EVENTS.labels("accepted").inc(accepted)
    if duplicates:
        INGEST_EVENTS.labels("duplicate").inc(duplicates)
    if rejected:
        INGEST_EVENTS.labels("rejected").inc(rejected)

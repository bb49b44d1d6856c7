"""What operators watch, read from the database: the gauges of `/metrics` and the answer
of `/readyz`. Both read only; every server process sharing the database answers the same.

- `footfall_analytics_lag_seconds`: for the Zone trigger furthest behind, how long ago
  its oldest local hour that the job has never computed ended (0 when every completed hour
  is computed). Recomputations of hours already computed (late events) are not lag: their
  events may be days old by design.
- `footfall_analytics_location_lag_seconds{location_id}`: the same, per location (over its own
  Zone triggers), so a location whose backlog is long shows as itself and the others
  show that they are not waiting behind it.
- `footfall_locations_online`: locations whose agent called the ingest API within the last
  5 minutes (as the dashboard's "online").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cache

from sqlalchemy import text

from footfall.domain.histogram import hour_start, local_hours
from footfall.domain.times import now_ms, parse_zone
from footfall.services.dashboard import ONLINE_WITHIN_MS
from footfall.store import gauges, zone_jobs
from footfall.store import locations as location_store
from footfall.store.db import Database
from footfall.store.migrate import current_revision, head_revision

__all__ = ["Gauges", "Readiness", "read_gauges", "readiness"]

log = logging.getLogger("footfall.health")


@dataclass(frozen=True)
class Gauges:
    webhook_deliveries_pending: int
    histogram_job_lag_seconds: float
    locations_online: int
    # location id -> its own lag (as above, over its Zone triggers only): one entry per
    # location that has ever had a zone event, 0 for those up to date.
    lag_by_location: dict[int, float] = field(default_factory=dict)


def read_gauges(db: Database, *, clock: Callable[[], int] = now_ms) -> Gauges:
    now = clock()
    with db.read() as conn:
        pending = gauges.pending_deliveries(conn)
        online = gauges.locations_seen_since(conn, now - ONLINE_WITHIN_MS)
        progress = zone_jobs.location_progress(conn)
        places = {loc.id: loc.timezone for loc in location_store.list_locations(conn)}
    zones = {name: parse_zone(name) for name in set(places.values())}
    lags = {
        row.location_id: _lag_ms(row, zones[places[row.location_id]], now) / 1000
        for row in progress
        if row.location_id in places
    }
    return Gauges(pending, max(lags.values(), default=0.0), online, lags)


def _lag_ms(row: zone_jobs.LocationProgress, zone: tzinfo, now: int) -> int:
    """How long ago the location's oldest never-computed hour ended (0: none is left).
    The earliest missing hour gives the largest lag, as hour ends grow with hour starts."""
    candidates = [] if row.oldest_computed_until is None else [row.oldest_computed_until]
    if row.oldest_uncomputed_event is not None:
        candidates.append(hour_start(zone, row.oldest_uncomputed_event))
    if not candidates:
        return 0
    first_missing = min(candidates)
    if first_missing >= hour_start(zone, now):
        return 0  # every completed hour is computed
    _, ended = local_hours(zone, first_missing, first_missing + 1)[0]
    return max(0, now - ended)


@cache
def _head() -> str:
    return head_revision()  # reads the migration scripts: once per process is enough


@dataclass(frozen=True)
class Readiness:
    ready: bool
    schema_version: str | None
    problem: str | None = None


def readiness(db: Database) -> Readiness:
    """Ready when the database answers and carries the schema this code expects."""
    try:
        with db.read() as conn:
            conn.execute(text("SELECT 1"))
        revision = current_revision(db)
    except Exception:
        # The details (host names, driver messages) go to the log, not to the prober.
        log.exception("readiness: the database is unreachable")
        return Readiness(False, None, "the database is unreachable (details in the server log)")
    head = _head()
    if revision != head:
        return Readiness(
            False, revision, f"the schema is at {revision}, expected {head}: run `footfall init`"
        )
    return Readiness(True, revision)

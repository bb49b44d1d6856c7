"""Raw events past the retention period are purged; their rollup counts stay; and no copy
of a purged event can ever be stored again (it is refused as too old)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from footfall.domain.ingest import Problem
from footfall.domain.times import to_ms
from footfall.services.ingest import Rejected
from footfall.services.retention import purge_expired_events
from footfall.store.db import Database
from footfall.store.schema import events, hourly_rollups
from tests.conftest import Site
from tests.helpers import event, ingest_directly

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
AGES_IN_DAYS = [200, 91, 90.5, 89, 1, 0]


def _at(instant: int) -> Callable[[], int]:
    return lambda: instant


def _stored_as_they_happened(db: Database, site: Site) -> list[dict[str, object]]:
    """Each event ingested an hour after it happened (so within the retention period)."""
    batch = [event(i, when=NOW - timedelta(days=age)) for i, age in enumerate(AGES_IN_DAYS)]
    for i, item in enumerate(batch):
        then = to_ms(NOW - timedelta(days=AGES_IN_DAYS[i], hours=-1))
        ingest_directly(db, site.location_id, [item], clock=_at(then), retention_days=90)
    return batch


def _stored_record_ids(db: Database) -> list[int]:
    with db.read() as conn:
        return sorted(conn.execute(select(events.c.record_id)).scalars())


def test_purge_removes_old_raw_events_and_keeps_rollups(db: Database, site: Site) -> None:
    _stored_as_they_happened(db, site)

    purged = purge_expired_events(db, 90, clock=lambda: to_ms(NOW), chunk=2)

    with db.read() as conn:
        rollups = conn.execute(select(func.sum(hourly_rollups.c.count))).scalar_one()
    assert rollups == 6
    if db.is_sqlite:
        # To the millisecond: 200, 91 and 90.5 days old go.
        assert (purged, _stored_record_ids(db)) == (3, [3, 4, 5])
    else:
        # Whole UTC weeks (dropped partitions): the cutoff, NOW - 90 days, is a Thursday
        # noon; the events 91, 90.5 and 89 days old share its week (from Monday), so only
        # the 200-day-old one goes now, and they go with their week once it has passed.
        assert (purged, _stored_record_ids(db)) == (1, [1, 2, 3, 4, 5])
        later = to_ms(NOW + timedelta(days=4))
        assert purge_expired_events(db, 90, clock=lambda: later) == 3
        assert _stored_record_ids(db) == [4, 5]
    assert purge_expired_events(db, 90, clock=lambda: to_ms(NOW + timedelta(hours=12))) == 0


def test_a_copy_resent_after_the_purge_is_refused_not_counted_twice(
    db: Database, site: Site
) -> None:
    batch = _stored_as_they_happened(db, site)
    purge_expired_events(db, 90, clock=lambda: to_ms(NOW))

    with pytest.raises(Rejected) as refused:
        ingest_directly(db, site.location_id, batch, clock=lambda: to_ms(NOW), retention_days=90)

    assert refused.value.status == 422
    problems = [p for p in refused.value.problems if isinstance(p, Problem)]
    assert [(p.index, p.field) for p in problems] == [
        (0, "event_time"),
        (1, "event_time"),
        (2, "event_time"),
    ]
    assert "older than the retention period (90 days)" in problems[0].message
    # The agent drops those (its dead letters) and resends the rest: all duplicates.
    again = ingest_directly(
        db, site.location_id, batch[3:], clock=lambda: to_ms(NOW), retention_days=90
    )
    assert (again[0].accepted, again[0].duplicates) == (0, 3)
    with db.read() as conn:
        assert conn.execute(select(func.sum(hourly_rollups.c.count))).scalar_one() == 6
    # Older events wait for their whole week to pass on PostgreSQL (above).
    assert _stored_record_ids(db) == ([3, 4, 5] if db.is_sqlite else [1, 2, 3, 4, 5])

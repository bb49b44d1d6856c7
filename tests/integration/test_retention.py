"""Raw events past the retention period are purged; their rollup counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from footfall.domain.times import to_ms
from footfall.services.retention import purge_expired_events
from footfall.store.db import Database
from footfall.store.schema import events, hourly_rollups
from tests.conftest import Site
from tests.helpers import event, ingest_directly


def test_purge_removes_old_raw_events_and_keeps_rollups(db: Database, site: Site) -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    ages_in_days = [200, 91, 90.5, 89, 1, 0]
    batch = [event(i, when=now - timedelta(days=age)) for i, age in enumerate(ages_in_days)]
    ingest_directly(db, site.location_id, batch, clock=lambda: to_ms(now))

    purged = purge_expired_events(db, 90, clock=lambda: to_ms(now), chunk=2)

    assert purged == 3
    with db.read() as conn:
        left = sorted(conn.execute(select(events.c.record_id)).scalars())
        rollups = conn.execute(select(func.sum(hourly_rollups.c.count))).scalar_one()
    assert left == [3, 4, 5]
    assert rollups == 6
    assert purge_expired_events(db, 90, clock=lambda: to_ms(now)) == 0

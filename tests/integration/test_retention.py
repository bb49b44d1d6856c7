"""Raw events past the retention period are purged; their rollup counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import func, select

from footfall.domain.times import to_ms
from footfall.services.ingest import Ingest
from footfall.services.retention import purge_expired_events
from footfall.store.db import Database
from footfall.store.locations import get_location
from footfall.store.schema import events, hourly_rollups
from tests.conftest import Site
from tests.helpers import STORE_CONFIG, event


def test_purge_removes_old_raw_events_and_keeps_rollups(db: Database, site: Site) -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    ingest = Ingest(db, clock=lambda: to_ms(now))
    with db.read() as conn:
        location = get_location(conn, site.location_id)
    assert location is not None
    ingest.put_config(location, msgspec.json.encode(STORE_CONFIG))
    with db.read() as conn:
        location = get_location(conn, site.location_id)
    assert location is not None
    ages_in_days = [200, 91, 90.5, 89, 1, 0]
    batch = [event(i, when=now - timedelta(days=age)) for i, age in enumerate(ages_in_days)]
    ingest.post_events(location, msgspec.json.encode(batch))
    ingest.close()

    purged = purge_expired_events(db, 90, clock=lambda: to_ms(now), chunk=2)

    assert purged == 3
    with db.read() as conn:
        left = sorted(conn.execute(select(events.c.record_id)).scalars())
        rollups = conn.execute(select(func.sum(hourly_rollups.c.count))).scalar_one()
    assert left == [3, 4, 5]
    assert rollups == 6
    assert purge_expired_events(db, 90, clock=lambda: to_ms(now)) == 0

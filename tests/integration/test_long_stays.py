"""Stays that Loitering keeps open (docs/api.md, Stays) through ingest, the histogram job,
the revision marks, zone counters, queues and feeds, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import select

from footfall.domain.times import format_local, to_ms
from footfall.services import feeds, occupancy
from footfall.services.analytics import compute_histograms
from footfall.store.db import Database
from footfall.store.schema import histograms, revisions
from tests.conftest import Site
from tests.helpers import ingest_directly

HOUR = 3_600_000
ZONE = "t-shelf"


def zone_event(record: int, event_type: str, ms: int, obj: int = 7) -> dict[str, Any]:
    return {
        "record_id": record,
        "event_type": event_type,
        "trigger_id": ZONE,
        "channel_id": "cam-floor",
        "object_id": obj,
        "origin": "Vehicle",
        "suborigin": "Car",
        "event_time": format_local(ms, UTC),
    }


def hours_of(db: Database, site: Site) -> dict[int, tuple[int, list[float], list[int], int]]:
    """hour start -> (id, counting_data, lifetime_data, computed_at)."""
    with db.read() as conn:
        rows = conn.execute(
            select(histograms).where(histograms.c.location_id == site.location_id)
        ).all()
    return {
        int(r.hour_start): (
            int(r.id),
            msgspec.json.decode(r.counting_data),
            msgspec.json.decode(r.lifetime_data),
            int(r.computed_at),
        )
        for r in rows
    }


def revised_hours(db: Database, site: Site) -> set[int]:
    with db.read() as conn:
        return {
            int(h)
            for (h,) in conn.execute(
                select(revisions.c.hour).where(
                    revisions.c.location_id == site.location_id, revisions.c.kind == "histogram"
                )
            )
        }


def test_a_late_loitering_revises_the_hours_it_keeps_the_car_in(db: Database, site: Site) -> None:
    now = to_ms(datetime(2026, 6, 10, 12, 0, tzinfo=UTC))
    joined = now - 8 * HOUR
    left = now - HOUR - 30 * 60_000  # a 6.5-hour stay
    ingest_directly(
        db,
        site.location_id,
        [zone_event(1, "RegionJoin", joined), zone_event(2, "RegionLeave", left)],
        clock=lambda: now,
    )
    compute_histograms(db, clock=lambda: now)
    before = hours_of(db, site)
    # The 4-hour rule alone: present 4 h, then gone; the leave has no open join.
    assert [before[joined + k * HOUR][1] for k in range(3, 6)] == [
        [0.0, 3600.0],
        [3600.0],
        [3600.0],
    ]
    assert all(not row[2] for row in before.values())

    # The source's hourly Loitering arrives late (a bridge that was stopped).
    late = [zone_event(10 + k, "Loitering", joined + k * HOUR) for k in range(1, 7)]
    ingest_directly(db, site.location_id, late, clock=lambda: now + 60_000)
    compute_histograms(db, clock=lambda: now + 60_000)
    after = hours_of(db, site)
    assert set(after) == set(before)
    assert all(after[h][0] == before[h][0] for h in before)  # revised in place, same ids
    changed = {h for h in before if after[h][1:3] != before[h][1:3]}
    assert changed == {joined + k * HOUR for k in (4, 5, 6)}
    assert [after[joined + k * HOUR][1] for k in (4, 5)] == [[0.0, 3600.0], [0.0, 3600.0]]
    assert after[joined + 6 * HOUR][1] == [1800.0, 1800.0]
    assert after[joined + 6 * HOUR][2] == [0] * 390 + [1]  # the completed 390-minute stay
    assert all(after[h][3] > before[h][3] for h in changed)  # revisions for readers
    assert all(after[h][3] == before[h][3] for h in set(before) - changed)
    assert revised_hours(db, site) == changed


def test_a_car_parked_two_days_stays_counted_by_zone_counters_and_queues(
    db: Database, site: Site
) -> None:
    """Longer than any fixed look-back: the live value starts from the histogram job's
    snapshot, which carries the stay and its last sign."""
    now = to_ms(datetime(2026, 6, 10, 12, 20, tzinfo=UTC))
    joined = now - 50 * HOUR
    batch = [zone_event(1, "RegionJoin", joined)]
    batch += [zone_event(1 + k, "Loitering", joined + k * HOUR) for k in range(1, 51)]
    batch += [zone_event(100, "RegionJoin", now - 3 * HOUR, obj=8)]  # a car without signs
    ingest_directly(db, site.location_id, batch, clock=lambda: now)
    compute_histograms(db, clock=lambda: now)
    counter = occupancy.create_counter(db, location_id=site.location_id, name="Park", zone=ZONE)
    queue = occupancy.create_queue(db, location_id=site.location_id, name="Bay", zone=ZONE)
    with db.read() as conn:
        value = occupancy.counter_value(conn, counter, UTC, now)
        line = occupancy.queue_value(conn, queue, now)
        # Car 8 closes 4 h after its join, one hour from now; car 7 stays.
        closed = occupancy.counter_value(conn, counter, UTC, now + HOUR + 1)
        later = occupancy.queue_value(conn, queue, now + HOUR + 1)
    assert (value.occupancy, line.length) == (2, 2)
    assert (closed.occupancy, later.length) == (1, 1)
    assert closed.changed_at == later.changed_at == now + HOUR  # `time`: the 4-hour close
    counting = [row[1] for _, row in sorted(hours_of(db, site).items())]
    assert len(counting) == 50  # 10:00 two days ago (joined 10:20) to 11:00 today
    assert counting[1:47] == [[0.0, 3600.0]] * 46  # every hour, car 7 alone
    assert counting[47] == [0.0, 1200.0, 2400.0]  # 09:00, car 8 joins at 09:20
    assert counting[48:] == [[0.0, 0.0, 3600.0]] * 2


def test_the_occupancy_feed_shows_the_parked_car_every_hour(db: Database, site: Site) -> None:
    now = to_ms(datetime(2026, 6, 10, 12, 20, tzinfo=UTC))
    joined = now - 7 * HOUR - 20 * 60_000  # 05:00
    batch = [zone_event(1, "RegionJoin", joined)]
    batch += [zone_event(1 + k, "Loitering", joined + k * HOUR) for k in range(1, 8)]
    ingest_directly(db, site.location_id, batch, clock=lambda: now)
    compute_histograms(db, clock=lambda: now)
    counter = occupancy.create_counter(db, location_id=site.location_id, name="Park", zone=ZONE)
    feed = feeds.create_feed(
        db,
        location_id=site.location_id,
        name="Park",
        metric="occupancy",
        period="today",
        granularity="hour",
        occupancy_ids=(counter.id,),
    )
    report = feeds.build_report(db, feed.token, now).as_json()
    [series] = report["report"]["data"]["series"]
    by_hour = {point["time"][11:13]: point["value"] for point in series["data"]}
    assert [by_hour[f"{h:02d}"] for h in range(5, 13)] == [1] * 8  # 05:00 to now

"""A tenant can slow only itself (docs/operations.md, Metrics: the histogram job takes
locations in turn), on both engines.

A location that declared 20,000 Zone triggers and sent one event to each, three hours
back, sits beside a normal location with 100 visits. The job's passes are driven
directly on an injected clock and counted (no sleeping): the normal location's
histograms are written by the first pass, a late event of it is taken by the very next
pass while the crowded location's backlog is still being worked through, and the lag is
reported per location: the crowded one's as its own, the normal one's as 0.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import func, select

from footfall.domain.histogram import hour_start
from footfall.domain.times import format_local, to_ms
from footfall.services import revisions, webhooks
from footfall.services.analytics import MAX_STEPS, HistogramJob
from footfall.services.observability import read_gauges
from footfall.store import revisions as revision_store
from footfall.store.db import Database
from footfall.store.schema import histograms, webhook_deliveries
from tests.conftest import make_site
from tests.helpers import ingest_directly

HOUR = 3_600_000
CHANNELS, PER_CHANNEL = 200, 100  # 20,000 Zone triggers, within the default limits


def _crowded_config() -> dict[str, Any]:
    return {
        "version": "noisy",
        "channels": [
            {
                "id": f"cam-{c:03d}",
                "triggers": [
                    {"id": f"z-{c:03d}-{t:03d}", "type": "Zone"} for t in range(PER_CHANNEL)
                ],
            }
            for c in range(CHANNELS)
        ],
    }


def _one_join_per_trigger(start: int) -> list[dict[str, Any]]:
    return [
        {
            "record_id": n,
            "event_type": "RegionJoin",
            "trigger_id": f"z-{c:03d}-{t:03d}",
            "channel_id": f"cam-{c:03d}",
            "object_id": 1,
            "event_time": format_local(start + n, UTC),
        }
        for n, (c, t) in enumerate(
            ((c, t) for c in range(CHANNELS) for t in range(PER_CHANNEL)), start=1
        )
    ]


def _visits(start: int, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` visits to the shelf zone, each a join and a leave within the next 2 hours."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    first_record = 1
    for n in range(count):
        joined = start + rng.randrange(0, 2 * HOUR - 600_000)
        left = joined + rng.randrange(10_000, 600_000)
        for k, (kind, when) in enumerate((("RegionJoin", joined), ("RegionLeave", left))):
            out.append(
                {
                    "record_id": first_record + 2 * n + k,
                    "event_type": kind,
                    "trigger_id": "t-shelf",
                    "channel_id": "cam-floor",
                    "object_id": first_record + n,
                    "event_time": format_local(when, UTC),
                }
            )
    return out


def _stored(db: Database, location_id: int) -> dict[int, list[float]]:
    with db.read() as conn:
        rows = conn.execute(
            select(histograms.c.hour_start, histograms.c.counting_data).where(
                histograms.c.location_id == location_id
            )
        ).all()
    return {int(r.hour_start): msgspec.json.decode(r.counting_data) for r in rows}


def _computed(db: Database, location_id: int) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                select(func.count(func.distinct(histograms.c.trigger_id))).where(
                    histograms.c.location_id == location_id
                )
            ).scalar_one()
        )


def test_a_tenant_with_20000_zone_triggers_delays_a_normal_one_by_one_pass(db: Database) -> None:
    real_now = to_ms(datetime.now(UTC))
    now = hour_start(UTC, real_now) + 10 * 60_000  # the job's clock: ten past this hour
    crowded = make_site(db, name="Crowded")
    normal = make_site(db, name="Normal")
    ingest_directly(
        db,
        crowded.location_id,
        *(lambda sent: [sent[:10_000], sent[10_000:]])(_one_join_per_trigger(now - 3 * HOUR)),
        config=_crowded_config(),
    )
    ingest_directly(db, normal.location_id, _visits(now - 2 * HOUR - 20 * 60_000, 100, seed=7))
    job = HistogramJob(db, clock=lambda: now, budget_s=None)  # counted in steps, not seconds

    first = job.run_pass()
    assert first.steps == MAX_STEPS  # bounded: a sliver of the 20,001 triggers with work
    hours = _stored(db, normal.location_id)
    assert sorted(hours) == [now - 3 * HOUR - 10 * 60_000 + k * HOUR for k in range(3)]
    lags = read_gauges(db, clock=lambda: now).lag_by_location
    print(f"\nlag per location after pass 1: {lags}")  # recorded in the test log
    assert lags[normal.location_id] == 0
    assert lags[crowded.location_id] == (now - (hour_start(UTC, now - 3 * HOUR) + HOUR)) / 1000
    assert _computed(db, crowded.location_id) == MAX_STEPS - 1  # not starved either

    # A late visit for the normal location is taken by the next pass, though the crowded
    # location still has nearly 20,000 triggers waiting.
    late_hour = hour_start(UTC, now - 90 * 60_000)
    before = hours[late_hour]
    late = [("RegionJoin", 5), ("RegionLeave", 15)]  # minutes into that hour
    ingest_directly(
        db,
        normal.location_id,
        [
            {
                "record_id": 1000 + k,
                "event_type": kind,
                "trigger_id": "t-shelf",
                "channel_id": "cam-floor",
                "object_id": 1000,
                "event_time": format_local(late_hour + minutes * 60_000, UTC),
            }
            for k, (kind, minutes) in enumerate(late)
        ],
    )
    second = job.run_pass()
    assert second.steps == MAX_STEPS
    assert _stored(db, normal.location_id)[late_hour] != before
    assert _computed(db, crowded.location_id) == 2 * MAX_STEPS - 2
    lags = read_gauges(db, clock=lambda: now).lag_by_location
    print(f"lag per location after pass 2: {lags}")
    assert lags[normal.location_id] == 0
    assert lags[crowded.location_id] > 0


def test_revisions_of_a_crowded_location_delay_another_by_one_pass(db: Database) -> None:
    """Announcements take the same turns: 500 revised hours of one location and one of
    another, a pass of 20: the other one's is announced by the first pass."""
    now = to_ms(datetime.now(UTC))
    crowded, normal = make_site(db, name="Crowded"), make_site(db, name="Normal")
    endpoints = {
        site.location_id: webhooks.create_endpoint(
            db, location_id=site.location_id, url="https://example.com/hook", kind="revisions"
        ).id
        for site in (crowded, normal)
    }
    old = hour_start(UTC, now) - 30 * 24 * HOUR
    with db.write() as conn:  # the crowded location's marks are the oldest
        revision_store.mark(
            conn,
            crowded.location_id,
            "totals",
            [("t-shelf", "cam-floor", old + k * HOUR, old + (k + 1) * HOUR) for k in range(500)],
            now - 10 * 60_000,
        )
        revision_store.mark(
            conn, normal.location_id, "totals", [("t-shelf", "cam-floor", old, old + HOUR)], now
        )
    later = now + revisions.SETTLE_MS
    assert revisions.notify(db, clock=lambda: later, limit=20) == 20
    with db.read() as conn:
        sent: dict[int, int] = dict(
            conn.execute(
                select(webhook_deliveries.c.endpoint_id, func.count()).group_by(
                    webhook_deliveries.c.endpoint_id
                )
            ).all()
        )
    assert sent == {endpoints[normal.location_id]: 1, endpoints[crowded.location_id]: 19}

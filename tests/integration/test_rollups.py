"""Hourly rollups always equal a count over the raw events (hypothesis, both engines)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from footfall.store.db import Database
from footfall.store.schema import events, hourly_rollups
from tests.conftest import make_site
from tests.helpers import TRIGGER_CHANNEL, ingest_directly

ZONES = ["UTC", "Asia/Kolkata", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"]
KINDS = [
    ("t-enter", "TripwireCrossed"),
    ("t-exit", "Tailgating"),
    ("t-shelf", "RegionJoin"),
    ("t-shelf", "CrowdOn"),
    ("t-scene", "ObjectAppear"),
]
ORIGINS = [("Pedestrian", "Unknown"), ("Vehicle", "Car"), ("Face", ""), ("Unknown", "")]
START = datetime(2026, 3, 1, tzinfo=UTC)  # spans the US and Lord Howe DST changes

raw_event = st.tuples(
    st.integers(min_value=1, max_value=400),  # record_id: small range, so repeats happen
    st.integers(min_value=0, max_value=60 * 24 * 3600 * 1000),  # ms after START
    st.sampled_from(KINDS),
    st.sampled_from(ORIGINS),
    st.sampled_from(ZONES),  # the offset the agent happens to write the time in
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=st.lists(st.lists(raw_event, min_size=1, max_size=60), min_size=1, max_size=6),
)
def test_rollups_equal_counts_over_raw_events(
    db: Database, batches: list[list[tuple[int, int, tuple[str, str], tuple[str, str], str]]]
) -> None:
    site = make_site(db)
    expected: Counter[tuple[int, str, str, str, str]] = Counter()
    seen: set[int] = set()
    bodies = []
    for batch in batches:
        body = []
        for record_id, offset_ms, (trigger, kind), (origin, sub), zone in batch:
            moment = START + timedelta(milliseconds=offset_ms)
            body.append(
                {
                    "record_id": record_id,
                    "event_type": kind,
                    "trigger_id": trigger,
                    "channel_id": TRIGGER_CHANNEL[trigger],
                    "origin": origin,
                    "suborigin": sub,
                    "event_time": moment.astimezone(ZoneInfo(zone)).isoformat(
                        timespec="milliseconds"
                    ),
                }
            )
            if record_id not in seen:
                seen.add(record_id)
                hour = offset_ms - offset_ms % 3_600_000 + int(START.timestamp() * 1000)
                expected[(hour, TRIGGER_CHANNEL[trigger], trigger, kind, origin)] += 1
        bodies.append(body)
    ingest_directly(db, site.location_id, *bodies)
    with db.read() as conn:
        rollups = Counter(
            {
                (r.hour, r.channel_id, r.trigger_id, r.event_type, r.origin): r.count
                for r in conn.execute(
                    select(hourly_rollups).where(hourly_rollups.c.location_id == site.location_id)
                )
            }
        )
        raw = Counter(
            (
                r.event_time - r.event_time % 3_600_000,
                r.channel_id,
                r.trigger_id,
                r.event_type,
                r.origin,
            )
            for r in conn.execute(select(events).where(events.c.location_id == site.location_id))
        )
    assert rollups == raw == expected

"""Hourly zone histograms through the whole pipeline (ingest, the job, /histograms), on both
engines, against the brute-force reference in tests/zone_reference.py."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from footfall.domain.read_items import Histogram
from footfall.domain.read_params import Params
from footfall.domain.times import format_local, parse_zone, to_ms
from footfall.services.analytics import compute_histograms
from footfall.services.reads import ReadApi
from footfall.store.db import Database
from footfall.store.schema import histograms
from tests.conftest import Site, make_site
from tests.helpers import STORE_CONFIG, Signer, ingest_directly, ok
from tests.zone_reference import reference_counting_data, reference_events, reference_histograms

HOUR = 3_600_000


def _ingest(db: Database, site: Site, batch: list[dict[str, Any]], now: int) -> None:
    ingest_directly(db, site.location_id, batch, clock=lambda: now)


def _fixed(now: int) -> Callable[[], int]:
    return lambda: now


def _zone_event(record: int, obj: int, kind: bool | str, ms: int, zone: Any) -> dict[str, Any]:
    """A join (True), a leave (False), or the event type named (`Loitering`)."""
    event_type = kind if isinstance(kind, str) else "RegionJoin" if kind else "RegionLeave"
    return {
        "record_id": record,
        "event_type": event_type,
        "trigger_id": "t-shelf",
        "channel_id": "cam-floor",
        "object_id": obj,
        "event_time": format_local(ms, zone),
    }


def _stored(db: Database, site: Site) -> dict[int, tuple[int, list[float], list[int]]]:
    with db.read() as conn:
        rows = conn.execute(
            select(histograms).where(histograms.c.location_id == site.location_id)
        ).all()
    return {
        r.hour_start: (
            r.id,
            msgspec.json.decode(r.counting_data),
            msgspec.json.decode(r.lifetime_data),
        )
        for r in rows
    }


ZONES = ["America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "UTC"]
# Windows around both 2026 DST changes of New York, and an ordinary day.
STARTS = [
    datetime(2026, 3, 8, 4, tzinfo=UTC),
    datetime(2026, 11, 1, 3, tzinfo=UTC),
    datetime(2026, 6, 10, 9, 17, tzinfo=UTC),
]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    zone_name=st.sampled_from(ZONES),
    start=st.sampled_from(STARTS),
    raw=st.lists(
        st.tuples(
            st.integers(0, 9 * 3600),
            st.integers(1, 5),
            st.sampled_from(["RegionJoin", "RegionLeave", "Loitering"]),
        ),
        min_size=1,
        max_size=40,
    ),
    seed=st.integers(0, 10**6),
    batches=st.integers(1, 6),
)
# A Loitering before the first join starts no hour (docs/api.md, Histograms): Kathmandu's
# hours start at :15 UTC, so the Loitering's hour would be one more.
@example(
    zone_name="Asia/Kathmandu",
    start=STARTS[0],
    raw=[(0, 1, "Loitering"), (900, 1, "RegionJoin")],
    seed=0,
    batches=1,
)
def test_histograms_equal_the_reference_for_any_arrival_order(
    db: Database,
    zone_name: str,
    start: datetime,
    raw: list[tuple[int, int, str]],
    seed: int,
    batches: int,
) -> None:
    zone = parse_zone(zone_name)
    site = make_site(db, timezone=zone_name)
    base = to_ms(start)
    payload = [
        _zone_event(i + 1, obj, join, base + secs * 1000 + (i % 3), zone)
        for i, (secs, obj, join) in enumerate(raw)
    ]
    rng = random.Random(seed)
    rng.shuffle(payload)
    cuts = sorted(rng.sample(range(1, len(payload) + 1), min(batches, len(payload))))
    end = base + 12 * HOUR
    # The clock moves on between batches, so hours get computed and later corrected by
    # late events.
    pieces = [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]
    for step, piece in enumerate(pieces):
        now = base + (step + 1) * (end - base) // len(pieces)
        _ingest(db, site, piece, end)  # any event may arrive at any step: late ones too
        compute_histograms(db, clock=_fixed(now))
    first_ids = {hour: row[0] for hour, row in _stored(db, site).items()}
    compute_histograms(db, clock=lambda: end)

    events = reference_events(payload)
    expected = reference_histograms(events, zone, end)
    stored = _stored(db, site)
    assert set(stored) == set(expected)
    for hour, (counting_ms, lifetime) in expected.items():
        _, counting, life = stored[hour]
        assert counting == reference_counting_data(counting_ms), hour
        assert life == lifetime, hour
        assert abs(sum(counting) - sum(counting_ms) / 1000) < 0.05 * len(counting)
    for hour, old_id in first_ids.items():
        assert stored[hour][0] == old_id  # recomputed in place, same id


def test_dst_days_have_23_and_25_hourly_histograms(db: Database) -> None:
    site = make_site(db, timezone="America/New_York")
    ny = parse_zone("America/New_York")
    spring = to_ms(datetime(2026, 3, 8, 0, 0, tzinfo=ny))
    fall = to_ms(datetime(2026, 11, 1, 0, 0, tzinfo=ny))
    payload = [
        _zone_event(1, 1, True, spring + 60_000, ny),
        _zone_event(2, 1, False, spring + 600_000, ny),
        _zone_event(3, 2, True, fall + 60_000, ny),
        _zone_event(4, 2, False, fall + 3 * HOUR, ny),
    ]
    end = to_ms(datetime(2026, 11, 2, 0, 0, tzinfo=ny))
    _ingest(db, site, payload, end)
    compute_histograms(db, clock=lambda: end)
    api = ReadApi(db)

    def day(since: str, until: str) -> list[Histogram]:
        params = Params.parse(
            {"since": [since], "until": [until], "limit": ["10000"]},
            frozenset({"since", "until", "limit"}),
        )
        return api.histograms(site.account_id, params)

    spring_day = day("2026-03-08T00:00-05:00", "2026-03-09T00:00-04:00")
    fall_day = day("2026-11-01T00:00-04:00", "2026-11-02T00:00-05:00")
    assert len(spring_day) == 23
    assert len(fall_day) == 25
    fall_times = [h.histogram_time for h in fall_day]
    assert fall_times[:3] == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
    ]
    assert spring_day[2].histogram_time == "2026-03-08T03:00:00-04:00"
    # The 25-hour day: inside from 00:01 EDT to 02:00 EST, across the repeated 01:00 hour.
    assert fall_day[0].counting_data == [60.0, 3540.0]
    assert fall_day[1].counting_data == [0.0, 3600.0]
    assert fall_day[2].counting_data == [0.0, 3600.0]
    assert fall_day[3].counting_data == [3600.0]
    assert fall_day[3].lifetime_data == [0] * 179 + [1]  # left at 02:00 after 179 min
    assert all(abs(sum(h.counting_data) - 3600) < 0.2 for h in spring_day + fall_day)
    assert all(h.counting_data == [3600.0] for h in fall_day[4:])


def test_kolkata_hours_start_at_half_past_utc_and_serve_over_http(
    http: httpx.Client, db: Database
) -> None:
    site = make_site(db, timezone="Asia/Kolkata")
    kolkata = parse_zone("Asia/Kolkata")
    now = to_ms(datetime.now(UTC))
    two_hours_ago = now - 2 * HOUR
    payload = [
        _zone_event(1, 1, True, two_hours_ago, kolkata),
        _zone_event(2, 1, False, two_hours_ago + 90_000, kolkata),
    ]
    _ingest(db, site, payload, now)
    compute_histograms(db)
    result = ok(Signer(site.public_key, site.secret).get(http, "/histograms"))
    assert result
    for item in result:
        assert item["histogram_time"].endswith(":00:00+05:30")
        utc = datetime.fromisoformat(item["histogram_time"]).astimezone(UTC)
        assert utc.minute == 30
        assert item["trigger_id"] == "t-shelf"
        assert item["channel_id"] == "cam-floor"
    completed = [x for x in result if x["lifetime_data"]]
    assert [x["lifetime_data"] for x in completed] == [[0, 1]]
    ids = [x["id"] for x in result]
    assert ids == sorted(ids)


def test_a_completed_hour_is_served_soon_after_its_events_by_serve(
    db: Database, settings: Any
) -> None:
    """The job in `serve` computes a completed hour within seconds of its events."""
    import time

    from tests.conftest import RunningServer

    site = make_site(db, timezone="UTC")
    now = to_ms(datetime.now(UTC))
    last_hour = now - now % HOUR - HOUR
    with RunningServer(settings, db) as server, httpx.Client(base_url=server.url) as http:
        http.put(
            "/ingest/v1/config",
            json=STORE_CONFIG,
            headers={"Authorization": f"Bearer {site.ingest_token}"},
        ).raise_for_status()
        answer = http.post(
            "/ingest/v1/events",
            json=[
                _zone_event(1, 1, True, last_hour + 1000, UTC),
                _zone_event(2, 1, False, last_hour + 61_000, UTC),
            ],
            headers={"Authorization": f"Bearer {site.ingest_token}"},
        )
        assert answer.status_code == 200
        ingested = time.monotonic()
        signer = Signer(site.public_key, site.secret)
        while True:
            found = ok(signer.get(http, "/histograms"))
            if found:
                break
            assert time.monotonic() - ingested < 10, "no histogram within 10 s"
            time.sleep(0.2)
    assert found[0]["lifetime_data"] == [0, 1]

"""Totals from rollups plus edge hours equal a brute-force count (hypothesis, both engines).

Ranges are random to the millisecond and written in zones with half-hour offsets and
across a DST change, so partial hours at both edges, whole hours between, and ranges
inside a single hour are all exercised.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footfall.domain.read_params import Params
from footfall.domain.times import to_ms
from footfall.services.reads import ReadApi
from footfall.store.db import Database
from tests.conftest import make_site
from tests.helpers import TRIGGER_CHANNEL, ingest_directly

START = datetime(2026, 3, 7, 12, tzinfo=UTC)  # US DST starts 2026-03-08 07:00 UTC
SPAN_MS = 2 * 24 * 3600 * 1000
ZONES = ["America/New_York", "Asia/Kolkata", "UTC", "Asia/Kathmandu"]
KINDS = [
    ("t-enter", "TripwireCrossed"),
    ("t-exit", "TripwireCrossed"),
    ("t-shelf", "RegionJoin"),
    ("t-shelf", "RegionLeave"),
    ("t-scene", "ObjectAppear"),
]
ORIGINS = [("Pedestrian", "Unknown"), ("Vehicle", "Truck"), ("Face", "")]

offsets = st.integers(min_value=0, max_value=SPAN_MS)
edge = st.one_of(st.none(), st.integers(min_value=-3600_000, max_value=SPAN_MS + 3600_000))


def render(ms: int, zone: str, rng: st.DataObject) -> str:
    """An ISO form of the instant in `zone`, with as much precision as it needs."""
    local = (START + timedelta(milliseconds=ms)).astimezone(ZoneInfo(zone))
    if local.microsecond:
        text = local.isoformat(timespec="milliseconds")
    elif local.second:
        text = local.isoformat(timespec="seconds")
    else:
        text = local.isoformat(timespec="minutes")
    text = text.replace("+00:00", "Z") if rng.draw(st.booleans()) else text
    return text.replace("+", " ") if rng.draw(st.booleans()) else text  # '+' sent unencoded


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=st.lists(
        st.tuples(offsets, st.sampled_from(KINDS), st.sampled_from(ORIGINS)),
        min_size=0,
        max_size=150,
    ),
    since=edge,
    until=edge,
    zone=st.sampled_from(ZONES),
    data=st.data(),
)
def test_totals_equal_a_brute_force_count(
    db: Database,
    events: list[tuple[int, tuple[str, str], tuple[str, str]]],
    since: int | None,
    until: int | None,
    zone: str,
    data: st.DataObject,
) -> None:
    site = make_site(db, timezone=zone)
    body = [
        {
            "record_id": i,
            "event_type": kind,
            "trigger_id": trigger,
            "channel_id": TRIGGER_CHANNEL[trigger],
            "origin": origin,
            "suborigin": sub,
            "event_time": (START + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds"),
        }
        for i, (ms, (trigger, kind), (origin, sub)) in enumerate(events)
    ]
    ingest_directly(db, site.location_id, body)

    query: dict[str, list[str]] = {}
    if since is not None:
        query["since"] = [render(since, data.draw(st.sampled_from(ZONES)), data)]
    if until is not None:
        query["until"] = [render(until, data.draw(st.sampled_from(ZONES)), data)]
    params = Params.parse(query, frozenset({"since", "until"}))
    start_ms = to_ms(START)
    low = None if since is None else start_ms + since
    high = None if until is None else start_ms + until
    assert params.since == low
    assert params.until == high

    def inside(ms: int) -> bool:
        t = start_ms + ms
        return (low is None or t >= low) and (high is None or t < high)

    by_trigger = Counter(trigger for ms, (trigger, _), _ in events if inside(ms))
    by_type = Counter(
        (TRIGGER_CHANNEL[trigger], kind) for ms, (trigger, kind), _ in events if inside(ms)
    )
    api = ReadApi(db)
    totals = api.totals_by_trigger(site.account_id, params)
    types = api.totals_by_type(site.account_id, params)
    assert {t.trigger_id: t.count for t in totals} == dict(by_trigger)
    assert {(t.channel_id, t.type): t.count for t in types} == dict(by_type)

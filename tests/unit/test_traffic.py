"""The simulated store's traffic: deterministic, consistent, and shaped like a real shop."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from footfall.domain.times import from_ms
from footfall.sim.layout import CHANNEL_OF, STORE_CONFIG, T
from footfall.sim.traffic import day_events

NEW_YORK = ZoneInfo("America/New_York")
A_WEEK = [date(2026, 11, 2) + timedelta(days=k) for k in range(7)]  # Monday to Sunday


def test_same_seed_and_day_give_the_same_events() -> None:
    first = day_events(date(2026, 11, 20), NEW_YORK, seed=7)
    assert first == day_events(date(2026, 11, 20), NEW_YORK, seed=7)
    assert first != day_events(date(2026, 11, 20), NEW_YORK, seed=8)
    other_seed_ids = {e.record_id for e in day_events(date(2026, 11, 20), NEW_YORK, seed=8)}
    assert not other_seed_ids & {e.record_id for e in first}


@pytest.mark.parametrize("day", [*A_WEEK, date(2026, 3, 8), date(2026, 11, 1)])
def test_every_stay_and_visit_is_closed(day: date) -> None:
    events = day_events(day, NEW_YORK, seed=1)
    assert events == sorted(events)
    assert len({e.record_id for e in events}) == len(events)
    open_stays: dict[tuple[str, int], int] = {}
    for event in events:
        key = (event.trigger_id, event.object_id)
        if event.event_type == "RegionJoin":
            assert key not in open_stays
            open_stays[key] = event.time_ms
        elif event.event_type == "RegionLeave":
            joined = open_stays.pop(key)
            assert 0 < event.time_ms - joined < 4 * 3600 * 1000
    assert open_stays == {}
    entered = Counter(
        e.object_id for e in events if e.trigger_id == T.ENTER and e.event_type == "TripwireCrossed"
    )
    exited = Counter(e.object_id for e in events if e.trigger_id == T.EXIT)
    assert entered == exited
    cars_in = Counter(e.object_id for e in events if e.trigger_id == T.CAR_IN)
    assert cars_in == Counter(e.object_id for e in events if e.trigger_id == T.CAR_OUT)


def test_night_is_quiet_and_peaks_are_busy() -> None:
    by_hour: Counter[int] = Counter()
    for day in A_WEEK:
        for event in day_events(day, NEW_YORK, seed=2):
            if event.trigger_id == T.ENTER and event.event_type == "TripwireCrossed":
                by_hour[from_ms(event.time_ms, NEW_YORK).hour] += 1
    assert all(by_hour[h] == 0 for h in (*range(0, 8), 21, 22, 23))
    assert by_hour[17] > 2 * by_hour[9]
    assert by_hour[12] > by_hour[10]


def test_saturday_is_the_busiest_day_and_sunday_opens_late() -> None:
    visitors = {
        day.weekday(): sum(
            1
            for e in day_events(day, NEW_YORK, seed=3)
            if e.trigger_id == T.ENTER and e.event_type == "TripwireCrossed"
        )
        for day in A_WEEK
    }
    assert max(visitors, key=lambda d: visitors[d]) == 5
    sunday = day_events(A_WEEK[6], NEW_YORK, seed=3)
    first = min(e.time_ms for e in sunday if e.trigger_id == T.ENTER)
    assert from_ms(first, NEW_YORK).hour >= 10


def test_vocabulary_origins_and_rare_events_over_a_month() -> None:
    kinds: Counter[str] = Counter()
    origins: Counter[tuple[str, str]] = Counter()
    declared = {t["id"]: t["type"] for c in STORE_CONFIG["channels"] for t in c["triggers"]}
    from footfall.domain.vocabulary import EVENT_TYPES_BY_TRIGGER_TYPE, allowed_suborigins

    for k in range(30):
        for event in day_events(date(2026, 10, 1) + timedelta(days=k), NEW_YORK, seed=4):
            kinds[event.event_type] += 1
            origins[(event.origin, event.suborigin)] += 1
            assert event.event_type in EVENT_TYPES_BY_TRIGGER_TYPE[declared[event.trigger_id]]
            assert event.suborigin in allowed_suborigins(event.origin)
            assert event.channel_id == CHANNEL_OF[event.trigger_id]
            if event.origin == "Face":
                assert event.age_range
                assert event.gender in ("Male", "Female")
    assert set(kinds) == {
        "TripwireCrossed",
        "Tailgating",
        "RegionJoin",
        "RegionLeave",
        "Loitering",
        "MotionInRegionOn",
        "MotionInRegionOff",
        "CrowdOn",
        "CrowdOff",
        "ObjectAppear",
        "ObjectDisappear",
        "Sabotage",
    }
    assert 0 < kinds["Sabotage"] < 15
    assert {o for o, _ in origins} == {"Pedestrian", "Vehicle", "Face", "Unknown"}
    assert {s for o, s in origins if o == "Vehicle"} >= {"Car", "Truck", "Bicycle"}

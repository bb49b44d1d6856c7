"""Zone presence and hourly histograms (docs/api.md, Stays) against the brute-force
reference.

The property tests draw a few hours of events for a handful of objects around the places
where the rules have edges (equal timestamps, hour boundaries, last sign of presence +
4 h, Loitering that keeps a stay open, DST shifts, half- and quarter-hour zones), shuffle
their arrival order, and compare:
- `replay` + `hourly_histograms` with `tests/zone_reference.py`;
- hour-by-hour windows seeded with the previous window's `open_at_end` with one replay of
  everything.
The examples pin each boundary rule on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from footfall.domain.histogram import Histogram, hour_start, hourly_histograms, local_hours
from footfall.domain.stays import (
    JOIN,
    LEAVE,
    LOITER,
    MAX_STAY_MS,
    OpenStay,
    Stay,
    ZoneEvent,
    open_at,
    parse_snapshot,
    replay,
    snapshot_json,
)
from footfall.domain.times import to_ms
from tests.zone_reference import (
    reference_completed_stays,
    reference_counting_data,
    reference_histograms,
    reference_hour_start,
    reference_inside,
    reference_local_hours,
    reference_open_at,
)

HOUR = 3_600_000
MINUTE = 60_000
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
MINUS_0330 = timezone(timedelta(hours=-3, minutes=-30))


def midnight(zone: tzinfo, year: int, month: int, day: int) -> int:
    return to_ms(datetime(year, month, day, tzinfo=zone))


class HalfHourShift(tzinfo):
    """UTC, then from `at` (naive UTC) on, UTC + `shift`: a made-up zone whose clock moves
    at a :30, so that one local hour is only 30 minutes long (no IANA zone does it today)."""

    def __init__(self, at: datetime, shift: timedelta) -> None:
        self.at, self.shift = at, shift

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return timedelta(0)
        local = dt.replace(tzinfo=None)
        earliest, latest = sorted([self.at, self.at + self.shift])
        if local < earliest:
            return timedelta(0)
        if local >= latest:
            return self.shift
        # A gap (forward) or a repeated half hour (backward): PEP 495's fold picks the
        # offset, 0 before the shift and 1 after it.
        return self.shift if dt.fold else timedelta(0)

    def fromutc(self, dt: datetime) -> datetime:
        if dt.replace(tzinfo=None) < self.at:
            return dt
        local = dt + self.shift
        repeated = local.replace(tzinfo=None) < self.at  # only after a backward shift
        return local.replace(fold=1 if repeated else 0)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "shift"


# 02:30 -> 03:00: the hour from 02:00 lasts 30 minutes. 02:30 -> 02:00: so does the one
# from 02:00 of the old offset (the clock reads 02:00 again at the shift).
FORWARD_AT_HALF = HalfHourShift(datetime(2026, 8, 2, 2, 30), timedelta(minutes=30))
BACK_AT_HALF = HalfHourShift(datetime(2026, 8, 2, 2, 30), timedelta(minutes=-30))


# (zone, local midnight of an interesting day): both 2026 DST days of New York and of Lord
# Howe (30-minute shift), and ordinary days of half-, quarter- and negative-offset zones.
SCENARIOS: list[tuple[tzinfo, int]] = [
    (UTC, midnight(UTC, 2026, 5, 10)),
    (KOLKATA, midnight(KOLKATA, 2026, 2, 1)),
    (KATHMANDU, midnight(KATHMANDU, 2026, 6, 15)),
    (NEW_YORK, midnight(NEW_YORK, 2026, 3, 8)),
    (NEW_YORK, midnight(NEW_YORK, 2026, 11, 1)),
    (LORD_HOWE, midnight(LORD_HOWE, 2026, 4, 5)),
    (LORD_HOWE, midnight(LORD_HOWE, 2026, 10, 4)),
    (MINUS_0330, midnight(MINUS_0330, 2026, 7, 1)),
    (FORWARD_AT_HALF, to_ms(datetime(2026, 8, 2, tzinfo=UTC))),
    (BACK_AT_HALF, to_ms(datetime(2026, 8, 2, tzinfo=UTC))),
]


@dataclass(frozen=True)
class Case:
    zone: tzinfo
    start: int
    end: int
    events: list[ZoneEvent]


@st.composite
def zone_cases(draw: st.DrawFn) -> Case:
    """A few visits of 1-5 objects over 1-11 hours, plus stray events, around the edges.

    A visit is a join and what follows it: a leave after a random time, after exactly 0,
    4 h - 1 ms, 4 h or 4 h + 1 ms, after more than 4 h, never, or a second join (after
    a while, or exactly 4 h later). Stray events (leaves with no join, joins) land on
    random instants, hour boundaries and instants already used.
    """
    zone, anchor = draw(st.sampled_from(SCENARIOS))
    start = anchor + draw(st.integers(-2 * HOUR, 4 * HOUR))
    end = start + draw(st.sampled_from([HOUR, 5 * HOUR, 9 * HOUR])) + draw(st.integers(0, HOUR))
    boundaries = [h for h, _ in local_hours(zone, start, end) if start <= h < end]
    used: list[int] = []

    def instant() -> int:
        kind = draw(st.sampled_from(["any", "early", "minute", "boundary", "again"]))
        if kind == "early":  # leaves room for 4-hour stays
            return draw(st.integers(start, min(start + HOUR, end - 1)))
        if kind == "minute":  # coarse times, so that events often coincide
            return start + MINUTE * draw(st.integers(0, (end - start - 1) // MINUTE))
        if kind == "boundary" and boundaries:
            return draw(st.sampled_from(boundaries))
        if kind == "again" and used:
            return draw(st.sampled_from(used))
        return draw(st.integers(start, end - 1))

    drawn: list[tuple[int, int, int]] = []  # (time, object, kind)
    objects = draw(st.integers(1, 5))
    for _ in range(draw(st.integers(0, 8))):
        who = draw(st.integers(0, objects - 1))
        joined = instant()
        used.append(joined)
        drawn.append((joined, who, JOIN))
        # Loitering that keeps the stay in: hourly or so, or exactly at the close, or
        # just after it (too late: a sign of nothing).
        sign = joined
        for _ in range(draw(st.integers(0, 3))):
            step = draw(st.sampled_from(["hour", "any", "4h", "4h+1"]))
            sign += {"hour": HOUR, "4h": MAX_STAY_MS, "4h+1": MAX_STAY_MS + 1}.get(
                step, draw(st.integers(0, 5 * HOUR))
            )
            if sign >= end:
                break
            used.append(sign)
            drawn.append((sign, who, LOITER))
        after = draw(
            st.sampled_from(["leave", "zero", "4h-1", "4h", "4h+1", "long", "never", "rejoin"])
        )
        if after == "never":
            continue
        gap = {"zero": 0, "4h-1": MAX_STAY_MS - 1, "4h": MAX_STAY_MS, "4h+1": MAX_STAY_MS + 1}
        base = draw(st.sampled_from([joined, sign]))  # from the join or the last sign
        if after in gap:
            later = base + gap[after]
        elif after == "long":
            later = base + draw(st.integers(MAX_STAY_MS, 6 * HOUR))
        elif after == "rejoin":
            later = base + draw(st.sampled_from([MAX_STAY_MS, draw(st.integers(0, HOUR))]))
        else:
            later = base + draw(st.integers(0, 2 * HOUR))
        if later < end:  # otherwise the leave has not happened yet
            used.append(later)
            drawn.append((later, who, JOIN if after == "rejoin" else LEAVE))
    for _ in range(draw(st.integers(0, 8))):
        stray = draw(st.sampled_from([JOIN, LEAVE, LOITER]))
        drawn.append((instant(), draw(st.integers(0, objects - 1)), stray))
    records = draw(st.permutations(range(1000, 1000 + len(drawn))))
    events = [
        ZoneEvent(time_ms=t, record_id=r, object_id=o, kind=k)
        for (t, o, k), r in zip(drawn, records, strict=True)
    ]
    return Case(zone, start, end, events)


def ev(time_ms: int, record_id: int, object_id: int, *, join: bool) -> ZoneEvent:
    kind = JOIN if join else LEAVE
    return ZoneEvent(time_ms=time_ms, record_id=record_id, object_id=object_id, kind=kind)


def loiter(time_ms: int, record_id: int, object_id: int) -> ZoneEvent:
    return ZoneEvent(time_ms=time_ms, record_id=record_id, object_id=object_id, kind=LOITER)


def held(start: int, last: int | None = None) -> OpenStay:
    """A snapshot entry: a stay open since `start` whose last sign was `last`."""
    return (start, start if last is None else last)


def one_shot(events: list[ZoneEvent], hours: list[tuple[int, int]]) -> list[Histogram]:
    return hourly_histograms(hours, replay(events, horizon_ms=hours[-1][1]))


# --- properties -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(case=zone_cases(), data=st.data())
def test_histograms_match_the_reference(case: Case, data: st.DataObject) -> None:
    hours = local_hours(case.zone, case.start, case.end)
    assert hours == reference_local_hours(case.zone, case.start, case.end)
    horizon = hours[-1][1]
    arrived = data.draw(st.permutations(case.events))
    stays = replay(arrived, horizon_ms=horizon)
    assert stays == replay(case.events, horizon_ms=horizon)  # arrival order is irrelevant
    histograms = hourly_histograms(hours, stays)
    expected = reference_histograms(case.events, hours, horizon)
    completed = reference_completed_stays(case.events)

    assert [(h.start_ms, h.end_ms) for h in histograms] == hours
    assert [h.start_ms for h in histograms] == list(expected)
    for histogram in histograms:
        start, end = histogram.start_ms, histogram.end_ms
        assert (list(histogram.counting_ms), list(histogram.lifetime)) == expected[start]
        assert sum(histogram.counting_ms) == end - start
        assert sum(histogram.lifetime) == sum(1 for _, _, left in completed if start <= left < end)
        assert histogram.counting_data == reference_counting_data(histogram.counting_ms)
        assert histogram.lifetime_data == list(histogram.lifetime)
        assert histogram.open_at_end == reference_open_at(case.events, end)
        assert histogram.open_at_end == open_at(stays, end)


@settings(max_examples=300, deadline=None)
@given(case=zone_cases(), data=st.data())
def test_windowed_replay_equals_one_shot(case: Case, data: st.DataObject) -> None:
    hours = local_hours(case.zone, case.start, case.end)
    whole = one_shot(case.events, hours)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(hours) - 1)))) if len(hours) > 1 else []
    pieces: list[Histogram] = []
    carried: dict[int, OpenStay] = {}
    for first, stop in zip([0, *cuts], [*cuts, len(hours)], strict=True):
        window = hours[first:stop]
        window_start, window_end = window[0][0], window[-1][1]
        events = [e for e in case.events if window_start <= e.time_ms < window_end]
        arrived = data.draw(st.permutations(events))
        stays = replay(arrived, open_at_start=carried, horizon_ms=window_end)
        computed = hourly_histograms(window, stays)
        carried = computed[-1].open_at_end
        pieces.extend(computed)
    assert pieces == whole


@settings(max_examples=100, deadline=None)
@given(case=zone_cases())
def test_stays_match_the_reference(case: Case) -> None:
    stays = replay(case.events)
    completed = sorted((s.object_id, s.start_ms, s.end_ms) for s in stays if s.completed)
    assert completed == reference_completed_stays(case.events)
    assert stays == sorted(stays, key=lambda s: (s.start_ms, s.object_id))
    probes = sorted({e.time_ms for e in case.events} | {case.start, case.end})
    for probe in probes:
        present = {
            s.object_id
            for s in stays
            if s.start_ms
            <= probe
            < (s.last_sign_ms + MAX_STAY_MS if s.end_ms is None else s.end_ms)
        }
        assert present == reference_inside(case.events, probe)


@settings(max_examples=200, deadline=None)
@given(
    scenario=st.sampled_from(SCENARIOS),
    shift=st.integers(-3 * 86_400_000, 3 * 86_400_000),
    span=st.integers(0, 30 * HOUR),
)
def test_local_hours_match_the_reference(
    scenario: tuple[tzinfo, int], shift: int, span: int
) -> None:
    zone, anchor = scenario
    instant = anchor + shift
    assert hour_start(zone, instant) == reference_hour_start(zone, instant)
    hours = local_hours(zone, instant, instant + span)
    assert hours == reference_local_hours(zone, instant, instant + span)
    if span:
        assert hours[0][0] <= instant < hours[-1][1]
        assert hours[-1][0] < instant + span <= hours[-1][1]


# --- local hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "count", "lengths"),
    [
        (NEW_YORK, (2026, 3, 8), 23, {60}),
        (NEW_YORK, (2026, 11, 1), 25, {60}),
        (NEW_YORK, (2026, 6, 1), 24, {60}),
        (LORD_HOWE, (2026, 4, 5), 24, {60, 90}),  # 01:00 runs to 02:00 of the later offset
        (LORD_HOWE, (2026, 10, 4), 23, {60, 90}),  # the clock jumps from 02:00 to 02:30
        (UTC, (2026, 3, 8), 24, {60}),
        (FORWARD_AT_HALF, (2026, 8, 2), 24, {30, 60}),  # 00:00 to 02:00 last 150 minutes
        (BACK_AT_HALF, (2026, 8, 2), 25, {30, 60}),
    ],
)
def test_hours_of_a_local_day(
    zone: tzinfo, day: tuple[int, int, int], count: int, lengths: set[int]
) -> None:
    start = midnight(zone, *day)
    following = date(*day) + timedelta(days=1)
    end = midnight(zone, following.year, following.month, following.day)
    hours = local_hours(zone, start, end)
    assert len(hours) == count
    assert hours[0][0] == start
    assert hours[-1][1] == end
    assert {(b - a) // MINUTE for a, b in hours} == lengths


@pytest.mark.parametrize(
    ("zone", "minute_of_utc_hour"),
    [(KOLKATA, 30), (KATHMANDU, 15), (MINUS_0330, 30), (UTC, 0), (NEW_YORK, 0)],
)
def test_hours_start_at_the_local_hour(zone: tzinfo, minute_of_utc_hour: int) -> None:
    start = midnight(zone, 2026, 1, 20)
    hours = local_hours(zone, start, start + 24 * HOUR)
    assert len(hours) == 24
    assert all(h % HOUR == minute_of_utc_hour * MINUTE for h, _ in hours)
    assert all(end - h == HOUR for h, end in hours)


def test_hour_start_at_and_around_a_boundary() -> None:
    boundary = to_ms(datetime(2026, 1, 20, 10, 30, tzinfo=UTC))  # 16:00 in Kolkata
    assert hour_start(KOLKATA, boundary) == boundary
    assert hour_start(KOLKATA, boundary + HOUR - 1) == boundary
    assert hour_start(KOLKATA, boundary - 1) == boundary - HOUR
    assert local_hours(KOLKATA, boundary, boundary) == []
    assert local_hours(KOLKATA, boundary - 1, boundary + 1) == [
        (boundary - HOUR, boundary),
        (boundary, boundary + HOUR),
    ]


# --- stays: the boundary rules ---------------------------------------------------------

T0 = to_ms(datetime(2026, 5, 10, 8, 0, tzinfo=UTC))


def test_a_leave_exactly_4_hours_after_the_join_completes_the_stay() -> None:
    stays = replay([ev(T0, 1, 7, join=True), ev(T0 + MAX_STAY_MS, 2, 7, join=False)])
    assert stays == [Stay(7, T0, T0 + MAX_STAY_MS, completed=True)]
    hour = (T0 + MAX_STAY_MS, T0 + MAX_STAY_MS + HOUR)
    [histogram] = hourly_histograms([hour], stays)
    assert histogram.lifetime_data == [0] * 240 + [1]  # 240 whole minutes
    assert histogram.counting_data == [3600.0]


def test_a_leave_after_the_4_hour_close_is_ignored() -> None:
    events = [ev(T0, 1, 7, join=True), ev(T0 + MAX_STAY_MS + 1, 2, 7, join=False)]
    stays = replay(events)
    assert stays == [Stay(7, T0, T0 + MAX_STAY_MS, completed=False)]
    hours = local_hours(UTC, T0, T0 + 5 * HOUR)
    histograms = hourly_histograms(hours, replay(events, horizon_ms=hours[-1][1]))
    # Present for the 4 hours, never a completed stay.
    assert [h.counting_data for h in histograms] == [[0.0, 3600.0]] * 4 + [[3600.0]]
    assert all(h.lifetime_data == [] for h in histograms)


def test_a_join_at_4_hours_times_out_the_stay_and_starts_a_new_one() -> None:
    later = T0 + MAX_STAY_MS
    events = [
        ev(T0, 1, 7, join=True),
        ev(later, 2, 7, join=True),
        ev(later + 5_000, 3, 7, join=False),
    ]
    assert replay(events) == [
        Stay(7, T0, later, completed=False),
        Stay(7, later, later + 5_000, completed=True),
    ]
    # One millisecond earlier, the join is a repeat and the leave ends the first stay.
    events[1] = ev(later - 1, 2, 7, join=True)
    assert replay(events) == [Stay(7, T0, later, completed=False)]


def test_a_second_join_and_an_unmatched_leave_are_ignored() -> None:
    events = [
        ev(T0 - 5_000, 9, 7, join=False),  # no open join
        ev(T0, 1, 7, join=True),
        ev(T0 + 10_000, 2, 7, join=True),  # already inside
        ev(T0 + 60_000, 3, 7, join=False),
        ev(T0 + 70_000, 4, 7, join=False),  # no open join any more
    ]
    assert replay(events) == [Stay(7, T0, T0 + 60_000, completed=True)]


def test_record_id_orders_events_at_the_same_millisecond() -> None:
    inside = ev(T0, 1, 7, join=True)
    # leave (5) before join (6): the stay ends and a new one starts
    assert replay([ev(T0 + 9, 6, 7, join=True), ev(T0 + 9, 5, 7, join=False), inside]) == [
        Stay(7, T0, T0 + 9, completed=True),
        Stay(7, T0 + 9, None, completed=False),
    ]
    # join (5) before leave (6): the join is a repeat, the leave ends the stay
    assert replay([ev(T0 + 9, 6, 7, join=False), ev(T0 + 9, 5, 7, join=True), inside]) == [
        Stay(7, T0, T0 + 9, completed=True)
    ]


def test_a_zero_length_stay_is_completed_and_adds_no_presence() -> None:
    events = [ev(T0 + 10, 1, 7, join=True), ev(T0 + 10, 2, 7, join=False)]
    stays = replay(events)
    assert stays == [Stay(7, T0 + 10, T0 + 10, completed=True)]
    [histogram] = hourly_histograms([(T0, T0 + HOUR)], stays)
    assert histogram.counting_ms == (HOUR,)
    assert histogram.lifetime_data == [1]
    # The other way round, the leave comes first and is ignored: the object stays inside.
    flipped = [ev(T0 + 10, 2, 7, join=True), ev(T0 + 10, 1, 7, join=False)]
    assert replay(flipped) == [Stay(7, T0 + 10, None, completed=False)]


def test_the_horizon_times_out_only_stays_past_4_hours() -> None:
    events = [ev(T0, 1, 1, join=True), ev(T0 + HOUR, 2, 2, join=True)]
    assert replay(events, horizon_ms=T0 + MAX_STAY_MS) == [
        Stay(1, T0, T0 + MAX_STAY_MS, completed=False),
        Stay(2, T0 + HOUR, None, completed=False),
    ]
    assert replay(events) == [
        Stay(1, T0, None, completed=False),
        Stay(2, T0 + HOUR, None, completed=False),
    ]
    # Events after the horizon are still replayed (live occupancy counts a join that is a
    # little ahead of the clock); the horizon only closes stays known to have timed out.
    ahead = [*events, ev(T0 + 2 * HOUR + 1, 3, 3, join=True)]
    assert replay(ahead, horizon_ms=T0 + 2 * HOUR)[-1] == Stay(3, T0 + 2 * HOUR + 1, None, False)


def test_open_at_keeps_stays_ending_exactly_at_the_instant() -> None:
    stays = [
        Stay(1, T0, T0 + 100, completed=True),  # ends before
        Stay(2, T0, T0 + 200, completed=True),  # leave exactly at the instant
        Stay(3, T0 - MAX_STAY_MS + 200, T0 + 200, completed=False),  # times out at it
        Stay(4, T0 + 50, None, completed=False),
        Stay(5, T0 + 200, None, completed=False),  # starts at the instant: not yet
    ]
    assert open_at(stays, T0 + 200) == {
        2: held(T0),
        3: held(T0 - MAX_STAY_MS + 200),
        4: held(T0 + 50),
    }


# --- histograms ------------------------------------------------------------------------


def test_an_empty_hour() -> None:
    [histogram] = hourly_histograms([(T0, T0 + HOUR)], [])
    assert histogram.counting_data == [3600.0]
    assert histogram.lifetime_data == []
    assert histogram.open_at_end == {}


def test_counting_data_has_one_decimal() -> None:
    events = [ev(T0 + 1_000, 1, 7, join=True), ev(T0 + 200_700, 2, 7, join=False)]
    [histogram] = one_shot(events, [(T0, T0 + HOUR)])
    assert histogram.counting_ms == (3_400_300, 199_700)
    assert histogram.counting_data == [3400.3, 199.7]
    assert histogram.lifetime_data == [0, 0, 0, 1]  # 199.7 s is in the 3rd whole minute
    halves = Histogram(T0, T0 + HOUR, (3_400_250, 199_750), (), {})
    assert halves.counting_data == [3400.3, 199.8]  # half up, not to even
    assert Histogram(T0, T0 + 100, (49, 51), (), {}).counting_data == [0.0, 0.1]


def test_lifetime_buckets_whole_minutes_by_the_hour_of_the_leave() -> None:
    events = [
        ev(T0 + 0, 1, 1, join=True),
        ev(T0 + 59_999, 2, 1, join=False),  # bucket 0
        ev(T0 + 10_000, 3, 2, join=True),
        ev(T0 + 70_000, 4, 2, join=False),  # exactly 1 minute: bucket 1
        ev(T0 + HOUR - 200_000, 5, 3, join=True),
        ev(T0 + HOUR, 6, 3, join=False),  # leaves at the next hour's start: counted there
    ]
    first, second = one_shot(events, [(T0, T0 + HOUR), (T0 + HOUR, T0 + 2 * HOUR)])
    assert first.lifetime_data == [1, 1]
    assert second.lifetime_data == [0, 0, 0, 1]
    assert first.open_at_end == {3: held(T0 + HOUR - 200_000)}  # the leave at h_end is still ahead
    assert second.open_at_end == {}
    # two inside over [10 s, 59.999 s); one for 10 s + 10.001 s + 200 s
    assert first.counting_ms == (HOUR - 270_000, 220_001, 49_999)


def test_a_stay_open_at_the_horizon_fills_every_hour_it_covers() -> None:
    joined = T0 + HOUR // 2
    stays = replay([ev(joined, 1, 7, join=True)], horizon_ms=T0 + 2 * HOUR)
    first, second = hourly_histograms([(T0, T0 + HOUR), (T0 + HOUR, T0 + 2 * HOUR)], stays)
    assert first.counting_data == [1800.0, 1800.0]
    assert second.counting_data == [0.0, 3600.0]
    assert second.open_at_end == {7: held(joined)}


def test_a_stay_timed_out_at_the_hour_end_carries_to_the_next_window() -> None:
    boundary = T0 + HOUR
    joined = boundary - MAX_STAY_MS
    before = hourly_histograms(
        [(T0, boundary)], replay([ev(joined, 1, 7, join=True)], horizon_ms=boundary)
    )
    assert before[0].open_at_end == {7: held(joined)}
    after = (boundary, boundary + HOUR)
    # A leave exactly at the close still completes it, 4 h long.
    left = hourly_histograms(
        [after],
        replay(
            [ev(boundary, 2, 7, join=False)], open_at_start={7: held(joined)}, horizon_ms=after[1]
        ),
    )
    assert left[0].lifetime_data == [0] * 240 + [1]
    assert left[0].counting_data == [3600.0]
    # A join at the close times it out first, then starts a new stay.
    rejoined = replay(
        [ev(boundary, 2, 7, join=True)], open_at_start={7: held(joined)}, horizon_ms=after[1]
    )
    assert rejoined == [
        Stay(7, joined, boundary, completed=False),
        Stay(7, boundary, None, completed=False),
    ]
    assert hourly_histograms([after], rejoined)[0].counting_data == [0.0, 3600.0]


def test_overlapping_objects_count_levels() -> None:
    events = [
        ev(T0 + 0, 1, 1, join=True),
        ev(T0 + 600_000, 2, 2, join=True),
        ev(T0 + 1_200_000, 3, 1, join=False),
        ev(T0 + 1_800_000, 4, 2, join=False),
    ]
    [histogram] = one_shot(events, [(T0, T0 + HOUR)])
    assert histogram.counting_data == [1800.0, 1200.0, 600.0]
    assert histogram.lifetime_data == [0] * 20 + [2]


def test_hours_must_be_consecutive() -> None:
    with pytest.raises(ValueError, match="consecutive"):
        hourly_histograms([(T0, T0 + HOUR), (T0 + 2 * HOUR, T0 + 3 * HOUR)], [])
    with pytest.raises(ValueError, match="consecutive"):
        hourly_histograms([(T0, T0)], [])
    assert hourly_histograms([], []) == []


def test_an_open_stay_never_counts_past_4_hours() -> None:
    # Replayed without a horizon, the stay is still open (end None); its presence stops at
    # join + 4 h all the same, exactly as with the horizon the histograms ask for.
    events = [ev(T0, 1, 7, join=True)]
    hours = local_hours(UTC, T0, T0 + 5 * HOUR)
    histograms = hourly_histograms(hours, replay(events))
    assert [h.counting_data for h in histograms] == [[0.0, 3600.0]] * 4 + [[3600.0]]
    assert histograms[3].open_at_end == {7: held(T0)}  # times out exactly at that hour's end
    assert histograms[4].open_at_end == {}
    assert histograms == one_shot(events, hours)


# --- Loitering: a stay lasts 4 h past its last sign of presence -------------------------


def test_hourly_loitering_keeps_a_parked_car_in_the_zone() -> None:
    signs = [loiter(T0 + k * HOUR, 10 + k, 7) for k in range(1, 7)]  # 6 h parked
    events = [ev(T0, 1, 7, join=True), *signs, ev(T0 + 6 * HOUR + 60_000, 99, 7, join=False)]
    stays = replay(events)
    assert [s[:4] for s in stays] == [(7, T0, T0 + 6 * HOUR + 60_000, True)]
    hours = local_hours(UTC, T0, T0 + 7 * HOUR)
    histograms = hourly_histograms(hours, replay(events, horizon_ms=hours[-1][1]))
    assert [h.counting_data for h in histograms[:6]] == [[0.0, 3600.0]] * 6
    assert histograms[6].counting_data == [3540.0, 60.0]
    assert histograms[6].lifetime_data == [0] * 361 + [1]  # a completed 361-minute stay
    # The snapshot at 3 h holds the stay with its last sign before then (2 h).
    assert histograms[2].open_at_end == {7: held(T0, T0 + 2 * HOUR)}


def test_a_stay_closes_4_hours_after_its_last_sign() -> None:
    last = T0 + 2 * HOUR
    events = [ev(T0, 1, 7, join=True), loiter(T0 + HOUR, 2, 7), loiter(last, 3, 7)]
    [stay] = replay(events, horizon_ms=last + MAX_STAY_MS)
    assert (stay.end_ms, stay.completed) == (last + MAX_STAY_MS, False)
    # A horizon before the close keeps it open; without one it is present until the close.
    assert replay(events, horizon_ms=last + MAX_STAY_MS - 1)[0].end_ms is None
    hours = local_hours(UTC, T0, T0 + 7 * HOUR)
    histograms = hourly_histograms(hours, replay(events))
    assert [h.counting_data for h in histograms] == [[0.0, 3600.0]] * 6 + [[3600.0]]
    assert all(h.lifetime_data == [] for h in histograms)


def test_loitering_exactly_at_the_close_extends_it_and_later_is_too_late() -> None:
    close = T0 + MAX_STAY_MS
    at_close = [ev(T0, 1, 7, join=True), loiter(close, 2, 7), ev(close + HOUR, 3, 7, join=False)]
    assert [s[:4] for s in replay(at_close)] == [(7, T0, close + HOUR, True)]
    late = [ev(T0, 1, 7, join=True), loiter(close + 1, 2, 7), ev(close + HOUR, 3, 7, join=False)]
    # Timed out at the close; the late Loitering opens nothing, the leave has no join.
    assert replay(late) == [Stay(7, T0, close, completed=False)]


def test_loitering_without_an_open_stay_is_ignored() -> None:
    events = [loiter(T0, 1, 7), ev(T0 + HOUR, 2, 7, join=False)]
    assert replay(events) == []
    # ... and a join after a leave starts afresh: the earlier signs are not carried over.
    events = [
        ev(T0, 1, 7, join=True),
        loiter(T0 + HOUR, 2, 7),
        ev(T0 + 2 * HOUR, 3, 7, join=False),
        ev(T0 + 3 * HOUR, 4, 7, join=True),
    ]
    assert replay(events, horizon_ms=T0 + 7 * HOUR)[-1] == Stay(
        7, T0 + 3 * HOUR, T0 + 7 * HOUR, False
    )


def test_a_join_after_a_close_moved_by_loitering_starts_a_new_stay() -> None:
    close = T0 + HOUR + MAX_STAY_MS
    events = [ev(T0, 1, 7, join=True), loiter(T0 + HOUR, 2, 7), ev(close - 1, 3, 7, join=True)]
    assert replay(events)[0].end_ms is None  # a repeated join: still the first stay
    events[2] = ev(close, 3, 7, join=True)
    assert [s[:4] for s in replay(events)] == [(7, T0, close, False), (7, close, None, False)]


def test_a_late_loitering_revises_the_hours_it_reaches() -> None:
    # Without the Loitering the stay closes at 4 h; with it (arriving later), the same
    # hours are recomputed to show the car until it leaves.
    events = [ev(T0, 1, 7, join=True), ev(T0 + 5 * HOUR, 3, 7, join=False)]
    hours = local_hours(UTC, T0, T0 + 6 * HOUR)
    before = one_shot(events, hours)
    after = one_shot([*events, loiter(T0 + 3 * HOUR, 2, 7)], hours)
    assert [h.counting_data for h in before[4:]] == [[3600.0], [3600.0]]
    assert [h.counting_data for h in after[4:]] == [[0.0, 3600.0], [3600.0]]
    assert (before[4].lifetime_data, after[5].lifetime_data) == ([], [0] * 300 + [1])
    assert before[:3] == after[:3]  # causal: nothing before the Loitering changes


@settings(max_examples=100, deadline=None)
@given(
    state=st.dictionaries(
        st.integers(1, 2**31),
        st.tuples(st.integers(0, 2**45), st.integers(0, 5 * HOUR)),
        max_size=5,
    )
)
def test_snapshots_read_back_as_written(state: dict[int, tuple[int, int]]) -> None:
    opened = {obj: (start, start + since) for obj, (start, since) in state.items()}
    assert parse_snapshot(snapshot_json(opened)) == opened
    # Rows written before Loitering counted hold only the start, and read the same.
    assert parse_snapshot('{"7":123}') == {7: (123, 123)}
    assert snapshot_json({7: (123, 123), 8: (5, 9)}) == '{"7":123,"8":[5,9]}'

"""Partition weeks and names (store/partitions.py): one partition per UTC week from Monday,
named after that Monday, readable, reversible, and a valid PostgreSQL identifier for every
instant an event can have."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from footfall.domain.times import parse_instant
from footfall.store.partitions import MS_PER_WEEK, _day_of_name, partition_name, week_of

# From 0001-01-01T00:00+14:00 to 9999-12-31T23:59:59.999-14:00: every instant ingest reads.
EARLIEST = parse_instant("0001-01-01T00:00:00+14:00")
LATEST = parse_instant("9999-12-31T23:59:59.999-14:00")


@given(st.integers(min_value=EARLIEST, max_value=LATEST))
def test_each_instant_is_in_the_week_from_the_monday_before_it(instant: int) -> None:
    week = week_of(instant)
    assert week <= instant < week + MS_PER_WEEK
    assert week_of(week) == week_of(week + MS_PER_WEEK - 1) == week
    if week >= parse_instant("0001-01-08T00:00:00Z"):  # datetime's range
        assert datetime.fromtimestamp(week / 1000, UTC).weekday() == 0  # a Monday, 00:00
    name = partition_name(week)
    assert len(name) <= 63
    assert name.isidentifier()
    assert _day_of_name(name) == week


@given(st.integers(min_value=EARLIEST, max_value=LATEST), st.integers(1, 60))
def test_different_weeks_have_different_names(instant: int, weeks_later: int) -> None:
    week = week_of(instant)
    assert partition_name(week) != partition_name(week + weeks_later * MS_PER_WEEK)


def test_names_read_as_the_weeks_monday_in_utc() -> None:
    # Wednesday 25 November 2026, 23:59 in New York, is Thursday 26th in UTC.
    assert partition_name(week_of(parse_instant("2026-11-25T23:59:59-05:00"))) == "events_p20261123"
    assert partition_name(week_of(parse_instant("2026-11-30T00:00:00Z"))) == "events_p20261130"
    assert partition_name(week_of(parse_instant("1970-01-01T00:00:00Z"))) == "events_p19691229"
    assert partition_name(week_of(EARLIEST)) == "events_pday_m719169"  # Monday 0000-12-25

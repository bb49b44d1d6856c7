"""Partition names (store/partitions.py): one per UTC day, readable, reversible, and
valid PostgreSQL identifiers for every instant an event can have."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from footfall.domain.times import parse_instant
from footfall.store.partitions import MS_PER_DAY, _day_of_name, day_of, partition_name

# From 0001-01-01T00:00+14:00 to 9999-12-31T23:59:59.999-14:00: every instant ingest reads.
EARLIEST = parse_instant("0001-01-01T00:00:00+14:00")
LATEST = parse_instant("9999-12-31T23:59:59.999-14:00")


@given(st.integers(min_value=EARLIEST, max_value=LATEST))
def test_each_instant_names_its_day_and_the_name_gives_the_day_back(instant: int) -> None:
    day = day_of(instant)
    assert day <= instant < day + MS_PER_DAY
    name = partition_name(day)
    assert len(name) <= 63
    assert name.isidentifier()
    assert _day_of_name(name) == day


@given(st.integers(min_value=EARLIEST, max_value=LATEST), st.integers(1, 400))
def test_different_days_have_different_names(instant: int, days_later: int) -> None:
    day = day_of(instant)
    assert partition_name(day) != partition_name(day + days_later * MS_PER_DAY)


def test_names_read_as_the_utc_date() -> None:
    assert partition_name(day_of(parse_instant("2026-11-25T23:59:59-05:00"))) == "events_p20261126"
    assert partition_name(day_of(parse_instant("1969-12-31T23:59:59Z"))) == "events_p19691231"
    assert partition_name(day_of(EARLIEST)) == "events_pday_m719163"

"""Instants as epoch milliseconds, rendered in the location's offset at that instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.domain.times import (
    ZoneError,
    format_local,
    format_local_seconds,
    from_ms,
    parse_zone,
    to_ms,
)


def test_dst_changes_the_rendered_offset() -> None:
    zone = parse_zone("America/New_York")
    winter = to_ms(datetime(2026, 1, 15, 17, 0, 0, 250000, tzinfo=UTC))
    summer = to_ms(datetime(2026, 7, 15, 16, 0, 0, tzinfo=UTC))
    assert format_local(winter, zone) == "2026-01-15T12:00:00.250-05:00"
    assert format_local(summer, zone) == "2026-07-15T12:00:00.000-04:00"
    # The repeated hour of the fall-back day renders both offsets.
    first = to_ms(datetime(2026, 11, 1, 5, 30, tzinfo=UTC))
    second = to_ms(datetime(2026, 11, 1, 6, 30, tzinfo=UTC))
    assert format_local_seconds(first, zone) == "2026-11-01T01:30:00-04:00"
    assert format_local_seconds(second, zone) == "2026-11-01T01:30:00-05:00"


def test_fixed_offsets_and_half_hour_zones() -> None:
    assert format_local(0, parse_zone("+05:45")) == "1970-01-01T05:45:00.000+05:45"
    assert format_local(0, parse_zone("-03:30")) == "1969-12-31T20:30:00.000-03:30"
    assert format_local(0, parse_zone("Asia/Kolkata")) == "1970-01-01T05:30:00.000+05:30"
    assert format_local(0, parse_zone("UTC")) == "1970-01-01T00:00:00.000+00:00"


@pytest.mark.parametrize("bad", ["Mars/Olympus", "+25:00", "05:00", "", "../etc/passwd"])
def test_unknown_zones_are_refused(bad: str) -> None:
    with pytest.raises(ZoneError):
        parse_zone(bad)


@given(st.integers(min_value=-(10**13), max_value=10**14))
def test_milliseconds_round_trip(ms: int) -> None:
    assert to_ms(from_ms(ms)) == ms
    assert to_ms(from_ms(ms, timezone(timedelta(hours=-9, minutes=-30)))) == ms


def test_to_ms_truncates_below_a_millisecond() -> None:
    moment = datetime(2026, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)
    assert to_ms(moment) % 1000 == 999
    before_epoch = datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert to_ms(before_epoch) == -1

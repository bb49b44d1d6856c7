"""Instants as epoch milliseconds, rendered in the location's offset at that instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.domain.times import (
    InstantError,
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


_CHARS = "0123456789:.-+TZ x"


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from(["Z", "+00:00", "-05:00", "+05:30", "+14:00", "-14:00", "+05:07"]),
    st.integers(0, 28),
    st.sampled_from(_CHARS),
    st.integers(0, 2),
)
def test_the_minute_cache_gives_what_the_full_parse_gives(
    moment: datetime, offset: str, where: int, char: str, changes: int
) -> None:
    """A text of a minute already seen is read off the cache (times.parse_instant); any
    text, well-formed or one character off, reads exactly as the full parse reads it."""
    from footfall.domain.times import _parse_fully, parse_instant

    known = moment.strftime("%Y-%m-%dT%H:%M:") + "00.000" + offset
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + offset
    if moment.year < 1000:  # strftime's %Y has no leading zeros there
        known, text = (
            f"{moment.year:04d}" + known[known.index("-") :],
            (f"{moment.year:04d}" + text[text.index("-") :]),
        )
    for _ in range(changes):  # one or two characters off, anywhere
        if where < len(text):
            text = text[:where] + char + text[where + 1 :]
        where = (where * 7 + 3) % 29
    parse_instant(known)  # the minute, learnt (a well-formed text)
    try:
        expected: int | str = _parse_fully(text)
    except InstantError as exc:
        expected = str(exc)
    try:
        got: int | str = parse_instant(text)
    except InstantError as exc:
        got = str(exc)
    assert got == expected, text

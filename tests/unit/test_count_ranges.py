"""The parts an exact count is assembled from (domain/count_ranges.py): disjoint,
aligned, exactly the range, and never more than half an hour of raw events."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from footfall.domain.count_ranges import MS_PER_HOUR, MS_PER_QUARTER, Part, count_parts

DAY = 24 * MS_PER_HOUR
instants = st.integers(min_value=-400 * DAY, max_value=400 * DAY)
bounds = st.one_of(st.none(), instants)


def _covers(parts: list[Part], since: int | None, until: int | None) -> None:
    for a, b in itertools.pairwise(parts):
        assert a.end is not None
        assert a.end == b.start  # contiguous and in order, so disjoint
    assert parts[0].start == since
    assert parts[-1].end == until


@given(bounds, bounds)
def test_the_parts_are_exactly_the_range_aligned_to_their_buckets(
    since: int | None, until: int | None
) -> None:
    parts = count_parts(since, until)
    if since is not None and until is not None and since >= until:
        assert parts == []
        return
    _covers(parts, since, until)
    for part in parts:
        if part.source == "hours":
            step = MS_PER_HOUR
        elif part.source == "quarters":
            step = MS_PER_QUARTER
        else:
            assert part.start is not None
            assert part.end is not None
            assert 0 < part.end - part.start < MS_PER_QUARTER
            continue
        for edge in (part.start, part.end):
            assert edge is None or edge % step == 0
        if part.start is not None and part.end is not None:
            assert part.start < part.end
    raw = sum(
        p.end - p.start
        for p in parts
        if p.source == "raw" and p.start is not None and p.end is not None
    )
    assert raw < 2 * MS_PER_QUARTER


@given(instants, st.integers(min_value=1, max_value=3 * DAY))
def test_a_count_point_by_point_equals_the_sum_over_the_parts(since: int, length: int) -> None:
    """Each instant of the range falls in exactly one part (sampled)."""
    until = since + length
    parts = count_parts(since, until)
    step = max(1, length // 37)
    for instant in range(since, until, step):
        holders = [
            p
            for p in parts
            if p.start is not None and p.end is not None and p.start <= instant < p.end
        ]
        assert len(holders) == 1, instant


def test_a_range_with_odd_edges() -> None:
    h, q = MS_PER_HOUR, MS_PER_QUARTER
    since, until = 10 * h + 17 * 60_000, 13 * h + 42 * 60_000
    assert count_parts(since, until) == [
        Part("raw", since, 10 * h + 2 * q),
        Part("quarters", 10 * h + 2 * q, 11 * h),
        Part("hours", 11 * h, 13 * h),
        Part("quarters", 13 * h, 13 * h + 2 * q),
        Part("raw", 13 * h + 2 * q, until),
    ]
    assert count_parts(None, None) == [Part("hours", None, None)]

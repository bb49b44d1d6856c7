"""The histogram job's path through the occupancy sweep (docs/api.md, Histograms and
Report feeds) equals the plain one: it sweeps the spans cut at every quarter-hour and
local hour boundary once, then takes the hours and the quarters as unions of those spans
(`Sweep.unions`, `zone_stats.sweep_stats`) instead of building a histogram per span and
merging them (`zone_stats.merge_spans`, `zone_stats.quarter_stats`). The plain path is
checked against the brute-force reference in test_zone_math.py."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings

from footfall.domain.histogram import (
    counting_seconds,
    histograms_of,
    hourly_histograms,
    local_hours,
)
from footfall.domain.stays import replay
from footfall.domain.zone_stats import MS_PER_QUARTER, merge_spans, quarter_stats, sweep_stats
from footfall.domain.zone_sweep import sweep
from tests.unit.test_zone_math import HOUR, Case, zone_cases


def _spans_and_quarters(
    case: Case,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]]]:
    """(the spans the job sweeps, the local hours, the whole quarters), as the job cuts
    them (services/histogram_steps.py): every quarter-hour and local hour boundary."""
    hours = local_hours(case.zone, case.start, case.end)
    start, end = case.start, hours[-1][1]
    cuts = {start, end, *(h for h, _ in hours if start < h)}
    cuts.update(range(start - start % MS_PER_QUARTER + MS_PER_QUARTER, end, MS_PER_QUARTER))
    spans = list(itertools.pairwise(sorted(cuts)))
    first = -(-start // MS_PER_QUARTER) * MS_PER_QUARTER
    quarters = [
        (q, q + MS_PER_QUARTER) for q in range(first, end - MS_PER_QUARTER + 1, MS_PER_QUARTER)
    ]
    return spans, [h for h in hours if h[0] >= start], quarters


@settings(max_examples=300, deadline=None)
@given(case=zone_cases())
def test_the_jobs_unions_equal_merged_histograms(case: Case) -> None:
    spans, hours, quarters = _spans_and_quarters(case)
    stays = replay(case.events, horizon_ms=spans[-1][1])
    hour_ends = {end for _, end in hours}
    swept = sweep(spans, stays, hour_ends)
    plain = hourly_histograms(spans, stays, hour_ends)
    assert histograms_of(swept) == plain

    by_hour = histograms_of(swept.unions(hours))
    assert by_hour == merge_spans(hours, plain)
    assert [counting_seconds(h.counting_ms) for h in by_hour] == [
        h.counting_data for h in merge_spans(hours, plain)
    ]
    assert sweep_stats(swept.unions(quarters)) == quarter_stats(merge_spans(quarters, plain))
    assert sweep_stats(swept) == quarter_stats(plain)


def test_a_span_that_is_no_union_of_the_swept_ones_is_refused() -> None:
    swept = sweep([(0, HOUR), (HOUR, 2 * HOUR)], [])
    with pytest.raises(ValueError, match="not a union"):
        swept.unions([(0, HOUR // 2)])
    with pytest.raises(ValueError, match="not a union"):
        swept.unions([(0, 3 * HOUR)])
    assert swept.unions([(HOUR, 2 * HOUR)]).counting == [[HOUR]]

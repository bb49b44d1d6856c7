"""The occupancy sweep behind the hourly histograms (docs/api.md, Histograms and Stays):
one pass over the stays of a zone trigger that gives, for each of a run of consecutive
spans, the figures `domain.histogram.Histogram` holds, as plain lists.

Invariant: for every span, `counting[k]` is the number of milliseconds of the span during
which exactly k objects were present, summing to the span's length, its last entry
non-zero unless the span is empty of presence (then `[length]`); `lifetimes` counts the
completed stays whose leave falls in the span by whole minutes of duration, its last entry
non-zero; `open_at_end` is the replay state at the span's end where a snapshot was asked
for. `domain.histogram.hourly_histograms` is these figures, span by span; `unions` gives
them for spans that are unions of the swept ones (the histogram job sweeps quarter-hours
once and writes both hours and quarters from that).

Everything is a sweep over sorted instants: O((stays + spans) log(stays + spans)). It is
the histogram job's hot path, so the loops keep to local names and plain lists.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import accumulate, repeat, zip_longest
from operator import sub
from typing import Final

from footfall.domain.stays import MAX_STAY_MS, OpenStay, Stay, last_sign_before

__all__ = ["LIFETIME_BUCKET_MS", "Sweep", "sweep"]

LIFETIME_BUCKET_MS: Final = 60_000


@dataclass(frozen=True)
class Sweep:
    """The figures of consecutive `spans`, one entry per span (see the module doc)."""

    spans: Sequence[tuple[int, int]]
    counting: list[list[int]]
    lifetimes: list[list[int]]
    completed_ms: list[int]  # total duration of the completed stays counted in `lifetimes`
    open_at_end: list[dict[int, OpenStay]]

    def unions(self, wanted: Sequence[tuple[int, int]]) -> Sweep:
        """The figures of the `wanted` spans, each a union of consecutive swept spans
        (spans before a wanted one are skipped); ValueError if one is not."""
        merged = Sweep(wanted, [], [], [], [])
        position, total = 0, len(self.spans)
        for start, end in wanted:
            while position < total and self.spans[position][0] < start:
                position += 1
            first = position
            while position < total and self.spans[position][1] < end:
                position += 1
            if position == total or self.spans[first][0] != start or self.spans[position][1] != end:
                raise ValueError(f"span [{start}, {end}) is not a union of the spans swept")
            position += 1
            self._merge_into(merged, first, position)
        return merged

    def _merge_into(self, merged: Sweep, first: int, stop: int) -> None:
        if stop - first == 1:
            merged.counting.append(self.counting[first])
            merged.lifetimes.append(self.lifetimes[first])
        else:
            merged.counting.append(_sum_lists(self.counting[first:stop]))
            merged.lifetimes.append(_sum_lists(self.lifetimes[first:stop]))
        merged.completed_ms.append(sum(self.completed_ms[first:stop]))
        merged.open_at_end.append(self.open_at_end[stop - 1])


def _sum_lists(lists: Sequence[list[int]]) -> list[int]:
    """Element by element, as long as the longest (lists may be empty: no stay completed)."""
    return [sum(column) for column in zip_longest(*lists, fillvalue=0)]


def sweep(
    spans: Sequence[tuple[int, int]],
    stays: Sequence[Stay],
    snapshots_at: Collection[int] | None = None,
) -> Sweep:
    """The figures of each of the consecutive, non-empty `spans`, from stays computed by
    `replay` with horizon_ms = the last span's end. A stay with end None is present until
    its last sign + 4 h at most (the longest it can last), so stays replayed with an
    earlier or no horizon still give the same values. `open_at_end` is filled only for
    spans ending at one of `snapshots_at` (all when None)."""
    _check_consecutive(spans)
    starts = [start for start, _ in spans]
    change, lifetimes, completed_ms, open_at_end = _changes(spans, starts, stays, snapshots_at)
    return Sweep(spans, _levels(starts, spans[-1][1], change), lifetimes, completed_ms, open_at_end)


def _check_consecutive(spans: Sequence[tuple[int, int]]) -> None:
    if not spans:
        raise ValueError("no span to sweep")
    previous = spans[0][0]
    for start, end in spans:
        if start != previous or end <= start:
            raise ValueError(f"hours must be consecutive and non-empty: {spans!r}")
        previous = end


def _changes(
    spans: Sequence[tuple[int, int]],
    starts: list[int],
    stays: Sequence[Stay],
    snapshots_at: Collection[int] | None,
) -> tuple[dict[int, int], list[list[int]], list[int], list[dict[int, OpenStay]]]:
    """(occupancy changes: +1 where a presence begins, -1 where it ends, clipped to the
    spans; then per span the lifetimes, completed duration and open stays at its end)."""
    first, last = spans[0][0], spans[-1][1]
    # Spans of equal length (the quarter-hours of the histogram job) are found by
    # arithmetic; local hours, which DST can stretch, by bisection.
    step = spans[0][1] - first
    uniform = all(e - b == step for b, e in spans)
    kept = [i for i, (_, e) in enumerate(spans) if snapshots_at is None or e in snapshots_at]
    kept_ends = [spans[i][1] for i in kept]
    change: dict[int, int] = {}
    lifetimes: list[list[int]] = [[] for _ in spans]
    completed_ms = [0] * len(spans)
    open_at_end: list[dict[int, OpenStay]] = [{} for _ in spans]
    get = change.get
    for stay in stays:  # the tightest loop of the histogram job
        obj, begin, end_ms, completed, signs = stay
        end = (signs[-1] if signs else begin) + MAX_STAY_MS if end_ms is None else end_ms
        low = begin if begin > first else first
        high = end if end < last else last
        if low < high:
            change[low] = get(low, 0) + 1
            change[high] = get(high, 0) - 1
        if completed and first <= end < last:
            index = (end - first) // step if uniform else bisect_right(starts, end) - 1
            counts = lifetimes[index]
            completed_ms[index] += end - begin
            bucket = (end - begin) // LIFETIME_BUCKET_MS
            if len(counts) <= bucket:
                counts.extend([0] * (bucket + 1 - len(counts)))
            counts[bucket] += 1
        # Open at a kept span end e when begin < e <= end: a contiguous run (a few long
        # unless Loitering keeps a parked car in); usually none (a short stay in one span).
        first_open = bisect_right(kept_ends, begin)
        if first_open < len(kept_ends) and kept_ends[first_open] <= end:
            for k in range(first_open, bisect_right(kept_ends, end)):
                at = kept_ends[k]
                open_at_end[kept[k]][obj] = (
                    (begin, last_sign_before(stay, at)) if signs else (begin, begin)
                )
    return change, lifetimes, completed_ms, open_at_end


def _levels(starts: list[int], last: int, change: dict[int, int]) -> list[list[int]]:
    """Milliseconds per occupancy level of each span, from the changes (which lie within
    [starts[0], last]).

    Every span boundary is made an instant of its own (a change of 0), so the segments
    between consecutive instants each lie in one span and hold one level; the levels are
    the running sum of the changes, accumulated in C rather than step by step."""
    for boundary in starts:
        if boundary not in change:
            change[boundary] = 0
    if last not in change:
        change[last] = 0
    instants = sorted(change)  # (ints sort several times faster than pairs)
    levels = list(accumulate(map(change.__getitem__, instants)))  # level from each instant on
    durations = list(map(sub, instants[1:], instants[:-1]))  # each segment lasts > 0 ms
    counting: list[list[int]] = []
    cut = 0
    for following in [*map(bisect_left, repeat(instants), starts[1:]), len(durations)]:
        if following - cut == 1:  # one level all the span long
            ms = [0] * (levels[cut] + 1)
            ms[-1] = durations[cut]
        else:
            held = levels[cut:following]
            # Every segment lasts, so the highest level held is the last entry, non-zero.
            ms = [0] * (max(held) + 1)
            for level, duration in zip(held, durations[cut:following], strict=True):
                ms[level] += duration
        counting.append(ms)
        cut = following
    return counting

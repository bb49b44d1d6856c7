"""Per quarter-hour statistics of a zone, for report feeds (docs/api.md, Report feeds).

From the same stays as the hourly histograms (docs/api.md, Histograms): the peak occupancy (the
highest
level held for a non-zero time), the occupancy integrated over time (object-ms, so a mean
length over any span is a sum divided by its duration), and the completed stays that
ended in the quarter with their total duration (so a mean dwell is a quotient of sums).
Quarter-hours line up with the local hours and days of every zone, so any bucket of a
report is a union of whole quarters.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count
from operator import mul
from typing import Final, NamedTuple

from footfall.domain.histogram import Histogram
from footfall.domain.zone_sweep import Sweep

__all__ = ["MS_PER_QUARTER", "QuarterStats", "merge_spans", "quarter_stats", "sweep_stats"]

MS_PER_QUARTER: Final = 900_000


class QuarterStats(NamedTuple):
    """A quarter's statistics. A named tuple, not a dataclass: the histogram job builds
    96 per trigger and day, and a frozen dataclass cost it several times more to build."""

    start_ms: int
    peak: int
    area_ms: int
    stays: int
    stay_ms: int


def quarter_stats(quarter_histograms: Sequence[Histogram]) -> list[QuarterStats]:
    """Statistics of each quarter, from its histogram."""
    return [
        QuarterStats(
            start_ms=h.start_ms,
            peak=len(h.counting_ms) - 1,
            area_ms=sum(level * ms for level, ms in enumerate(h.counting_ms)),
            stays=sum(h.lifetime),
            stay_ms=h.completed_ms,
        )
        for h in quarter_histograms
    ]


def sweep_stats(swept: Sweep) -> list[QuarterStats]:
    """Statistics of each span of a sweep: `quarter_stats` of its histograms, without
    building them (the histogram job's path: 96 quarters per trigger and day)."""
    new = tuple.__new__  # skips the named tuple's Python-level constructor (as in replay)
    return [
        new(
            QuarterStats,
            (start, len(counting) - 1, sum(map(mul, count(), counting)), sum(lifetime), ms),
        )
        for (start, _), counting, lifetime, ms in zip(
            swept.spans, swept.counting, swept.lifetimes, swept.completed_ms, strict=True
        )
    ]


def _add(into: list[int], values: Sequence[int]) -> None:
    if len(into) < len(values):
        into.extend([0] * (len(values) - len(into)))
    for i, value in enumerate(values):
        into[i] += value


def merge_spans(wanted: Sequence[tuple[int, int]], pieces: Sequence[Histogram]) -> list[Histogram]:
    """Histograms of the `wanted` spans (local hours, quarter-hours) as unions of the
    consecutive `pieces` of one sweep; pieces before a wanted span are skipped."""
    merged: list[Histogram] = []
    position = 0
    for start, end in wanted:
        counting: list[int] = []
        lifetime: list[int] = []
        completed_ms = 0
        covered = start  # the pieces taken so far cover [start, covered)
        last: Histogram | None = None
        while position < len(pieces) and pieces[position].end_ms <= end:
            piece = pieces[position]
            if piece.start_ms >= start:
                if piece.start_ms != covered:
                    break
                _add(counting, piece.counting_ms)
                _add(lifetime, piece.lifetime)
                completed_ms += piece.completed_ms
                covered = piece.end_ms
                last = piece
            position += 1
        if last is None or covered != end:
            raise ValueError(f"span [{start}, {end}) is not a union of the pieces given")
        merged.append(
            Histogram(
                start, end, tuple(counting), tuple(lifetime), dict(last.open_at_end), completed_ms
            )
        )
    return merged

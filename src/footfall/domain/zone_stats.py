"""Per quarter-hour statistics of a zone, for report feeds (SPEC §7).

From the same stays as the hourly histograms (SPEC §5.2): the peak occupancy (the highest
level held for a non-zero time), the occupancy integrated over time (object-ms, so a mean
length over any span is a sum divided by its duration), and the completed stays that
ended in the quarter with their total duration (so a mean dwell is a quotient of sums).
Quarter-hours line up with the local hours and days of every zone, so any bucket of a
report is a union of whole quarters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from footfall.domain.histogram import Histogram

__all__ = ["MS_PER_QUARTER", "QuarterStats", "merge_hours", "quarter_stats", "quarters"]

MS_PER_QUARTER: Final = 900_000


@dataclass(frozen=True)
class QuarterStats:
    start_ms: int
    peak: int
    area_ms: int
    stays: int
    stay_ms: int


def quarters(start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """The quarter-hours covering [start_ms, end_ms), from the one holding start_ms."""
    first = start_ms - start_ms % MS_PER_QUARTER
    return [(q, q + MS_PER_QUARTER) for q in range(first, end_ms, MS_PER_QUARTER)]


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


def _add(into: list[int], values: Sequence[int]) -> None:
    if len(into) < len(values):
        into.extend([0] * (len(values) - len(into)))
    for i, value in enumerate(values):
        into[i] += value


def merge_hours(
    hours: Sequence[tuple[int, int]], quarter_histograms: Sequence[Histogram]
) -> list[Histogram]:
    """Hourly histograms as unions of their quarters' (one sweep serves both)."""
    merged: list[Histogram] = []
    position = 0
    for start, end in hours:
        counting: list[int] = []
        lifetime: list[int] = []
        completed_ms = 0
        last: Histogram | None = None
        while position < len(quarter_histograms) and quarter_histograms[position].end_ms <= end:
            quarter = quarter_histograms[position]
            if quarter.start_ms >= start:
                _add(counting, quarter.counting_ms)
                _add(lifetime, quarter.lifetime)
                completed_ms += quarter.completed_ms
                last = quarter
            position += 1
        if last is None or last.end_ms != end:
            raise ValueError(f"hour [{start}, {end}) is not a union of the quarters given")
        merged.append(
            Histogram(
                start, end, tuple(counting), tuple(lifetime), dict(last.open_at_end), completed_ms
            )
        )
    return merged

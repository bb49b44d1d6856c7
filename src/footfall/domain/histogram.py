"""Local hours and hourly zone histograms (README.md, Zones; docs/api.md, Stays), as pure
functions.

Local hours. An hour boundary is an instant where the wall clock of the location's zone
reads HH:00:00.000. Hours run from one boundary to the next, so a DST day has 23 or 25
of them, a +05:30 location's hours start at :30 UTC, and a zone with a 30-minute shift
(Australia/Lord_Howe) has one 90-minute hour on each shift day (the clock never reads
HH:00 at the shift): nothing here assumes an hour is 3,600,000 ms long.

Histograms. For an hour [h, h_end) and the stays of one zone trigger:
- `counting_ms[k]` is the exact number of milliseconds of the hour during which exactly k
  objects were present (presence is [start, end) of each stay; a stay still open counts
  until its last sign of presence + 4 h or the end of the hours computed, whichever is
  first). It sums to
  h_end - h. Trailing levels of 0 ms are trimmed, but one entry always remains.
- `lifetime[j]` is the number of completed stays (ended by a leave) whose leave is in
  [h, h_end) and whose duration is in [j, j + 1) minutes. Trailing zeros are trimmed.
- `open_at_end` is `stays.open_at(stays, h_end)`: the state (object -> start and last sign
  of presence) a replay holds at h_end before
  processing any event at h_end; replaying the next hours from it gives the same
  histograms as replaying from the beginning.
Everything is a sweep over sorted instants (`domain.zone_sweep`):
O((stays + hours) log(stays + hours)).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from typing import Final

from footfall.domain.stays import OpenStay, Stay
from footfall.domain.times import MS_PER_HOUR, from_ms
from footfall.domain.zone_sweep import LIFETIME_BUCKET_MS, Sweep, sweep

__all__ = [
    "LIFETIME_BUCKET_MS",
    "Histogram",
    "counting_seconds",
    "histograms_of",
    "hour_start",
    "hourly_histograms",
    "local_hours",
]

_ONE_MS: Final = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Histogram:
    start_ms: int
    end_ms: int
    counting_ms: tuple[int, ...]
    lifetime: tuple[int, ...]
    open_at_end: dict[int, OpenStay]
    # Total duration of the completed stays counted in `lifetime` (for mean dwell times).
    completed_ms: int = 0

    @property
    def counting_data(self) -> list[float]:
        """Seconds per occupancy level, each rounded to one decimal, half up.

        Rounded in integer tenths of a second, so 1250 ms is 1.3 (not float-dependent).
        Each level is rounded alone, so the rounded values may sum to 0.1 s more or less
        than the hour; the exact `counting_ms` always sums to it.
        """
        return counting_seconds(self.counting_ms)

    @property
    def lifetime_data(self) -> list[int]:
        return list(self.lifetime)


def counting_seconds(counting_ms: Sequence[int]) -> list[float]:
    """`Histogram.counting_data` of these milliseconds per level (see there)."""
    return [(ms + 50) // 100 / 10 for ms in counting_ms]


def _offset_ms(zone: tzinfo, instant_ms: int) -> int:
    offset = from_ms(instant_ms, zone).utcoffset()
    return 0 if offset is None else offset // _ONE_MS


def hour_start(zone: tzinfo, instant_ms: int) -> int:
    """The local hour boundary <= instant_ms."""
    while True:
        offset = _offset_ms(zone, instant_ms)
        # The latest instant <= instant_ms whose wall clock, at this offset, reads HH:00.
        candidate = instant_ms - (instant_ms + offset) % MS_PER_HOUR
        if _offset_ms(zone, candidate) == offset:
            # The offset held from the candidate to the instant (zones change offset at
            # most once within an hour), so the clock read HH:00 there and never since.
            return candidate
        # The offset changed at some T in (candidate, instant_ms]. From T on the clock
        # reads the current offset, and T is not on its HH:00 lattice (candidate is the
        # only lattice point within the hour), so the boundary is before T: find T and
        # look again from just before it.
        before, after = candidate, instant_ms  # offset(before) != offset == offset(after)
        while after - before > 1:
            middle = (before + after) // 2
            if _offset_ms(zone, middle) == offset:
                after = middle
            else:
                before = middle
        instant_ms = after - 1


def _next_boundary(zone: tzinfo, boundary_ms: int) -> int:
    """The first local hour boundary after `boundary_ms`."""
    probe = boundary_ms + MS_PER_HOUR
    found = hour_start(zone, probe)
    while found <= boundary_ms:  # a local hour longer than 60 minutes
        probe += MS_PER_HOUR
        found = hour_start(zone, probe)
    # `found` is the last boundary <= probe; with hours shorter than 60 minutes there may
    # be earlier ones after `boundary_ms`.
    while (earlier := hour_start(zone, found - 1)) > boundary_ms:
        found = earlier
    return found


def local_hours(zone: tzinfo, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """Consecutive local hours [(h, h_end), ...] covering every hour that overlaps
    [start_ms, end_ms): the first starts at the local hour boundary <= start_ms.

    Empty when end_ms <= start_ms (an empty interval overlaps no hour).
    """
    hours: list[tuple[int, int]] = []
    if end_ms <= start_ms:
        return hours
    hour = hour_start(zone, start_ms)
    while hour < end_ms:
        following = _next_boundary(zone, hour)
        hours.append((hour, following))
        hour = following
    return hours


def hourly_histograms(
    hours: Sequence[tuple[int, int]],
    stays: Sequence[Stay],
    snapshots_at: Collection[int] | None = None,
) -> list[Histogram]:
    """One histogram per hour (consecutive hours), from stays computed by `replay` with
    horizon_ms = the last hour's end (`domain.zone_sweep.sweep`, which says the rest).

    `open_at_end` is filled only for spans ending at one of `snapshots_at` (all when None):
    the histogram job sweeps quarter-hours but keeps snapshots at hour ends only.
    """
    return histograms_of(sweep(hours, stays, snapshots_at)) if hours else []


def histograms_of(swept: Sweep) -> list[Histogram]:
    """The histogram of each span of a sweep (its figures are already trimmed)."""
    return [
        Histogram(start, end, tuple(counting), tuple(lifetime), opened, completed)
        for (start, end), counting, lifetime, completed, opened in zip(
            swept.spans,
            swept.counting,
            swept.lifetimes,
            swept.completed_ms,
            swept.open_at_end,
            strict=True,
        )
    ]

"""How an exact count over [since, until) is assembled (docs/api.md, Totals): whole UTC hours from
the hourly rollups, whole quarter-hours at the edges from the quarter rollups, and only
what is left — less than a quarter-hour at each end — from raw events.

Invariant: the parts are disjoint, each aligned to its bucket, and together exactly
[since, until) (`None`: unbounded on that side, which only an hour part can be). So the
raw events read never exceed 30 minutes' worth, whatever the range: the cost follows the
number of hours, not of events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["MS_PER_QUARTER", "Part", "count_parts"]

MS_PER_HOUR: Final = 3_600_000
MS_PER_QUARTER: Final = 900_000

Source = Literal["hours", "quarters", "raw"]


@dataclass(frozen=True)
class Part:
    source: Source
    start: int | None  # None: from the beginning (hours only)
    end: int | None  # None: to the end (hours only)


def _ceil(ms: int, step: int) -> int:
    return -(-ms // step) * step


def _floor(ms: int, step: int) -> int:
    return ms - ms % step


def _edge(start: int, end: int) -> list[Part]:
    """[start, end), shorter than an hour and inside one: quarters, raw around them."""
    if start >= end:
        return []
    first, last = _ceil(start, MS_PER_QUARTER), _floor(end, MS_PER_QUARTER)
    if first >= last:
        if start < first < end:  # across one quarter boundary: less than one on each side
            return [Part("raw", start, first), Part("raw", first, end)]
        return [Part("raw", start, end)]
    parts = [Part("raw", start, first)] if start < first else []
    parts.append(Part("quarters", first, last))
    if last < end:
        parts.append(Part("raw", last, end))
    return parts


def count_parts(since: int | None, until: int | None) -> list[Part]:
    """The parts of [since, until), in time order; [] when the range is empty."""
    if since is not None and until is not None and since >= until:
        return []
    first_hour = None if since is None else _ceil(since, MS_PER_HOUR)
    end_hour = None if until is None else _floor(until, MS_PER_HOUR)
    if first_hour is not None and end_hour is not None and first_hour >= end_hour:
        assert since is not None
        assert until is not None
        return _edge(since, until)  # no whole hour: within an hour, or across one boundary
    parts = [] if since is None or first_hour is None else _edge(since, first_hour)
    parts.append(Part("hours", first_hour, end_hour))
    if until is not None and end_hour is not None:
        parts += _edge(end_hour, until)
    return parts

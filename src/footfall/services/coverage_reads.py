"""`GET /coverage` (docs/api.md, Coverage): per channel and completed local hour, the
seconds it was covered, from the stored marks.

Invariant: only hours that have ended and that start at or after the channel's first
mark are listed (nothing is known before it), and a request is refused (code 4, naming
`since`) only when the items it would list exceed `MAX_COVERAGE_ITEMS`, or a day of every
channel listed when that is more (the default window always answers, even for a location
at its channel limit): a wide range reaching before any mark costs nothing, since the
hours before the first mark are never listed. No statement carries one parameter per
channel unless the request named the channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Final, Literal, cast

from sqlalchemy import Connection

from footfall.domain import read_items as items
from footfall.domain.coverage import state_of
from footfall.domain.histogram import hour_start, local_hours
from footfall.domain.read_params import ParamError, Params
from footfall.domain.times import MS_PER_HOUR, format_local_seconds
from footfall.services import coverage
from footfall.store import coverage as coverage_store
from footfall.store import reads

__all__ = ["MAX_COVERAGE_ITEMS", "coverage_items"]

_State = Literal["complete", "partial", "none"]
MAX_COVERAGE_ITEMS: Final = 10_000  # channel-hours in one /coverage answer
_DAY_MS: Final = 86_400_000
_DAY_HOURS: Final = 25  # the longest local day (DST fall-back)

# (location id, zone, channel -> the first instant known, the hours to list)
_Plan = tuple[int, tzinfo, dict[str, int], list[tuple[int, int]]]


def _too_large(size: str, limit: int = MAX_COVERAGE_ITEMS) -> ParamError:
    return ParamError(
        "since",
        f"the range covers {size} channel-hours; at most {limit} per "
        "request: narrow since/until or give channel_id",
    )


def _plan(
    conn: Connection, location_id: int, zone: tzinfo, params: Params, window: tuple[int, int, int]
) -> _Plan | None:
    """The location's channels with a first mark, and the hours worth listing."""
    since, until, now = window
    first = coverage_store.first_quarters(conn, location_id)
    known = {
        row.id: first[row.id]
        for row in reads.channels_of(conn, [location_id])
        if row.id in first and (params.channel_ids is None or row.id in params.channel_ids)
    }
    if not known:
        return None
    # Hours ending at or before the first mark are never listed: start one hour before it.
    low = max(since, min(known.values()) - MS_PER_HOUR)
    end = min(until, now)
    if end - low > (MAX_COVERAGE_ITEMS + 2) * MS_PER_HOUR:
        raise _too_large(f"more than {MAX_COVERAGE_ITEMS}")
    hours = [
        (a, b)
        for a, b in local_hours(zone, hour_start(zone, low), end)
        if since <= a < until and b <= now
    ]
    return location_id, zone, known, hours


def coverage_items(
    conn: Connection, zones: Mapping[int, tzinfo], params: Params, now: int
) -> list[items.Coverage]:
    """Default window: the 24 hours before `until` (default now)."""
    until = params.until if params.until is not None else now
    since = params.since if params.since is not None else until - _DAY_MS
    if since >= until or since >= now:
        return []
    plans: list[_Plan] = []
    size = 0
    for location_id, zone in zones.items():
        plan = _plan(conn, location_id, zone, params, (since, until, now))
        if plan is None:
            continue
        plans.append(plan)
        size += sum(1 for first in plan[2].values() for _a, b in plan[3] if b > first)
    limit = max(MAX_COVERAGE_ITEMS, _DAY_HOURS * sum(len(plan[2]) for plan in plans))
    if size > limit:
        raise _too_large(str(size), limit)
    found: list[items.Coverage] = []
    for location_id, zone, known, hours in plans:
        if not hours:
            continue
        # Every channel of the location unless some were asked for: no list of them.
        asked = None if params.channel_ids is None else list(known)
        stored = coverage.channel_coverage(conn, location_id, asked, hours[0][0], hours[-1][1])
        for channel in known:
            entry = stored.get(channel)
            if entry is None:  # no mark in the range's quarters
                continue
            for start, end in hours:
                if not entry.known(end):
                    continue
                seconds = entry.seconds(start, end)
                found.append(
                    items.Coverage(
                        location_id=location_id,
                        channel_id=channel,
                        hour=format_local_seconds(start, zone),
                        covered_seconds=seconds,
                        state=cast(_State, state_of(seconds, (end - start) // 1000)),
                    )
                )
    return found

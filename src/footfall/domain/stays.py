"""Zone presence (SPEC §5.2): the stays of objects in one Zone trigger, as pure functions.

A stay is the presence of one object in the zone, from its RegionJoin to its RegionLeave.
Invariants `replay` keeps:
- Events are processed sorted by `(time_ms, record_id)`. record_id is the agent's own id,
  so the stays never depend on the order the events arrived in. (Fully equal keys are
  further ordered by object and kind, only so that even duplicated ids give one answer.)
- An object has at most one open stay. A second RegionJoin while it is open is ignored; a
  RegionLeave with no open stay is ignored.
- A stay open for `MAX_STAY_MS` is closed at start + 4 h: it counts as presence up to then
  but is not completed. The close is lazy (decided by the object's next event, or by the
  horizon), with these boundaries:
    leave at t <= start + 4 h     completes the stay at t (exactly 4 h still completes);
    leave at t >  start + 4 h     is a leave with no open stay (the stay timed out);
    join  at t >= start + 4 h     times the stay out at start + 4 h, then opens one at t.
- Presence is the half-open interval [start_ms, end_ms): a zero-length stay (join and
  leave at the same millisecond, join first by record_id) is completed and present 0 ms.
- Replay is causal: the state before the first event at time >= T depends only on the
  events before T. `open_at(stays, T)` is that state (object -> start of its open stay),
  so a replay started from it with the events at >= T gives the same stays from T on as
  a replay of the whole history; that is what makes hourly computation incremental.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Final, NamedTuple

__all__ = ["MAX_STAY_MS", "Stay", "ZoneEvent", "open_at", "replay"]

MAX_STAY_MS: Final = 4 * 3600 * 1000


class ZoneEvent(NamedTuple):
    """A join or leave. A tuple whose field order is the replay order (time, then the
    agent's record_id), so sorting needs no key function: 100k events are built and sorted
    several times faster than as dataclasses (the histogram job reads that many)."""

    time_ms: int
    record_id: int
    object_id: int
    is_join: bool  # RegionJoin True, RegionLeave False


class Stay(NamedTuple):
    object_id: int
    start_ms: int
    # The leave time; or start+4h when timed out; None when still open at the horizon.
    end_ms: int | None
    completed: bool  # True only when ended by a RegionLeave


_STAY_ORDER = attrgetter("start_ms", "object_id")


def replay(
    events: Iterable[ZoneEvent],
    *,
    open_at_start: Mapping[int, int] | None = None,
    horizon_ms: int | None = None,
) -> list[Stay]:
    """All stays, sorted by (start_ms, object_id). `open_at_start` maps object_id -> start of a
    stay already open before the first event. At `horizon_ms` (if given) open stays whose
    start+4h <= horizon_ms are closed as timed out (end = start+4h, completed False); the
    others keep end_ms None. Without a horizon, open stays keep end_ms None.

    Every event given is processed, including any at or after `horizon_ms` (the live
    occupancy counts a join slightly ahead of the clock); the horizon only decides which
    stays left open are known to have timed out. Stays with equal (start_ms, object_id)
    (a zero-length stay followed by a new join at the same millisecond) keep the order in
    which they ended.
    """
    inside: dict[int, int] = dict(open_at_start or {})
    stays: list[Stay] = []
    # tuple.__new__ skips the named tuple's Python-level constructor: a third of the cost
    # when the histogram job replays 100k events.
    new = tuple.__new__
    # Unpacking (not attribute access) also accepts plain (time, record, object, join)
    # tuples straight from a database cursor.
    for time, _record, obj, is_join in sorted(events):
        start = inside.get(obj)
        if start is None:
            if is_join:
                inside[obj] = time
            continue  # a leave with no open join
        deadline = start + MAX_STAY_MS
        if is_join:
            if time >= deadline:
                stays.append(new(Stay, (obj, start, deadline, False)))
                inside[obj] = time
            # else: a repeated join of an object already inside changes nothing
            continue
        del inside[obj]
        if time <= deadline:
            stays.append(new(Stay, (obj, start, time, True)))
        else:  # the stay had timed out; this leave has no open join
            stays.append(new(Stay, (obj, start, deadline, False)))
    for obj, start in inside.items():
        deadline = start + MAX_STAY_MS
        if horizon_ms is not None and deadline <= horizon_ms:
            stays.append(new(Stay, (obj, start, deadline, False)))
        else:
            stays.append(new(Stay, (obj, start, None, False)))
    # Stable sort: stays with equal keys stay in the order they ended (chronological).
    stays.sort(key=_STAY_ORDER)
    return stays


def open_at(stays: Iterable[Stay], instant_ms: int) -> dict[int, int]:
    """object_id -> start_ms of stays open at `instant_ms` in the snapshot sense above
    (start < instant and (end is None or end >= instant)).

    `>=`, not `>`: a stay that ends exactly at the instant (by a leave at it, or timing out
    at it) is still held by a replay that has not yet processed the events at that
    instant, so a leave there can still complete it and a join there still times it out.
    Stays should come from `replay` with a horizon at or after `instant_ms`, so that end
    None means "still open", not "timed out but not yet closed".
    """
    return {
        stay.object_id: stay.start_ms
        for stay in stays
        if stay.start_ms < instant_ms and (stay.end_ms is None or stay.end_ms >= instant_ms)
    }

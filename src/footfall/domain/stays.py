"""Zone presence (docs/api.md, Stays): the stays of objects in one Zone trigger, as
pure functions. This module is the one definition of the stay rule: histograms, zone
counters, queues and report feeds all replay stays with it.

A stay is the presence of one object in the zone, from its RegionJoin to its RegionLeave.
Its *signs of presence* are its RegionJoin and every later `Loitering` event of the same
object in the same zone while the stay is open (a source that still sees a parked car
sends one at least every hour). Invariants `replay` keeps:
- Events are processed sorted by `(time_ms, record_id)`. record_id is the agent's own id,
  so the stays never depend on the order the events arrived in. (Fully equal keys are
  further ordered by object and kind, only so that even duplicated ids give one answer.)
- An object has at most one open stay. A second RegionJoin while it is open is ignored; a
  RegionLeave or Loitering with no open stay is ignored.
- A stay with no sign of presence for `MAX_STAY_MS` is closed at last sign + 4 h: it
  counts as presence up to then but is not completed. The close is lazy (decided by the
  object's next event, or by the horizon), with these boundaries (close = last sign + 4 h):
    leave    at t <= close   completes the stay at t (exactly at the close still completes);
    leave    at t >  close   is a leave with no open stay (the stay timed out);
    Loitering at t <= close  is a sign of presence: the close moves to t + 4 h;
    Loitering at t >  close  times the stay out at the close, and opens nothing;
    join     at t >= close   times the stay out at the close, then opens one at t.
- Presence is the half-open interval [start_ms, end_ms): a zero-length stay (join and
  leave at the same millisecond, join first by record_id) is completed and present 0 ms.
- Replay is causal: the state before the first event at time >= T depends only on the
  events before T. `open_at(stays, T)` is that state (object -> (start, last sign before
  T) of its open stay), so a replay started from it with the events at >= T gives the
  same stays from T on as a replay of the whole history; that is what makes hourly
  computation incremental. `snapshot_json`/`parse_snapshot` store that state.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Final, NamedTuple

__all__ = [
    "JOIN",
    "KIND_OF_TYPE",
    "LEAVE",
    "LOITER",
    "MAX_STAY_MS",
    "OpenStay",
    "Stay",
    "ZoneEvent",
    "last_sign_before",
    "open_at",
    "parse_snapshot",
    "replay",
    "snapshot_json",
]

MAX_STAY_MS: Final = 4 * 3600 * 1000
# ZoneEvent.kind. Plain ints (not an Enum) so that rows straight from a database cursor
# are events too; RegionLeave 0 and RegionJoin 1 also read as the booleans they once were.
LEAVE: Final = 0
JOIN: Final = 1
LOITER: Final = 2
# The event types that make or keep stays, and the kind each becomes.
KIND_OF_TYPE: Final = {"RegionLeave": LEAVE, "RegionJoin": JOIN, "Loitering": LOITER}

# (start_ms, last sign of presence before the instant of the snapshot)
OpenStay = tuple[int, int]


class ZoneEvent(NamedTuple):
    """A join, leave or Loitering. A tuple whose field order is the replay order (time,
    then the agent's record_id), so sorting needs no key function: 100k events are built
    and sorted several times faster than as dataclasses (the histogram job reads that
    many)."""

    time_ms: int
    record_id: int
    object_id: int
    kind: int  # JOIN, LEAVE or LOITER


_NO_SIGNS: Final[tuple[int, ...]] = ()


class Stay(NamedTuple):
    object_id: int
    start_ms: int
    # The leave time; or last sign + 4h when timed out; None when still open at the horizon.
    end_ms: int | None
    completed: bool  # True only when ended by a RegionLeave
    # The Loitering times after the start that moved its close, ascending (the seeded
    # last sign first, for a stay open before the replay began).
    signs: tuple[int, ...] = _NO_SIGNS

    @property
    def last_sign_ms(self) -> int:
        return self.signs[-1] if self.signs else self.start_ms


_STAY_ORDER = attrgetter("start_ms", "object_id")


def replay(
    events: Iterable[ZoneEvent],
    *,
    open_at_start: Mapping[int, OpenStay] | None = None,
    horizon_ms: int | None = None,
) -> list[Stay]:
    """All stays, sorted by (start_ms, object_id); `open_at_start`: object_id -> (start,
    last sign) of stays open before the first event. Every event is processed, even at or
    after `horizon_ms` (live occupancy counts a join slightly ahead of the clock); the
    horizon only closes, as timed out, the stays left open whose last sign + 4 h is at or
    before it (without one, open stays keep end_ms None). Equal (start_ms, object_id)
    keep the order in which they ended."""
    inside, signs = _seeded(open_at_start or {})
    stays: list[Stay] = []
    # tuple.__new__ skips the named tuple's Python-level constructor: a third of the cost
    # when the histogram job replays 100k events.
    new = tuple.__new__

    def close(obj: int, start: int, end: int, completed: bool) -> None:
        extra = signs.pop(obj, None)
        stays.append(new(Stay, (obj, start, end, completed, tuple(extra) if extra else ())))

    # Unpacking (not attribute access) also accepts plain (time, record, object, kind)
    # tuples straight from a database cursor.
    for time, _record, obj, kind in sorted(events):
        start = inside.get(obj)
        if start is None:
            if kind == JOIN:
                inside[obj] = time
            continue  # a leave or Loitering with no open join
        extra = signs.get(obj)
        last = extra[-1] if extra else start
        deadline = last + MAX_STAY_MS
        if kind == LOITER:
            if time > deadline:  # the stay had timed out; this sign opens nothing
                del inside[obj]
                close(obj, start, deadline, False)
            elif time > last:
                if extra:
                    extra.append(time)
                else:
                    signs[obj] = [time]
            continue
        if kind == JOIN:
            if time >= deadline:
                close(obj, start, deadline, False)
                inside[obj] = time
            # else: a repeated join of an object already inside changes nothing
            continue
        del inside[obj]
        if time <= deadline:
            close(obj, start, time, True)
        else:  # the stay had timed out; this leave has no open join
            close(obj, start, deadline, False)
    stays.extend(_left_open(inside, signs, horizon_ms))
    # Stable sort: stays with equal keys stay in the order they ended (chronological).
    stays.sort(key=_STAY_ORDER)
    return stays


def _seeded(
    open_at_start: Mapping[int, OpenStay],
) -> tuple[dict[int, int], dict[int, list[int]]]:
    """(object -> start of its open stay, object -> signs after the start) of the stays
    open before the first event. Signs are kept only for stays that have some: most have
    none, and the histogram job's hot loop then does one dictionary look-up, not a list."""
    inside: dict[int, int] = {}
    signs: dict[int, list[int]] = {}
    for obj, (began, last) in open_at_start.items():
        inside[obj] = began
        if last != began:
            signs[obj] = [last]
    return inside, signs


def _left_open(
    inside: Mapping[int, int], signs: Mapping[int, list[int]], horizon_ms: int | None
) -> list[Stay]:
    """The stays still open after the last event: closed (not completed) when their last
    sign + 4 h is at or before the horizon, else open (end None)."""
    out: list[Stay] = []
    for obj, start in inside.items():
        extra = signs.get(obj)
        deadline = (extra[-1] if extra else start) + MAX_STAY_MS
        end = deadline if horizon_ms is not None and deadline <= horizon_ms else None
        out.append(Stay(obj, start, end, False, tuple(extra) if extra else ()))
    return out


def last_sign_before(stay: Stay, instant_ms: int) -> int:
    """The stay's last sign of presence strictly before `instant_ms` (its start at least)."""
    signs = stay.signs
    if not signs:
        return stay.start_ms
    index = bisect_left(signs, instant_ms)
    return signs[index - 1] if index else stay.start_ms


def open_at(stays: Iterable[Stay], instant_ms: int) -> dict[int, OpenStay]:
    """object_id -> (start_ms, last sign before the instant) of stays open at `instant_ms`
    in the snapshot sense above (start < instant and (end is None or end >= instant)).

    `>=`, not `>`: a stay that ends exactly at the instant (by a leave at it, or timing out
    at it) is still held by a replay that has not yet processed the events at that
    instant, so a leave or Loitering there can still extend or complete it and a join
    there still times it out. Stays should come from `replay` with a horizon at or after
    `instant_ms`, so that end None means "still open", not "timed out but not yet closed".
    """
    return {
        stay.object_id: (stay.start_ms, last_sign_before(stay, instant_ms))
        for stay in stays
        if stay.start_ms < instant_ms and (stay.end_ms is None or stay.end_ms >= instant_ms)
    }


def snapshot_json(state: Mapping[int, OpenStay]) -> str:
    """The stored form of a replay state: {"object": start} for a stay with no sign since
    its join (what every snapshot looked like before Loitering counted, so rows computed
    before then read the same), else {"object": [start, last sign]}; keys sorted."""
    if not state:  # most hours of most zones end empty: the job writes one per hour
        return "{}"
    return json.dumps(
        {
            str(obj): start if last == start else [start, last]
            for obj, (start, last) in sorted(state.items())
        },
        separators=(",", ":"),
    )


def parse_snapshot(text: str) -> dict[int, OpenStay]:
    """The replay state `snapshot_json` stored (either form of each entry)."""
    state: dict[int, OpenStay] = {}
    for key, value in json.loads(text).items():
        if isinstance(value, list):
            state[int(key)] = (int(value[0]), int(value[1]))
        else:
            state[int(key)] = (int(value), int(value))
    return state

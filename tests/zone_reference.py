"""A brute-force reference for zone presence and hourly histograms (docs/api.md, Stays),
for tests.

Deliberately independent of `footfall.domain.stays` and `footfall.domain.histogram`, and
written the slow, obvious way so that it is easy to check against the rules by reading:
- presence is found by replaying, for every instant asked about, all the events up to it
  with a plain dict (no incremental state, no snapshots, no horizon);
- an object's stay is closed 4 h after its last sign of presence: its join, or a later
  Loitering of it while the stay is open (docs/api.md, Stays);
- an hour's occupancy is cut at every instant where presence can change (an event time or
  an event time + 4 h) and each piece is measured with a fresh replay;
- local hour boundaries are found by looking at the wall clock at every UTC minute.

Events are any objects with `time_ms`, `record_id`, `object_id` and `kind` (0 leave,
1 join, 2 Loitering; for instance `footfall.domain.stays.ZoneEvent`). Times are epoch
milliseconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

__all__ = [
    "REF_JOIN",
    "REF_LEAVE",
    "REF_LOITER",
    "REF_MAX_STAY_MS",
    "EventLike",
    "RefEvent",
    "reference_completed_stays",
    "reference_counting_data",
    "reference_events",
    "reference_histograms",
    "reference_hour_start",
    "reference_inside",
    "reference_local_hours",
    "reference_open_at",
]

REF_MAX_STAY_MS = 4 * 60 * 60 * 1000
REF_LEAVE, REF_JOIN, REF_LOITER = 0, 1, 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE_MS = 60 * 1000


class EventLike(Protocol):
    @property
    def time_ms(self) -> int: ...
    @property
    def record_id(self) -> int: ...
    @property
    def object_id(self) -> int: ...
    @property
    def kind(self) -> int: ...


@dataclass(frozen=True)
class RefEvent:
    time_ms: int
    record_id: int
    object_id: int
    kind: int


_KINDS = {"RegionLeave": REF_LEAVE, "RegionJoin": REF_JOIN, "Loitering": REF_LOITER}


def reference_events(
    sent: Iterable[Mapping[str, object]], trigger_id: str | None = None
) -> list[RefEvent]:
    """The joins, leaves and Loitering among events as sent to the ingest API (of one
    trigger when given); every other event type plays no part in stays."""
    return [
        RefEvent(
            round(datetime.fromisoformat(str(e["event_time"])).timestamp() * 1000),
            int(str(e["record_id"])),
            int(str(e["object_id"])),
            _KINDS[str(e["event_type"])],
        )
        for e in sent
        if e["event_type"] in _KINDS and (trigger_id is None or e["trigger_id"] == trigger_id)
    ]


Closed = tuple[int, int, int, bool]  # (object_id, start, end, completed)
Open = tuple[int, int]  # (join time, last sign of presence)


def _simulate(events: Iterable[EventLike]) -> tuple[list[Closed], dict[int, Open]]:
    """Every event in (time, record_id) order, one at a time.

    Returns the stays that were closed (by a leave, or by the 4-hour rule when the object's
    next event came after it) and the dict object_id -> (join time, last sign) of the ones
    still open. The still-open ones may already be past their 4 hours: callers look at that
    themselves.
    """
    ordered = sorted(events, key=lambda e: (e.time_ms, e.record_id, e.object_id, e.kind))
    inside: dict[int, Open] = {}
    closed: list[Closed] = []
    for event in ordered:
        now, who = event.time_ms, event.object_id
        # First: has this object's stay already run out, 4 h after its last sign? A leave
        # or Loitering exactly then still counts; a join exactly then starts over.
        if who in inside:
            joined, last = inside[who]
            limit = last + REF_MAX_STAY_MS
            if now > limit or (event.kind == REF_JOIN and now == limit):
                closed.append((who, joined, limit, False))
                del inside[who]
        # Then: apply the event to what is left.
        if event.kind == REF_JOIN:
            if who not in inside:
                inside[who] = (now, now)
        elif who not in inside:
            continue  # a leave or a Loitering of an object not inside: nothing
        elif event.kind == REF_LOITER:
            inside[who] = (inside[who][0], now)
        else:
            closed.append((who, inside[who][0], now, True))
            del inside[who]
    return closed, inside


def reference_inside(events: Iterable[EventLike], at_ms: int) -> set[int]:
    """The objects in the zone at the instant `at_ms`: presence is [join, leave) (or
    [join, last sign + 4 h)), decided by the events at times <= at_ms."""
    _, still_open = _simulate(e for e in events if e.time_ms <= at_ms)
    return {who for who, (_, last) in still_open.items() if at_ms < last + REF_MAX_STAY_MS}


def reference_open_at(events: Iterable[EventLike], instant_ms: int) -> dict[int, Open]:
    """object_id -> (join time, last sign) of the stays a replay holds just before
    processing the events at `instant_ms`: the events before it replayed, minus stays whose
    4 h after the last sign ran out strictly before it (one running out exactly at it is
    still held)."""
    _, still_open = _simulate(e for e in events if e.time_ms < instant_ms)
    return {
        who: (joined, last)
        for who, (joined, last) in still_open.items()
        if last + REF_MAX_STAY_MS >= instant_ms
    }


def reference_completed_stays(events: Iterable[EventLike]) -> list[tuple[int, int, int]]:
    """(object_id, join, leave) of every stay ended by a leave, sorted."""
    closed, _ = _simulate(events)
    return sorted((who, start, end) for who, start, end, completed in closed if completed)


def _boundaries(zone: tzinfo, start_ms: int, end_ms: int) -> list[int]:
    """Every instant in [start_ms, end_ms] whose local clock reads HH:00:00, found by
    looking at each whole UTC minute: where the local clock reads HH:00:SS there (an
    offset with seconds, as local mean time has), the hour began SS seconds earlier."""
    found: list[int] = []
    instant = start_ms - start_ms % _MINUTE_MS
    while instant <= end_ms + _MINUTE_MS:
        local = (_EPOCH + timedelta(milliseconds=instant)).astimezone(zone)
        boundary = instant - local.second * 1000
        if local.minute == 0 and start_ms <= boundary <= end_ms and boundary not in found:
            found.append(boundary)
        instant += _MINUTE_MS
    return found


def reference_hour_start(zone: tzinfo, instant_ms: int) -> int:
    """The last local hour boundary <= instant_ms (no local hour lasts 4 hours)."""
    return max(b for b in _boundaries(zone, instant_ms - 4 * 3_600_000, instant_ms))


def reference_local_hours(zone: tzinfo, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """The local hours (boundary, next boundary) that overlap [start_ms, end_ms)."""
    if end_ms <= start_ms:
        return []
    marks = _boundaries(zone, start_ms - 4 * 3_600_000, end_ms + 4 * 3_600_000)
    return [(a, b) for a, b in itertools.pairwise(marks) if b > start_ms and a < end_ms]


def _hour(events: list[EventLike], start: int, end: int) -> tuple[list[int], list[int]]:
    cuts = {start, end}
    for event in events:
        for instant in (event.time_ms, event.time_ms + REF_MAX_STAY_MS):
            if start < instant < end:
                cuts.add(instant)
    ordered = sorted(cuts)
    by_level: dict[int, int] = {}
    for piece_start, piece_end in itertools.pairwise(ordered):
        level = len(reference_inside(events, piece_start))
        by_level[level] = by_level.get(level, 0) + piece_end - piece_start
    counting = [by_level.get(level, 0) for level in range(max(by_level) + 1)]
    while len(counting) > 1 and counting[-1] == 0:
        counting.pop()
    by_minutes: dict[int, int] = {}
    for _, joined, left in reference_completed_stays(events):
        if start <= left < end:
            minutes = (left - joined) // _MINUTE_MS
            by_minutes[minutes] = by_minutes.get(minutes, 0) + 1
    lifetime = [by_minutes.get(j, 0) for j in range(max(by_minutes, default=-1) + 1)]
    return counting, lifetime


def reference_histograms(
    events: Iterable[EventLike],
    zone_or_hours: tzinfo | Sequence[tuple[int, int]],
    now_ms: int,
) -> dict[int, tuple[list[int], list[int]]]:
    """hour start -> (counting_ms, lifetime) of every complete hour (end <= now_ms).

    With a zone, the hours are the local hours from the one holding the earliest join or
    leave (docs/api.md, Histograms: a Loitering alone starts no hours) to the last one
    ending at or before now_ms (what the histogram job computes); with a list
    of (start, end) hours, those of them that end at or before now_ms. `counting_ms[k]` is
    the ms of the hour with exactly k objects inside (trailing zero levels trimmed, at least
    one kept); `lifetime[j]` the completed stays leaving in the hour that lasted j whole
    minutes (trailing zeros trimmed).
    """
    listed = list(events)
    if isinstance(zone_or_hours, tzinfo):
        starts = [e.time_ms for e in listed if e.kind != REF_LOITER]
        if not starts:
            return {}
        earliest = min(starts)
        hours = reference_local_hours(zone_or_hours, earliest, now_ms)
    else:
        hours = list(zone_or_hours)
    return {start: _hour(listed, start, end) for start, end in hours if end <= now_ms}


def reference_counting_data(counting_ms: Sequence[int]) -> list[float]:
    """Seconds with one decimal, rounded half up (as the API renders counting_data)."""
    tenth = Decimal("0.1")
    return [
        float((Decimal(ms) / 1000).quantize(tenth, rounding=ROUND_HALF_UP)) for ms in counting_ms
    ]

"""Live metrics (SPEC §5.3, §5.4) as pure functions of the events and the clock.

Every value here is computed from the set of stored events, never from the order they
arrived in, so arrival order cannot change it:
- a line counter's value is `max(0, enters - exits)` over the crossings after the last
  daily reset (one clamp at the end); a crossing exactly at a reset belongs to the
  period before it;
- a zone counter's value, and a queue's length, is the number of objects in the zone
  (the stays of SPEC §5.2 still open, 4-hour close included);
- a queue's wait time is the mean stay, in seconds with one decimal, of the objects that
  left in the last 15 minutes.
`changed_at` is the instant of the last change: the time of the event that made it, or of
the reset, 4-hour close or 15-minute expiry that did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Final

from footfall.domain.stays import MAX_STAY_MS, Stay
from footfall.domain.times import from_ms, to_ms

__all__ = [
    "WAIT_WINDOW_MS",
    "ZoneMetrics",
    "line_counter",
    "reset_period",
    "zone_metrics",
]

WAIT_WINDOW_MS: Final = 15 * 60 * 1000


def reset_period(now: int, zone: tzinfo, reset_minute: int) -> tuple[int, int]:
    """The period (start, end] holding `now`, between two daily local resets."""
    at = time(reset_minute // 60, reset_minute % 60)
    today = from_ms(now, zone).date()

    def reset_on(day: int) -> int:
        return to_ms(datetime.combine(today + timedelta(days=day), at, tzinfo=zone))

    if reset_on(0) < now:
        return reset_on(0), reset_on(1)
    return reset_on(-1), reset_on(0)


def line_counter(crossings: Iterable[tuple[int, bool]], period_start: int) -> tuple[int, int]:
    """(value, changed_at) from (event_time, is_enter) crossings of one period."""
    by_time: dict[int, int] = {}
    for when, is_enter in crossings:
        by_time[when] = by_time.get(when, 0) + (1 if is_enter else -1)
    balance = value = 0
    changed_at = period_start
    for when in sorted(by_time):
        balance += by_time[when]
        clamped = max(0, balance)
        if clamped != value:
            value, changed_at = clamped, when
    return value, changed_at


@dataclass(frozen=True)
class ZoneMetrics:
    inside: int
    wait_time: float
    changed_at: int
    wait_changed_at: int


def zone_metrics(stays: Sequence[Stay], now: int, since: int) -> ZoneMetrics:
    """Objects inside and the 15-minute mean wait, from stays replayed up to `now`.

    Stays still open (end None) are inside even when their join is a few minutes ahead of
    the clock: the value includes every event as soon as it was acknowledged.
    """
    inside = 0
    changed_at = since
    waits: list[int] = []
    wait_changed_at = since
    for stay in stays:
        changed_at = max(changed_at, stay.start_ms)
        if stay.end_ms is None:
            inside += 1
            continue
        if stay.completed or stay.end_ms <= now:
            changed_at = max(changed_at, stay.end_ms)
        if not stay.completed:
            continue
        if stay.end_ms > now - WAIT_WINDOW_MS:
            waits.append(stay.end_ms - stay.start_ms)
            wait_changed_at = max(wait_changed_at, stay.end_ms)
        else:  # it left the window at end + 15 min, changing the mean then
            wait_changed_at = max(wait_changed_at, stay.end_ms, stay.end_ms + WAIT_WINDOW_MS)
    wait = round(sum(waits) / len(waits) / 1000, 1) if waits else 0.0
    return ZoneMetrics(inside, wait, changed_at, max(changed_at, wait_changed_at))


# A zone's state is rebuilt from this far back: long enough for any stay (4 h) and for the
# chains of joins that decide which join opens a stay, in all but pathological data.
LOOKBACK_MS: Final = 24 * 3600 * 1000 + MAX_STAY_MS

"""Live metrics (docs/api.md: Occupancy and Queue items, Stays) as pure functions of the
events and the clock.

Every value here is computed from the set of stored events, never from the order they
arrived in, so arrival order cannot change it:
- a line counter's value is `max(0, enters - exits)` over the crossings after the last
  daily reset (one clamp at the end); a crossing exactly at a reset belongs to the
  period before it;
- a zone counter's value, and a queue's length, is the number of objects in the zone
  (the stays of `domain.stays` still open: closed 4 hours after the last sign of presence);
- a queue's wait time is the mean stay, in seconds with one decimal, of the objects that
  left in the last 15 minutes.
`changed_at` is the instant of the last change: the time of the event that made it, or of
the reset, 4-hour close or 15-minute expiry that did (a Loitering changes no value).

Drift, line counters only, as `line_timeline` replays it:
- a *calibration* (an operator's head count N at instant c) sets the count to N at c:
  crossings at or before c are in the head count, later ones count from N; a daily reset
  after c starts from 0 again, and a calibration exactly at a reset instant belongs to the
  period before it (like a crossing);
- with a *max idle* d, a count that is not 0 and sees no crossing (nor calibration or
  reset) in (t, t + d] goes back to 0 at t + d (a closed shop), hidden deficits (more exits
  than enters) included; a crossing exactly at t + d keeps it. These idle resets are
  derived from the stored crossings, so a crossing that arrives late and falls inside the
  quiet stretch moves the reset, exactly as the arrival-order rule above wants.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Final

from footfall.domain.stays import MAX_STAY_MS, Stay
from footfall.domain.times import from_ms, to_ms

__all__ = [
    "MAX_IDLE_MS",
    "MIN_IDLE_MS",
    "WAIT_WINDOW_MS",
    "IdleReset",
    "LineTimeline",
    "ZoneMetrics",
    "format_duration",
    "line_timeline",
    "parse_duration",
    "reset_period",
    "zone_metrics",
]

WAIT_WINDOW_MS: Final = 15 * 60 * 1000
MIN_IDLE_MS: Final = 60_000
MAX_IDLE_MS: Final = 24 * 3_600_000  # a daily reset comes first anyway
_DURATION = re.compile(r"^(?:(\d{1,3})h)?(?:(\d{1,4})m)?(?:(\d{1,6})s)?$")


def parse_duration(text: str) -> int:
    """Milliseconds of `2h`, `90m`, `1h30m`, `45s`...; ValueError naming the expected form."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r}: expected a duration such as 90m, 2h or 1h30m")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    ms = ((hours * 60 + minutes) * 60 + seconds) * 1000
    if not MIN_IDLE_MS <= ms <= MAX_IDLE_MS:
        raise ValueError(f"{text!r}: expected between 1m and 24h")
    return ms


def format_duration(ms: int) -> str:
    """The shortest `parse_duration` text for whole seconds (`1h30m`, `45s`)."""
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{seconds}s" if seconds or not text else "")


def reset_period(now: int, zone: tzinfo, reset_minute: int) -> tuple[int, int]:
    """The period (start, end] holding `now`, between two daily local resets."""
    at = time(reset_minute // 60, reset_minute % 60)
    today = from_ms(now, zone).date()

    def reset_on(day: int) -> int:
        return to_ms(datetime.combine(today + timedelta(days=day), at, tzinfo=zone))

    if reset_on(0) < now:
        return reset_on(0), reset_on(1)
    return reset_on(-1), reset_on(0)


@dataclass(frozen=True)
class IdleReset:
    at: int
    value_before: int  # the count shown just before (clamped at 0)
    raw_before: int  # enters - exits counted: negative when exits were over-counted


@dataclass(frozen=True)
class LineTimeline:
    """A line counter replayed over (begin, end]."""

    # (instant, count shown) at every change, in replay order (several at one instant:
    # crossings first, then a calibration, then a reset).
    changes: list[tuple[int, int]]
    value: int  # the count at the end
    changed_at: int  # the instant of its last change (`begin` when none)
    idle_resets: list[IdleReset]
    calibrated_at: int | None  # the calibration the count still starts from, if any


def line_timeline(
    moves: Mapping[int, int],
    begin: int,
    end: int,
    *,
    resets: Sequence[int] = (),
    calibrations: Sequence[tuple[int, int]] = (),
    max_idle_ms: int | None = None,
    now: int | None = None,
) -> LineTimeline:
    """Replay a line counter from 0 just after `begin` (a reset) through `end`.

    `moves`: instant -> enters minus exits at it (an instant with crossings that cancel
    is still activity); `resets`: daily reset instants in (begin, end]; `calibrations`:
    (instant, head count); `now`: an idle reset due by then is applied at the end.
    """
    items: list[tuple[int, int, int]] = [(t, 0, d) for t, d in moves.items() if begin < t <= end]
    items += [(t, 1, value) for t, value in calibrations if begin < t <= end]
    items += [(t, 2, 0) for t in resets if begin < t <= end]
    items.sort()
    changes: list[tuple[int, int]] = []
    balance = shown = 0
    changed_at = last = begin
    idle: list[IdleReset] = []
    calibrated_at: int | None = None

    def show(at: int) -> None:
        nonlocal shown, changed_at
        if max(0, balance) != shown:
            shown, changed_at = max(0, balance), at
            changes.append((at, shown))

    def idle_reset(at: int) -> None:
        nonlocal balance, calibrated_at
        idle.append(IdleReset(at, shown, balance))
        balance, calibrated_at = 0, None
        show(at)

    for when, kind, amount in items:
        if max_idle_ms is not None and balance != 0 and when - last > max_idle_ms:
            idle_reset(last + max_idle_ms)
        if kind == 0:
            balance += amount
        else:
            balance = amount
            calibrated_at = when if kind == 1 else None
        show(when)
        last = when
    if (
        max_idle_ms is not None
        and now is not None
        and balance != 0
        and now - last >= max_idle_ms
        and last + max_idle_ms <= end
    ):
        idle_reset(last + max_idle_ms)
    return LineTimeline(changes, shown, changed_at, idle, calibrated_at)


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


# A zone's state is rebuilt from this far back when the histogram job has no exact
# snapshot there: long enough for a stay with no Loitering (4 h) and for the chains of
# joins that decide which join opens a stay, in all but pathological data. With a
# snapshot, stays that Loitering keeps open for longer are seeded from it.
LOOKBACK_MS: Final = 24 * 3600 * 1000 + MAX_STAY_MS

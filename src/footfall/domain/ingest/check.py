"""The rules of an events batch that need the location's triggers and the clock (docs/api.md,
The ingest API): no event more than 10 minutes ahead of the clock, none older than the
retention period, numbers within signed 64 bits, attributes as `attributes` checks them.

Invariant: rows come back only for a batch without a single problem, in batch order. A
clean batch is checked in a few passes that run mostly in C (`_valid_rows`); any other is
checked event by event (`check_each`), which names every problem (at most MAX_PROBLEMS)
with its index and field. Both apply exactly the same rules (tests/unit/
test_ingest_fast_paths.py compares them). Nothing here touches the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Final, NamedTuple, cast

from footfall.domain.ingest.attributes import (
    ROW_ATTRIBUTES,
    Attributes,
    attribute_problems,
    attributes_of,
)
from footfall.domain.ingest.batch import (
    FUTURE_TOLERANCE_MS,
    INT64_MAX,
    INT64_MIN,
    MS_PER_DAY,
    Collector,
    EventIn,
    EventRow,
    Problem,
    TriggerInfo,
    check_batch_size,
)
from footfall.domain.times import InstantError, parse_instant, parse_instants

__all__ = ["BatchSummary", "CheckedRows", "check_batch", "check_each", "check_events"]

_INT_COLUMNS: Final = (itemgetter(1), itemgetter(5), itemgetter(10))
_INT_FIELDS: Final = ("record_id", "object_id", "snapshot_id")


@dataclass(frozen=True)
class BatchSummary:
    """What the check of a clean batch learnt of all its rows at once: how many rows carry
    each combination of attributes, and the earliest and latest event times. The writer
    derives the batch's rollups from it instead of passing over every row again."""

    attributes: Counter[Attributes]
    first_ms: int
    last_ms: int


class CheckedRows(NamedTuple):
    rows: list[EventRow]
    problems: list[Problem]
    # For a batch checked in the fast path (no problem): a summary of exactly `rows`.
    summary: BatchSummary | None


def check_events(
    location_id: int,
    events: list[EventIn | None],
    triggers: Mapping[str, TriggerInfo],
    now_ms: int,
    problems: list[Problem] | None = None,
    *,
    retention_days: float | None = None,
) -> tuple[list[EventRow], list[Problem]]:
    """Apply the rules of docs/api.md's ingest API that need the triggers and the clock.

    Returns the rows to store (in batch order) and every problem found, including any
    passed in from decoding. The rows are meaningful only when there are no problems.
    With `retention_days`, an event older than the retention period is a problem: it
    would be purged at once, and a copy resent after the purge must never count twice.
    """
    checked = check_batch(
        location_id, events, triggers, now_ms, problems, retention_days=retention_days
    )
    return checked.rows, checked.problems


def check_batch(
    location_id: int,
    events: list[EventIn | None],
    triggers: Mapping[str, TriggerInfo],
    now_ms: int,
    problems: list[Problem] | None = None,
    *,
    retention_days: float | None = None,
) -> CheckedRows:
    """`check_events`, with the summary of a batch that had no problem."""
    check_batch_size(len(events))
    if not problems and None not in events:
        complete = cast(list[EventIn], events)  # no None in it: checked just above
        valid = _valid_rows(location_id, complete, triggers, now_ms, retention_days)
        if valid is not None:
            return CheckedRows(valid[0], [], valid[1])
    rows, found = check_each(location_id, events, triggers, now_ms, problems, retention_days)
    return CheckedRows(rows, found, None)


def _valid_rows(
    location_id: int,
    events: list[EventIn],
    triggers: Mapping[str, TriggerInfo],
    now_ms: int,
    retention_days: float | None,
) -> tuple[list[EventRow], BatchSummary | None] | None:
    """The rows of a batch without a single problem and their summary (None for an
    empty batch), or None when it may have a problem (then `check_each` finds and names
    every problem, event by event).

    The same rules as `check_each`, in a few passes that run mostly in C: parse every
    time, bound them, build the rows, then check each distinct combination of attributes
    once (a batch repeats a handful of them). Twice as fast for a 1,000-event batch."""
    times = parse_instants([e.event_time for e in events])
    if not times:
        return ([], None) if times is not None else None
    first, last = min(times), max(times)
    if last > now_ms + FUTURE_TOLERANCE_MS:
        return None
    if retention_days is not None and first < _oldest(now_ms, retention_days):
        return None
    # Written out rather than a call of `_row` per event: a third cheaper.
    rows: list[EventRow] = [
        (location_id, e.record_id, e.event_type, e.trigger_id, e.channel_id, e.object_id,
         e.origin, e.suborigin, e.age_range, e.gender, e.snapshot_id, when)
        for e, when in zip(events, times, strict=True)
    ]  # fmt: skip
    for field in _INT_COLUMNS:  # record_id, object_id, snapshot_id
        values = list(map(field, rows))
        if min(values) < INT64_MIN or max(values) > INT64_MAX:
            return None
    # Counted, not just collected: the writer's rollups come from these counts.
    combinations = Counter(map(ROW_ATTRIBUTES, rows))
    scratch = Collector([])
    for attributes in combinations:
        if attribute_problems(0, attributes, triggers, scratch):
            return None
    return rows, BatchSummary(combinations, first, last)


def _row(location_id: int, e: EventIn, when: int) -> EventRow:
    return (
        location_id,
        e.record_id,
        e.event_type,
        e.trigger_id,
        e.channel_id,
        e.object_id,
        e.origin,
        e.suborigin,
        e.age_range,
        e.gender,
        e.snapshot_id,
        when,
    )


def _oldest(now_ms: int, retention_days: float) -> int:
    """The earliest event time accepted: older ones would be purged at once."""
    return now_ms - int(retention_days * MS_PER_DAY)


def check_each(
    location_id: int,
    events: list[EventIn | None],
    triggers: Mapping[str, TriggerInfo],
    now_ms: int,
    problems: list[Problem] | None,
    retention_days: float | None,
) -> tuple[list[EventRow], list[Problem]]:
    """`check_events` event by event, naming every problem (at most MAX_PROBLEMS)."""
    out = Collector(list(problems or []))
    rows: list[EventRow] = []
    window = _Window(now_ms, retention_days)
    # A batch repeats a handful of (trigger, type, origin, ...) combinations thousands of
    # times: check each combination once, then only the per-event numbers and time.
    valid_attributes: set[Attributes] = set()
    for index, e in enumerate(events):
        if e is None:  # its structural problems are already listed
            continue
        attributes = attributes_of(e)
        bad = False
        if attributes not in valid_attributes:
            if attribute_problems(index, attributes, triggers, out):
                bad = True
            else:
                valid_attributes.add(attributes)
        bad = _number_problems(index, e, out) or bad
        when = window.time_of(index, e.event_time, out)
        if bad or when is None:
            if out.full:
                break
        elif not out.problems:
            rows.append(_row(location_id, e, when))
    return rows, out.problems


def _number_problems(index: int, e: EventIn, out: Collector) -> bool:
    """Name each number outside the signed 64-bit range; True when there is one."""
    if (
        INT64_MIN <= e.record_id <= INT64_MAX
        and INT64_MIN <= e.object_id <= INT64_MAX
        and INT64_MIN <= e.snapshot_id <= INT64_MAX
    ):
        return False
    for name in _INT_FIELDS:
        number = getattr(e, name)
        if not INT64_MIN <= number <= INT64_MAX:
            out.add(index, name, f"{number} is outside the signed 64-bit range")
    return True


class _Window:
    """The event times accepted now: no more than 10 minutes ahead of the clock and, with
    a retention period, none older than it."""

    def __init__(self, now_ms: int, retention_days: float | None) -> None:
        self.latest = now_ms + FUTURE_TOLERANCE_MS
        self.oldest = None if retention_days is None else _oldest(now_ms, retention_days)
        self.retention_days = retention_days

    def time_of(self, index: int, text: str, out: Collector) -> int | None:
        """The instant of `text`, or None when it has a problem (named in `out`)."""
        try:
            when = parse_instant(text)
        except InstantError as exc:
            out.add(index, "event_time", str(exc))
            return None
        if when > self.latest:
            out.add(
                index,
                "event_time",
                f"{text!r} is more than 10 minutes in the future: check the agent's clock",
            )
            return None
        if self.oldest is not None and when < self.oldest:
            out.add(
                index,
                "event_time",
                f"{text!r} is older than the retention period "
                f"({self.retention_days:g} days): check the agent's clock",
            )
            return None
        return when

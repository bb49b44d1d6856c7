"""Validation of what an edge agent sends (docs/api.md, The ingest API), as pure functions.

`decode_events` turns a request body into `EventIn` values or a list of every problem
(index, field, message; at most `MAX_PROBLEMS`). The common case, a well-formed batch,
is decoded by msgspec in one C pass; only a batch msgspec rejects is walked field by field
to name every problem, so the error path costs nothing on the happy path.

`check_events` then applies the rules that need the location's triggers and the clock
(no event more than 10 minutes ahead of it, none older than the retention period), and
yields the rows to store: a batch without a problem in a few passes that run mostly in C,
any other event by event, so that every problem is named. Nothing here touches the
database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any, Final, NamedTuple, Protocol, cast

import msgspec

from footfall.domain import vocabulary as v
from footfall.domain.times import InstantError, parse_instant, parse_instants

__all__ = [
    "FUTURE_TOLERANCE_MS",
    "MAX_BATCH_EVENTS",
    "MAX_BODY_BYTES",
    "MAX_PROBLEMS",
    "MS_PER_DAY",
    "TOO_DEEP",
    "BodyError",
    "EventIn",
    "EventRow",
    "Problem",
    "TriggerInfo",
    "check_events",
    "decode_events",
]

MAX_BATCH_EVENTS: Final = 10_000
MAX_BODY_BYTES: Final = 16 * 1024 * 1024
MAX_PROBLEMS: Final = 100
# msgspec stops at a nesting depth of about 1,000 with a RecursionError (no real body
# nests deeper than 3); it is a malformed body like any other.
TOO_DEEP: Final = "the body nests JSON arrays or objects too deeply: send an array of event objects"
FUTURE_TOLERANCE_MS: Final = 10 * 60 * 1000
MS_PER_DAY: Final = 86_400_000
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


class EventIn(msgspec.Struct, gc=False):
    # gc=False: only numbers and strings, so never part of a cycle; a batch of 10,000 is
    # then no work for the garbage collector.
    record_id: int
    event_type: str
    trigger_id: str
    channel_id: str
    event_time: str
    object_id: int = -1
    origin: str = "Unknown"
    suborigin: str = ""
    age_range: str = ""
    gender: str = ""
    snapshot_id: int = 0


class _Attributes(NamedTuple):
    trigger_id: str
    channel_id: str
    event_type: str
    origin: str
    suborigin: str
    gender: str
    age_range: str


class Problem(msgspec.Struct):
    index: int
    field: str
    message: str


class BodyError(ValueError):
    """The body is not a JSON array of objects (a 400), or is too large (a 413)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class TriggerInfo(Protocol):
    @property
    def channel_id(self) -> str: ...
    @property
    def type(self) -> str: ...


# (location_id, record_id, event_type, trigger_id, channel_id, object_id, origin,
#  suborigin, age_range, gender, snapshot_id, event_time_ms)
EventRow = tuple[int, int, str, str, str, int, str, str, str, str, int, int]

_DECODER: Final = msgspec.json.Decoder(list[EventIn])
_GENERIC: Final = msgspec.json.Decoder()

_REQUIRED: Final = ("record_id", "event_type", "trigger_id", "channel_id", "event_time")
_INT_FIELDS: Final = ("record_id", "object_id", "snapshot_id")
_STR_FIELDS: Final = (
    "event_type",
    "trigger_id",
    "channel_id",
    "event_time",
    "origin",
    "suborigin",
    "age_range",
    "gender",
)


@dataclass
class _Collector:
    problems: list[Problem]

    def add(self, index: int, field: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(index, field, message))

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS


def _check_batch_size(count: int) -> None:
    if count > MAX_BATCH_EVENTS:
        raise BodyError(
            f"the batch has {count} events; at most {MAX_BATCH_EVENTS} are accepted per "
            "request: split it",
            too_large=True,
        )


def decode_events(body: bytes) -> tuple[list[EventIn | None], list[Problem]]:
    """Decode a batch. Raises BodyError when it is not a JSON array of objects.

    An item with structural problems (a missing field, a wrong JSON type) is None in the
    list, so indexes stay those of the body.
    """
    try:
        return list(_DECODER.decode(body)), []
    except msgspec.ValidationError:
        pass  # well-formed JSON of the wrong shape: find every problem below
    except msgspec.DecodeError as exc:
        raise BodyError(f"the body is not valid JSON ({exc})") from None
    except RecursionError:
        raise BodyError(TOO_DEEP) from None
    try:
        items = _GENERIC.decode(body)
    except msgspec.DecodeError as exc:  # msgspec may see the wrong shape before bad syntax
        raise BodyError(f"the body is not valid JSON ({exc})") from None
    except RecursionError:
        raise BodyError(TOO_DEEP) from None
    if not isinstance(items, list):
        raise BodyError(f"expected a JSON array of event objects, got a JSON {_json_kind(items)}")
    _check_batch_size(len(items))
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BodyError(
                f"expected a JSON array of event objects; item {index} is a JSON {_json_kind(item)}"
            )
    collector = _Collector([])
    events: list[EventIn | None] = []
    for index, item in enumerate(items):
        if _structural_problems(index, item, collector):
            events.append(None)
        else:
            fields = {k: item[k] for k in EventIn.__struct_fields__ if k in item}
            for name in _INT_FIELDS:  # 37.0 is the integer 37 to JSON (and its schema)
                if type(fields.get(name)) is float:
                    fields[name] = int(fields[name])
            events.append(EventIn(**fields))
    return events, collector.problems


def _integral(value: object) -> bool:
    return type(value) is int or (type(value) is float and value.is_integer())


def _structural_problems(index: int, item: Mapping[str, Any], out: _Collector) -> bool:
    found = False
    for field in _REQUIRED:
        if field not in item:
            out.add(index, field, "required field is missing")
            found = True
    for field in _INT_FIELDS:
        value = item.get(field)
        if field in item and not _integral(value):
            out.add(index, field, f"expected an integer, got {_json_kind(value)} {value!r}")
            found = True
    for field in _STR_FIELDS:
        value = item.get(field)
        if field in item and not isinstance(value, str):
            out.add(index, field, f"expected a string, got {_json_kind(value)} {value!r}")
            found = True
    return found


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# (trigger_id, channel_id, event_type, origin, suborigin, gender, age_range)
Attributes = tuple[str, str, str, str, str, str, str]
# The same fields of an EventRow, in that order.
_ROW_ATTRIBUTES: Final = itemgetter(3, 4, 2, 6, 7, 9, 8)
_INT_COLUMNS: Final = (itemgetter(1), itemgetter(5), itemgetter(10))


def _attribute_problems(
    index: int, attributes: Attributes, triggers: Mapping[str, TriggerInfo], out: _Collector
) -> bool:
    """Check everything but the numbers and the time; True when a problem was found."""
    before = len(out.problems)
    by_type = v.EVENT_TYPES_BY_TRIGGER_TYPE
    e = _Attributes(*attributes)
    trigger = triggers.get(e.trigger_id)
    if trigger is None:
        out.add(
            index,
            "trigger_id",
            f"unknown trigger {e.trigger_id!r}: declare it with PUT /ingest/v1/config",
        )
    else:
        if trigger.channel_id != e.channel_id:
            out.add(
                index,
                "channel_id",
                f"trigger {e.trigger_id!r} belongs to channel {trigger.channel_id!r}, "
                f"not {e.channel_id!r}",
            )
        if e.event_type not in by_type[trigger.type]:
            expected = ", ".join(sorted(by_type[trigger.type]))
            out.add(
                index,
                "event_type",
                f"{e.event_type!r} is not an event of {trigger.type} trigger "
                f"{e.trigger_id!r} (expected one of {expected})",
            )
    if e.origin not in v.ORIGINS:
        out.add(index, "origin", f"{e.origin!r} is not one of {', '.join(v.ORIGINS)}")
    elif e.suborigin not in v.allowed_suborigins(e.origin):
        allowed = ", ".join(repr(s) for s in v.allowed_suborigins(e.origin))
        out.add(
            index,
            "suborigin",
            f"{e.suborigin!r} is not a suborigin of {e.origin} (expected one of {allowed})",
        )
    if e.gender not in v.GENDERS:
        out.add(index, "gender", f"{e.gender!r} is not one of '', 'Male', 'Female'")
    if len(e.age_range) > v.AGE_RANGE_MAX_LEN or v.has_control(e.age_range):
        out.add(
            index,
            "age_range",
            f"expected '' or a range like '26 - 35' of at most {v.AGE_RANGE_MAX_LEN} "
            "printable characters",
        )
    return len(out.problems) > before


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
    _check_batch_size(len(events))
    if not problems and None not in events:
        complete = cast(list[EventIn], events)  # no None in it: checked just above
        rows = _valid_rows(location_id, complete, triggers, now_ms, retention_days)
        if rows is not None:
            return rows, []
    return _check_each(location_id, events, triggers, now_ms, problems, retention_days)


def _valid_rows(
    location_id: int,
    events: list[EventIn],
    triggers: Mapping[str, TriggerInfo],
    now_ms: int,
    retention_days: float | None,
) -> list[EventRow] | None:
    """The rows of a batch without a single problem, or None when it may have one (then
    `_check_each` finds and names every problem, event by event).

    The same rules as `_check_each`, in a few passes that run mostly in C: parse every
    time, bound them, build the rows, then check each distinct combination of attributes
    once (a batch repeats a handful of them). Twice as fast for a 1,000-event batch."""
    times = parse_instants([e.event_time for e in events])
    if times is None:
        return None
    if times and max(times) > now_ms + FUTURE_TOLERANCE_MS:
        return None
    if times and retention_days is not None and min(times) < _oldest(now_ms, retention_days):
        return None
    rows = list(map(partial(_row, location_id), events, times))
    for field in _INT_COLUMNS:  # record_id, object_id, snapshot_id
        values = list(map(field, rows))
        if values and (min(values) < INT64_MIN or max(values) > INT64_MAX):
            return None
    scratch = _Collector([])
    for attributes in set(map(_ROW_ATTRIBUTES, rows)):
        if _attribute_problems(0, attributes, triggers, scratch):
            return None
    return rows


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


def _check_each(
    location_id: int,
    events: list[EventIn | None],
    triggers: Mapping[str, TriggerInfo],
    now_ms: int,
    problems: list[Problem] | None,
    retention_days: float | None,
) -> tuple[list[EventRow], list[Problem]]:
    """`check_events` event by event, naming every problem (at most MAX_PROBLEMS)."""
    out = _Collector(list(problems or []))
    rows: list[EventRow] = []
    latest = now_ms + FUTURE_TOLERANCE_MS
    oldest = None if retention_days is None else _oldest(now_ms, retention_days)
    # A batch repeats a handful of (trigger, type, origin, ...) combinations thousands of
    # times: check each combination once, then only the per-event numbers and time.
    valid_attributes: set[Attributes] = set()
    parse = parse_instant
    for index, e in enumerate(events):
        if e is None:  # its structural problems are already listed
            continue
        attributes = (
            e.trigger_id,
            e.channel_id,
            e.event_type,
            e.origin,
            e.suborigin,
            e.gender,
            e.age_range,
        )
        bad = False
        if attributes not in valid_attributes:
            if _attribute_problems(index, attributes, triggers, out):
                bad = True
            else:
                valid_attributes.add(attributes)
        if not (
            INT64_MIN <= e.record_id <= INT64_MAX
            and INT64_MIN <= e.object_id <= INT64_MAX
            and INT64_MIN <= e.snapshot_id <= INT64_MAX
        ):
            for name in ("record_id", "object_id", "snapshot_id"):
                number = getattr(e, name)
                if not INT64_MIN <= number <= INT64_MAX:
                    out.add(index, name, f"{number} is outside the signed 64-bit range")
            bad = True
        try:
            when = parse(e.event_time)
        except InstantError as exc:
            out.add(index, "event_time", str(exc))
            bad = True
        else:
            if when > latest:
                out.add(
                    index,
                    "event_time",
                    f"{e.event_time!r} is more than 10 minutes in the future: "
                    "check the agent's clock",
                )
                bad = True
            elif oldest is not None and when < oldest:
                out.add(
                    index,
                    "event_time",
                    f"{e.event_time!r} is older than the retention period "
                    f"({retention_days:g} days): check the agent's clock",
                )
                bad = True
        if bad:
            if out.full:
                break
        elif not out.problems:
            rows.append(_row(location_id, e, when))
    return rows, out.problems

"""The rules on an event's attributes: its trigger (declared, of its channel, of a type
that emits its event type), origin and suborigin, gender and age range.

Invariant: an attribute combination is valid or not whatever the event's numbers and
time, so a batch checks each distinct combination once; every problem names its field and
what was expected (docs/api.md, The ingest API).
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Final, NamedTuple

from footfall.domain import vocabulary as v
from footfall.domain.ingest.batch import Collector, EventIn, TriggerInfo

__all__ = ["ROW_ATTRIBUTES", "Attributes", "attribute_problems", "attributes_of"]

# (trigger_id, channel_id, event_type, origin, suborigin, gender, age_range)
Attributes = tuple[str, str, str, str, str, str, str]
# The same fields of an EventRow, in that order.
ROW_ATTRIBUTES: Final = itemgetter(3, 4, 2, 6, 7, 9, 8)


class _Attributes(NamedTuple):
    trigger_id: str
    channel_id: str
    event_type: str
    origin: str
    suborigin: str
    gender: str
    age_range: str


def attributes_of(e: EventIn) -> Attributes:
    return (e.trigger_id, e.channel_id, e.event_type, e.origin, e.suborigin, e.gender, e.age_range)


def attribute_problems(
    index: int, attributes: Attributes, triggers: Mapping[str, TriggerInfo], out: Collector
) -> bool:
    """Check everything but the numbers and the time; True when a problem was found."""
    before = len(out.problems)
    e = _Attributes(*attributes)
    _trigger_problems(index, e, triggers, out)
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


def _trigger_problems(
    index: int, e: _Attributes, triggers: Mapping[str, TriggerInfo], out: Collector
) -> None:
    trigger = triggers.get(e.trigger_id)
    if trigger is None:
        out.add(
            index,
            "trigger_id",
            f"unknown trigger {e.trigger_id!r}: declare it with PUT /ingest/v1/config",
        )
        return
    if trigger.channel_id != e.channel_id:
        out.add(
            index,
            "channel_id",
            f"trigger {e.trigger_id!r} belongs to channel {trigger.channel_id!r}, "
            f"not {e.channel_id!r}",
        )
    by_type = v.EVENT_TYPES_BY_TRIGGER_TYPE
    if e.event_type not in by_type[trigger.type]:
        expected = ", ".join(sorted(by_type[trigger.type]))
        out.add(
            index,
            "event_type",
            f"{e.event_type!r} is not an event of {trigger.type} trigger "
            f"{e.trigger_id!r} (expected one of {expected})",
        )

"""The values of an events batch (docs/api.md, The ingest API): what an agent sends
(`EventIn`), what is stored (`EventRow`), what is wrong with it (`Problem`, `BodyError`)
and the limits every batch is held to.

Invariant: an `EventRow` holds exactly the fields of its `EventIn` (the time as epoch
milliseconds) in the order of `EVENT_ROW_FIELDS`, which the store's statements follow;
a `Collector` never holds more than `MAX_PROBLEMS` problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

import msgspec

__all__ = [
    "EVENT_ROW_FIELDS",
    "FUTURE_TOLERANCE_MS",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_BATCH_EVENTS",
    "MAX_BODY_BYTES",
    "MAX_PROBLEMS",
    "MS_PER_DAY",
    "TOO_DEEP",
    "BodyError",
    "Collector",
    "EventIn",
    "EventRow",
    "Problem",
    "TriggerInfo",
    "check_batch_size",
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


# (location_id, record_id, event_type, trigger_id, channel_id, object_id, origin,
#  suborigin, age_range, gender, snapshot_id, event_time_ms)
EventRow = tuple[int, int, str, str, str, int, str, str, str, str, int, int]
# The `EventIn` fields of an EventRow between its location and its time, in row order.
EVENT_ROW_FIELDS: Final = (
    "record_id",
    "event_type",
    "trigger_id",
    "channel_id",
    "object_id",
    "origin",
    "suborigin",
    "age_range",
    "gender",
    "snapshot_id",
)


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


@dataclass
class Collector:
    """The problems found so far, at most MAX_PROBLEMS of them."""

    problems: list[Problem]

    def add(self, index: int, field: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(index, field, message))

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS


def check_batch_size(count: int) -> None:
    if count > MAX_BATCH_EVENTS:
        raise BodyError(
            f"the batch has {count} events; at most {MAX_BATCH_EVENTS} are accepted per "
            "request: split it",
            too_large=True,
        )

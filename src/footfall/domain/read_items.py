"""The items the read API answers with and the bodies webhooks post: one typed definition
each, from which the answers are encoded and the OpenAPI document is generated.

Invariant: a Struct's field order is the JSON's key order (msgspec encodes fields in the
order they are declared), and the Camlytics v1 items keep exactly the order, names and
JSON types of the reference examples (docs/api.md, Result items). The `Meta` constraints
state what the server produces; the tests check real answers against them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final, Literal

import msgspec
from msgspec import Meta

from footfall.domain import vocabulary as v

__all__ = [
    "ITEMS",
    "WEBHOOKS",
    "Channel",
    "Coverage",
    "Event",
    "EventTotalByTrigger",
    "EventTotalByType",
    "Histogram",
    "Location",
    "Occupancy",
    "OccupancyPayload",
    "Queue",
    "QueuePayload",
    "RevisionPayload",
    "Trigger",
    "WebhookEvent",
]

_DIGITS = "[0-9]"
_OFFSET = f"[+-]{_DIGITS}{{2}}:{_DIGITS}{{2}}"
_DAY_TIME = f"{_DIGITS}{{4}}-{_DIGITS}{{2}}-{_DIGITS}{{2}}T{_DIGITS}{{2}}:{_DIGITS}{{2}}"

Id = Annotated[str, Meta(min_length=1, max_length=v.ID_MAX_LEN, description="An agent's id")]
Flag = Annotated[int, Meta(ge=0, le=1, description="1 or 0")]
Count = Annotated[int, Meta(ge=1)]
NonNegative = Annotated[int, Meta(ge=0)]
LocalMs = Annotated[
    str,
    Meta(
        pattern=f"^{_DAY_TIME}:{_DIGITS}{{2}}\\.{_DIGITS}{{3}}{_OFFSET}$",
        description="Local time at the location, with the offset in force at that instant",
    ),
]
LocalHour = Annotated[
    str,
    Meta(
        pattern=f"^{_DAY_TIME}:00{_OFFSET}$",
        description="The start of a local hour, with the offset in force then",
    ),
]
UtcMs = Annotated[
    str,
    Meta(
        pattern=f"^{_DIGITS}{{4}}-{_DIGITS}{{2}}-{_DIGITS}{{2}} "
        f"{_DIGITS}{{2}}:{_DIGITS}{{2}}:{_DIGITS}{{2}}\\.{_DIGITS}{{3}}$",
        description="UTC, as in the Camlytics webhook example",
    ),
]
if TYPE_CHECKING:  # the vocabulary's tables, as enums in the schema; plain text to mypy
    EventType = str
    Origin = str
    TriggerType = str
    Gender = str
else:
    EventType = Literal[tuple(sorted(v.EVENT_TYPES))]
    Origin = Literal[v.ORIGINS]
    TriggerType = Literal[v.TRIGGER_TYPES]
    Gender = Literal[v.GENDERS]


class _Item(msgspec.Struct, forbid_unknown_fields=True):
    """Every item is closed: a field beyond those listed is a contract change."""


class Location(_Item):
    name: str
    id: int
    version: Annotated[str, Meta(description="The agent's version; empty until it reports one")]
    timezone_offset: Annotated[
        str, Meta(pattern=f"^{_OFFSET}$", description="The zone's current UTC offset")
    ]
    hash: Annotated[str, Meta(description="Opaque and unique, not secret")]


class Channel(_Item):
    name: str
    paid: Flag
    active: Flag
    id: Id
    location_id: int


class Trigger(_Item):
    name: str
    active: Flag
    id: Id
    type: TriggerType
    channel_id: Id
    location_id: int


class Event(_Item):
    record_id: int
    event_type: EventType
    snapshot_id: int
    trigger_id: Id
    origin: Origin
    suborigin: str
    age_range: Annotated[str, Meta(max_length=v.AGE_RANGE_MAX_LEN)]
    gender: Gender
    id: int
    channel_id: Id
    object_id: int
    location_id: int
    event_time: LocalMs


class EventTotalByTrigger(_Item):
    trigger_name: str
    trigger_id: Id
    count: Count
    channel_id: Id
    location_id: int


class EventTotalByType(_Item):
    count: Count
    type: EventType
    channel_id: Id


class Histogram(_Item):
    trigger_id: Id
    id: int
    channel_id: Id
    counting_data: Annotated[
        list[Annotated[float, Meta(ge=0)]],
        Meta(description="Seconds of the hour with exactly k objects in the zone, k = index"),
    ]
    lifetime_data: Annotated[
        list[NonNegative],
        Meta(description="Stays that ended in the hour, by whole minutes, minutes = index"),
    ]
    location_id: int
    histogram_time: LocalHour


class Occupancy(_Item):
    """Footfall extension: a live occupancy counter."""

    id: int
    name: str
    location_id: int
    occupancy: NonNegative
    capacity: NonNegative | None
    time: LocalMs
    calibrated_at: Annotated[
        LocalMs | None,
        Meta(description="The operator's head count the value counts from, or null"),
    ]


class Queue(_Item):
    """Footfall extension: a live queue."""

    id: int
    name: str
    location_id: int
    length: NonNegative
    wait_time: Annotated[
        float, Meta(ge=0, description="Mean stay in seconds of those who left in 15 min")
    ]
    time: LocalMs


class Coverage(_Item):
    """Footfall extension: seconds a channel was watching, per local hour."""

    location_id: int
    channel_id: Id
    hour: LocalHour
    covered_seconds: NonNegative
    state: Literal["complete", "partial", "none"]


# -- webhook bodies (docs/api.md, Webhooks) ---------------------------------------------


class WebhookEvent(_Item):
    """One event of an `events` delivery (a body is an array of 1 to 100 of them)."""

    record_id: int
    event_type: EventType
    snapshot_id: int
    trigger_id: Id
    origin: Origin
    suborigin: str
    age_range: str
    gender: Gender
    id: None
    channel_id: Id
    object_id: int
    location_id: int
    event_time: UtcMs


class OccupancyPayload(_Item):
    occupancy_id: int
    name: str
    location_id: int
    occupancy: NonNegative
    capacity: NonNegative | None
    event_time: UtcMs


class QueuePayload(_Item):
    queue_id: int
    name: str
    location_id: int
    length: NonNegative
    wait_time: Annotated[float, Meta(ge=0)]
    event_time: UtcMs


class RevisionPayload(_Item):
    location_id: int
    trigger_id: Id
    hour: LocalHour
    kind: Literal["totals", "histogram"]
    revised_at: LocalMs


ITEMS: Final = (
    Location,
    Channel,
    Trigger,
    Event,
    EventTotalByTrigger,
    EventTotalByType,
    Histogram,
    Occupancy,
    Queue,
    Coverage,
)

# webhook kind -> (body type, summary)
WEBHOOKS: Final[dict[str, tuple[object, str]]] = {
    "events": (
        Annotated[list[WebhookEvent], Meta(min_length=1, max_length=100)],
        "New events, as in the Camlytics webhook example (id null, event_time in UTC)",
    ),
    "occupancy": (OccupancyPayload, "An occupancy counter changed (at most 1 per second)"),
    "queue": (QueuePayload, "A queue changed (at most 1 per second)"),
    "revisions": (RevisionPayload, "An hour's totals or histogram were revised (extension)"),
}

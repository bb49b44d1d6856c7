"""A request body into `EventIn` values, or every structural problem it has.

Invariant: the common case, a well-formed batch, is decoded by msgspec in one C pass;
only a batch msgspec rejects is walked field by field, so that every problem (a missing
field, a wrong JSON type) is named with its index and field, and the error path costs
nothing on the happy path. An item with a structural problem is None in the list, so
indexes stay those of the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec

from footfall.domain.ingest.batch import (
    TOO_DEEP,
    BodyError,
    Collector,
    EventIn,
    Problem,
    check_batch_size,
)

__all__ = ["decode_events", "json_kind"]

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
    items = _objects(body)
    collector = Collector([])
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


def _objects(body: bytes) -> list[dict[str, Any]]:
    """The body as a list of JSON objects (BodyError when it is not one)."""
    try:
        items = _GENERIC.decode(body)
    except msgspec.DecodeError as exc:  # msgspec may see the wrong shape before bad syntax
        raise BodyError(f"the body is not valid JSON ({exc})") from None
    except RecursionError:
        raise BodyError(TOO_DEEP) from None
    if not isinstance(items, list):
        raise BodyError(f"expected a JSON array of event objects, got a JSON {json_kind(items)}")
    check_batch_size(len(items))
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BodyError(
                f"expected a JSON array of event objects; item {index} is a JSON {json_kind(item)}"
            )
    return items


def _integral(value: object) -> bool:
    return type(value) is int or (type(value) is float and value.is_integer())


def _structural_problems(index: int, item: Mapping[str, Any], out: Collector) -> bool:
    found = False
    for field in _REQUIRED:
        if field not in item:
            out.add(index, field, "required field is missing")
            found = True
    for field in _INT_FIELDS:
        value = item.get(field)
        if field in item and not _integral(value):
            out.add(index, field, f"expected an integer, got {json_kind(value)} {value!r}")
            found = True
    for field in _STR_FIELDS:
        value = item.get(field)
        if field in item and not isinstance(value, str):
            out.add(index, field, f"expected a string, got {json_kind(value)} {value!r}")
            found = True
    return found


def json_kind(value: object) -> str:
    """The JSON type of a decoded value, as a message names it."""
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

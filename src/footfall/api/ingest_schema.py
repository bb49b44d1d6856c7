"""The ingest bodies' JSON Schemas: msgspec's schema of the Structs the ingest API decodes,
with the rules the ingest checks apply (docs/api.md, The ingest API) stated on each field.

Invariant: every constraint here is taken from the constant the check itself uses
(vocabulary, id and name lengths, the one instant grammar, batch sizes), never retyped.
Rules no JSON Schema can state are said in the descriptions: ids declared by
`PUT /ingest/v1/config` (else 422), ids unique within a declaration, event times at most
10 minutes ahead and within the retention period, printable text.
"""

from __future__ import annotations

from typing import Any, Final
from zoneinfo import available_timezones

import msgspec

from footfall.domain import vocabulary as v
from footfall.domain.agent_config import ConfigIn
from footfall.domain.heartbeats import MAX_HEARTBEATS, HeartbeatIn
from footfall.domain.ingest import INT64_MAX, INT64_MIN, EventIn
from footfall.domain.times import INSTANT_PATTERN

__all__ = ["INGEST_COMPONENTS"]

_REF: Final = "#/components/schemas/{name}"
_INT64: Final = {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX}
# An agent's id (docs/api.md: 1 to 64 characters without ','), control characters aside.
_ID: Final = {
    "type": "string",
    "minLength": 1,
    "maxLength": v.ID_MAX_LEN,
    "pattern": v.ID_PATTERN,
}
_INSTANT: Final = {
    "type": "string",
    "pattern": f"^{INSTANT_PATTERN}$",
    "description": "YYYY-MM-DDTHH:MM[:SS[.f]] with Z or ±HH:MM; at most 10 minutes ahead, "
    "not older than the retention period",
}
_NAME: Final = {"type": "string", "maxLength": 200, "pattern": "^[^\\x00]*$"}
_SUBORIGINS: Final = sorted({s for o in v.ORIGINS for s in v.allowed_suborigins(o)})
_ZONES: Final = sorted(available_timezones())
# The Struct's own defaults (the defaults follow the required fields).
_DEFAULTS: Final = dict(
    zip(
        EventIn.__struct_fields__[-len(EventIn.__struct_defaults__) :],
        EventIn.__struct_defaults__,
        strict=True,
    )
)
_DEFAULT_ORIGIN: Final = _DEFAULTS["origin"]


def _suborigin_rules() -> list[dict[str, Any]]:
    """`suborigin` by `origin`, as JSON Schema if/then (one rule per origin). An absent
    origin is the default one; an absent suborigin is "", so where "" is not allowed the
    suborigin is required."""
    rules = []
    for origin in v.ORIGINS:
        allowed = list(v.allowed_suborigins(origin))
        when: dict[str, Any] = {"properties": {"origin": {"const": origin}}}
        if origin != _DEFAULT_ORIGIN:
            when["required"] = ["origin"]
        then: dict[str, Any] = {"properties": {"suborigin": {"enum": allowed}}}
        if "" not in allowed:
            then["required"] = ["suborigin"]
        rules.append({"if": when, "then": then})
    return rules


_FIELDS: Final[dict[str, dict[str, dict[str, Any]]]] = {
    "EventIn": {
        "record_id": {**_INT64, "description": "The agent's id, unique per location"},
        "event_type": {"type": "string", "enum": sorted(v.EVENT_TYPES)},
        "trigger_id": {**_ID, "description": "A trigger the agent declared"},
        "channel_id": {**_ID, "description": "The trigger's channel"},
        "event_time": _INSTANT,
        "object_id": {**_INT64, "default": -1},
        "origin": {"type": "string", "enum": list(v.ORIGINS), "default": "Unknown"},
        "suborigin": {"type": "string", "enum": _SUBORIGINS, "default": ""},
        "age_range": {
            "type": "string",
            "maxLength": v.AGE_RANGE_MAX_LEN,
            "pattern": v.TEXT_PATTERN,
            "default": "",
        },
        "gender": {"type": "string", "enum": list(v.GENDERS), "default": ""},
        "snapshot_id": {**_INT64, "default": 0},
    },
    "ConfigIn": {
        "version": {"type": "string", "maxLength": 64, "pattern": v.TEXT_PATTERN, "default": ""},
        "timezone": {
            "anyOf": [
                {"type": "string", "enum": _ZONES},
                {"type": "string", "pattern": "^[+-](0[0-9]|1[0-4]):[0-5][0-9]$"},
                {"type": "null"},
            ],
            "description": "An IANA zone name or a fixed ±HH:MM offset; null keeps the zone",
        },
    },
    "ChannelIn": {
        "id": {**_ID, "description": "Unique within the declaration"},
        "name": {"anyOf": [_NAME, {"type": "null"}]},
        "paid": {"type": "integer", "enum": [0, 1], "default": 0},
    },
    "TriggerIn": {
        "id": {**_ID, "description": "Unique within the location"},
        "type": {"type": "string", "enum": list(v.TRIGGER_TYPES)},
        "name": {"anyOf": [_NAME, {"type": "null"}]},
    },
    "ChannelBeat": {
        "id": {**_ID, "description": "A channel the agent declared"},
        "at": _INSTANT,
    },
}


def _components() -> dict[str, Any]:
    _bodies, components = msgspec.json.schema_components(
        [list[EventIn], ConfigIn, HeartbeatIn], ref_template=_REF
    )
    for name, fields in _FIELDS.items():
        properties = components[name]["properties"]
        for field, schema in fields.items():
            assert field in properties, (name, field)  # the Struct and the rules agree
            properties[field] = schema
    components["EventIn"]["allOf"] = _suborigin_rules()
    components["HeartbeatIn"]["properties"]["channels"]["maxItems"] = MAX_HEARTBEATS
    return components


INGEST_COMPONENTS: Final = _components()

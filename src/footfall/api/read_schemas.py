"""OpenAPI descriptions of the read API: items, parameters, the envelope, the errors.

Written out by hand because the answers are encoded by msgspec straight from dicts; the
test suite checks real answers against these schemas (schemathesis) and against the
reference document's examples.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["ITEM_SCHEMAS", "PARAMETERS", "responses"]

_INT = {"type": "integer"}
_STR = {"type": "string"}
_FLAG = {"type": "integer", "enum": [0, 1]}
_LOCAL_MS = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$",
    "description": "Local time at the location, with the offset in force at that instant",
}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


ITEM_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "Location": _object(
        {
            "name": _STR,
            "id": _INT,
            "version": _STR,
            "timezone_offset": {"type": "string", "pattern": r"^[+-]\d{2}:\d{2}$"},
            "hash": _STR,
        }
    ),
    "Channel": _object(
        {"name": _STR, "paid": _FLAG, "active": _FLAG, "id": _STR, "location_id": _INT}
    ),
    "Trigger": _object(
        {
            "name": _STR,
            "active": _FLAG,
            "id": _STR,
            "type": {"type": "string", "enum": ["Line", "Zone", "Scene"]},
            "channel_id": _STR,
            "location_id": _INT,
        }
    ),
    "Event": _object(
        {
            "record_id": _INT,
            "event_type": _STR,
            "snapshot_id": _INT,
            "trigger_id": _STR,
            "origin": _STR,
            "suborigin": _STR,
            "age_range": _STR,
            "gender": _STR,
            "id": _INT,
            "channel_id": _STR,
            "object_id": _INT,
            "location_id": _INT,
            "event_time": _LOCAL_MS,
        }
    ),
    "EventTotalByTrigger": _object(
        {
            "trigger_name": _STR,
            "trigger_id": _STR,
            "count": {"type": "integer", "minimum": 1},
            "channel_id": _STR,
            "location_id": _INT,
        }
    ),
    "EventTotalByType": _object(
        {"count": {"type": "integer", "minimum": 1}, "type": _STR, "channel_id": _STR}
    ),
    "Histogram": _object(
        {
            "trigger_id": _STR,
            "id": _INT,
            "channel_id": _STR,
            "counting_data": {"type": "array", "items": {"type": "number"}},
            "lifetime_data": {"type": "array", "items": _INT},
            "location_id": _INT,
            "histogram_time": {
                "type": "string",
                "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$",
            },
        }
    ),
    "Occupancy": _object(
        {
            "id": _INT,
            "name": _STR,
            "location_id": _INT,
            "occupancy": {"type": "integer", "minimum": 0},
            "capacity": {"type": ["integer", "null"]},
            "time": _LOCAL_MS,
            "calibrated_at": {
                "anyOf": [_LOCAL_MS, {"type": "null"}],
                "description": "Footfall extension: the operator's head count the value "
                "counts from (footfall occupancy calibrate); null when none",
            },
        }
    ),
    "Coverage": _object(
        {
            "location_id": _INT,
            "channel_id": _STR,
            "hour": {
                "type": "string",
                "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$",
                "description": "The local hour's start, like histogram_time",
            },
            "covered_seconds": {"type": "integer", "minimum": 0},
            "state": {"type": "string", "enum": ["complete", "partial", "none"]},
        }
    ),
    "Queue": _object(
        {
            "id": _INT,
            "name": _STR,
            "location_id": _INT,
            "length": {"type": "integer", "minimum": 0},
            "wait_time": {"type": "number", "minimum": 0},
            "time": _LOCAL_MS,
        }
    ),
}


def _envelope(result: dict[str, Any]) -> dict[str, Any]:
    return _object({"msg": _STR, "result": result, "code": _INT})


_ERROR = _envelope({"type": "array", "maxItems": 0})


def responses(item: str) -> dict[int | str, dict[str, Any]]:
    def error(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": _ERROR}}}

    return {
        200: {
            "description": f"A list of {item} items",
            "content": {
                "application/json": {
                    "schema": _envelope(
                        {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}
                    )
                }
            },
        },
        400: error("Code 4: a query parameter is malformed; the message names it"),
        401: error("Code 1: X-Key missing or unknown; 2: X-Sign wrong; 3: nonce not increasing"),
        404: error("Code 5: location_id is not a location of this key's account"),
        429: {
            **error("Code 6: throttled; wait Retry-After seconds"),
            "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
        },
        500: error("Code 7: internal error"),
    }


_LIST = r"^[^,]+(,[^,]+)*$"
_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{3})?)?(Z|[+ -]\d{2}:\d{2})$"


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


PARAMETERS: Final[dict[str, dict[str, Any]]] = {
    "nonce": _query(
        "nonce",
        "An integer greater than the last one this key used (a timestamp in ms works)",
        {"type": "string", "pattern": r"^[0-9]{1,19}$"},
        required=True,
    ),
    "location_id": _query(
        "location_id",
        "One location id or a comma-separated list",
        {"type": "string", "pattern": r"^[0-9]+(,[0-9]+)*$"},
    ),
    "channel_id": _query(
        "channel_id",
        "One channel id or a comma-separated list",
        {"type": "string", "pattern": _LIST},
    ),
    "trigger_id": _query(
        "trigger_id",
        "One trigger id or a comma-separated list",
        {"type": "string", "pattern": _LIST},
    ),
    "event_type": _query(
        "event_type",
        "One event type or a comma-separated list",
        {"type": "string", "pattern": _LIST},
    ),
    "origin": _query(
        "origin",
        "Pedestrian, Vehicle, Face, Unknown, or a comma-separated list",
        {"type": "string", "pattern": _LIST},
    ),
    "since": _query(
        "since",
        "Inclusive start: YYYY-MM-DDTHH:MM[:SS[.fff]] with Z or ±HH:MM",
        {"type": "string", "pattern": _INSTANT},
    ),
    "until": _query(
        "until", "Exclusive end, same form as since", {"type": "string", "pattern": _INSTANT}
    ),
    "updated_since": _query(
        "updated_since",
        "Footfall extension: only items recomputed at or after this instant (same form as "
        "since); see the revisions webhook",
        {"type": "string", "pattern": _INSTANT},
    ),
    "after_id": _query(
        "after_id",
        "Only items with a greater id (paging)",
        {"type": "string", "pattern": r"^[0-9]{1,19}$"},
    ),
    "limit": _query(
        "limit",
        "At most this many items (1 to 10000, default 1000)",
        {"type": "string", "pattern": r"^[0-9]{1,5}$"},
    ),
}

SECURITY_SCHEMES: Final = {
    "XKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Key",
        "description": "The public API key (`footfall keys create`)",
    },
    "XSign": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Sign",
        "description": (
            "Lowercase hex HMAC-SHA512, keyed with the key's secret, of the request URI "
            "exactly as sent: path + '?' + raw query string"
        ),
    },
}

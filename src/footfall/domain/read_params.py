"""Query parameters of the read API (docs/api.md, Endpoints and parameters), parsed
strictly, each defined once in `PARAMETERS`.

Invariant: one `Param` holds a parameter's description, its JSON schema (published in the
OpenAPI document, shown by `footfall api --help`) and the parser the server applies; the
schema states exactly what the parser accepts. Every parser raises `ParamError` naming
the parameter and the expected form; the API answers it with code 4. Lists are
comma-separated (OpenAPI `style: form, explode: false`), integers decimal, and
`since`/`until` `YYYY-MM-DDTHH:MM[:SS[.f]]` (1 to 9 fraction digits) + `Z`/`±HH:MM` (a
space where the sign belongs is a `+` that URL decoding turned into a space).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from footfall.domain import vocabulary as v
from footfall.domain.times import QUERY_INSTANT_PATTERN, InstantError, parse_instant

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_NONCE",
    "NONCE",
    "PARAMETERS",
    "Param",
    "ParamError",
    "Params",
    "parse_instant_param",
    "parse_nonce",
]

MAX_NONCE: Final = 2**63 - 1
MAX_ID: Final = 2**63 - 1
MAX_LIMIT: Final = 10_000
DEFAULT_LIMIT: Final = 1000
# Ids as a declaration takes them (docs/api.md): a query naming another matches nothing.
_ID = re.compile(v.ID_PATTERN)
_INSTANT_SCHEMA: Final = {
    "type": "string",
    "pattern": f"^{QUERY_INSTANT_PATTERN}$",
    "examples": ["2026-11-24T09:00:00-05:00", "2026-11-24T14:00Z"],
}


class ParamError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"parameter {name!r}: {message}")
        self.name = name


def parse_instant_param(name: str, text: str) -> int:
    """Epoch ms of a `since`/`until` value (the one instant parser, `times.parse_instant`).

    A space where the offset's sign belongs is a `+` that URL decoding turned into one.
    """
    if len(text) > 6 and text[-6] == " ":
        text = f"{text[:-6]}+{text[-5:]}"
    try:
        return parse_instant(text)
    except InstantError as exc:
        raise ParamError(name, str(exc)) from None


def _digits(name: str, text: str, low: int, high: int) -> int:
    if not text.isascii() or not text.isdigit():
        raise ParamError(name, f"{text!r} is not a decimal integer")
    value = int(text)
    if not low <= value <= high:
        raise ParamError(name, f"{value} is out of range (expected {low} to {high})")
    return value


def parse_nonce(text: str | None) -> int | None:
    """The nonce, or None when it is missing or malformed (a code-3 error, not code 4)."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_NONCE else None


def _list(name: str, text: str) -> tuple[str, ...]:
    items = tuple(text.split(","))
    if any(item == "" for item in items):
        raise ParamError(name, f"{text!r}: expected one value or a comma-separated list")
    return items


def _ids(name: str, text: str) -> tuple[str, ...]:
    items = _list(name, text)
    for item in items:
        if len(item) > v.ID_MAX_LEN or _ID.match(item) is None:
            raise ParamError(
                name,
                f"{item[:80]!r}: ids are 1 to {v.ID_MAX_LEN} characters without ',' or "
                "control characters",
            )
    return items


def _vocabulary(name: str, text: str, allowed: Sequence[str]) -> tuple[str, ...]:
    items = _list(name, text)
    for item in items:
        if item not in allowed:
            raise ParamError(name, f"{item!r} is not one of {', '.join(sorted(allowed))}")
    return items


def _location_ids(name: str, text: str) -> tuple[int, ...]:
    return tuple(_digits(name, item, 1, MAX_ID) for item in _list(name, text))


@dataclass(frozen=True)
class Param:
    """One query parameter: what it means, its OpenAPI schema, and how it is read."""

    name: str
    field: str  # the attribute of `Params` it sets
    description: str
    schema: dict[str, Any]
    parse: Callable[[str, str], object]
    example: str

    @property
    def is_list(self) -> bool:
        return self.schema.get("type") == "array"


def _list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": 1}


_EVENT_TYPES: Final = sorted(v.EVENT_TYPES)

PARAMETERS: Final[dict[str, Param]] = {
    p.name: p
    for p in (
        Param(
            "location_id",
            "location_ids",
            "One location id or a comma-separated list (only the key's account's)",
            _list_of({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
            _location_ids,
            "1",
        ),
        Param(
            "channel_id",
            "channel_ids",
            "One channel id or a comma-separated list",
            _list_of(
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": v.ID_MAX_LEN,
                    "pattern": v.ID_PATTERN,
                }
            ),
            _ids,
            "cam-1",
        ),
        Param(
            "trigger_id",
            "trigger_ids",
            "One trigger id or a comma-separated list",
            _list_of(
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": v.ID_MAX_LEN,
                    "pattern": v.ID_PATTERN,
                }
            ),
            _ids,
            "t-enter",
        ),
        Param(
            "event_type",
            "event_types",
            "One event type or a comma-separated list",
            _list_of({"type": "string", "enum": _EVENT_TYPES}),
            lambda name, text: _vocabulary(name, text, _EVENT_TYPES),
            "TripwireCrossed",
        ),
        Param(
            "origin",
            "origins",
            "One origin or a comma-separated list",
            _list_of({"type": "string", "enum": list(v.ORIGINS)}),
            lambda name, text: _vocabulary(name, text, v.ORIGINS),
            "Pedestrian",
        ),
        Param(
            "since",
            "since",
            "Inclusive start: YYYY-MM-DDTHH:MM[:SS[.f]] (1 to 9 fraction digits, read to "
            "the millisecond) followed by Z or ±HH:MM",
            _INSTANT_SCHEMA,
            parse_instant_param,
            "2026-11-24T00:00Z",
        ),
        Param(
            "until",
            "until",
            "Exclusive end, same form as since",
            _INSTANT_SCHEMA,
            parse_instant_param,
            "2026-11-25T00:00Z",
        ),
        Param(
            "updated_since",
            "updated_since",
            "Footfall extension: only items recomputed at or after this instant (same form "
            "as since); see the revisions webhook",
            _INSTANT_SCHEMA,
            parse_instant_param,
            "2026-11-25T10:00Z",
        ),
        Param(
            "after_id",
            "after_id",
            "Only items with a greater id (paging: the last id of the previous page)",
            {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            lambda name, text: _digits(name, text, 0, MAX_ID),
            "0",
        ),
        Param(
            "limit",
            "limit",
            f"At most this many items (1 to {MAX_LIMIT}, default {DEFAULT_LIMIT})",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            lambda name, text: _digits(name, text, 1, MAX_LIMIT),
            "100",
        ),
    )
}


def _nonce(name: str, text: str) -> int:
    nonce = parse_nonce(text)
    if nonce is None:
        raise ParamError(name, f"{text[:80]!r} is not an integer from 1 to 2^63-1")
    return nonce


# Read by the authentication (code 3, not 4), before the endpoint's own parameters.
NONCE: Final = Param(
    "nonce",
    "nonce",
    "Required: an integer greater than the last nonce accepted for this key (each client "
    "its own key: one that sends seconds and one that sends microseconds cannot share one)",
    {"type": "integer", "minimum": 1, "maximum": MAX_NONCE},
    _nonce,
    "1",
)


@dataclass(frozen=True)
class Params:
    """The parameters a read request may carry; None means not given."""

    location_ids: tuple[int, ...] | None = None
    channel_ids: tuple[str, ...] | None = None
    trigger_ids: tuple[str, ...] | None = None
    event_types: tuple[str, ...] | None = None
    origins: tuple[str, ...] | None = None
    since: int | None = None
    until: int | None = None
    after_id: int = 0
    limit: int = DEFAULT_LIMIT
    # Extension (docs/api.md, Revisions): only items recomputed at or after this instant.
    updated_since: int | None = None

    @property
    def empty_range(self) -> bool:
        return self.since is not None and self.until is not None and self.since >= self.until

    @classmethod
    def parse(cls, query: Mapping[str, Sequence[str]], allowed: Collection[str]) -> Params:
        """Parse the parameters an endpoint takes; others are ignored, repeats refused.

        Parameters are read in the order of `PARAMETERS`, so the first one named in an
        error does not depend on the order of the query."""
        # Each value is what its own Param's parser returns, typed per field below; one
        # dict holds them all, so its values are Any.
        fields: dict[str, Any] = {}
        for param in PARAMETERS.values():
            if param.name not in allowed:
                continue
            given = query.get(param.name, ())
            if len(given) > 1:
                raise ParamError(param.name, "given more than once")
            if given:
                fields[param.field] = param.parse(param.name, given[0])
        return cls(**fields)

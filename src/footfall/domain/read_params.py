"""Query parameters of the read API (SPEC §4), parsed strictly.

Every function raises `ParamError` naming the parameter and the expected form; the API
answers it with code 4. Comma-separated lists, decimal-only integers, and `since`/`until`
as `YYYY-MM-DDTHH:MM[:SS[.f]]` (1 to 9 fraction digits) + `Z`/`±HH:MM` (a space where the
sign belongs is a `+` that URL decoding turned into a space).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from footfall.domain import vocabulary as v
from footfall.domain.times import InstantError, parse_instant

__all__ = [
    "MAX_LIMIT",
    "MAX_NONCE",
    "ParamError",
    "Params",
    "parse_instant_param",
    "parse_nonce",
]

MAX_NONCE: Final = 2**63 - 1
MAX_LIMIT: Final = 10_000
DEFAULT_LIMIT: Final = 1000


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
    if not text.isprintable():
        raise ParamError(name, f"{text!r}: ids are printable characters only")
    return items


def _vocabulary(name: str, text: str, allowed: Sequence[str]) -> tuple[str, ...]:
    items = _list(name, text)
    for item in items:
        if item not in allowed:
            raise ParamError(name, f"{item!r} is not one of {', '.join(sorted(allowed))}")
    return items


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
    # Extension (issue 17): only items recomputed at or after this instant.
    updated_since: int | None = None

    @property
    def empty_range(self) -> bool:
        return self.since is not None and self.until is not None and self.since >= self.until

    @classmethod
    def parse(cls, query: Mapping[str, Sequence[str]], allowed: frozenset[str]) -> Params:
        """Parse the parameters an endpoint takes; others are ignored, repeats refused."""
        values: dict[str, str] = {}
        for name in allowed:
            given = query.get(name, ())
            if len(given) > 1:
                raise ParamError(name, "given more than once")
            if given:
                values[name] = given[0]
        fields: dict[str, object] = {}
        if "location_id" in values:
            fields["location_ids"] = tuple(
                _digits("location_id", item, 1, 2**31 - 1)
                for item in _list("location_id", values["location_id"])
            )
        if "channel_id" in values:
            fields["channel_ids"] = _list("channel_id", values["channel_id"])
        if "trigger_id" in values:
            fields["trigger_ids"] = _list("trigger_id", values["trigger_id"])
        if "event_type" in values:
            fields["event_types"] = _vocabulary(
                "event_type", values["event_type"], sorted(v.EVENT_TYPES)
            )
        if "origin" in values:
            fields["origins"] = _vocabulary("origin", values["origin"], v.ORIGINS)
        for name in ("since", "until", "updated_since"):
            if name in values:
                fields[name] = parse_instant_param(name, values[name])
        if "after_id" in values:
            fields["after_id"] = _digits("after_id", values["after_id"], 0, MAX_NONCE)
        if "limit" in values:
            fields["limit"] = _digits("limit", values["limit"], 1, MAX_LIMIT)
        return cls(**fields)  # type: ignore[arg-type]
